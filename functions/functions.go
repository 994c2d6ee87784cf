// Package functions is the list of the API's endpoint groups: one Lambda
// function each, in functions/<group>, served by its handler package
// functions/<group>/<group>api. The Lambdas themselves do not link this
// package (each main starts only its own group); the local server, the
// event replay, the cold-start benchmark and the cross-checks do, so that
// adding a group means adding its package and one entry here. A test
// checks the list against template.yaml's functions and the directories
// of functions/.
package functions

import (
	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Groups are the endpoint groups, in template.yaml's order.
var Groups = []lambdafn.Group{
	{Function: "AppsProfileFunction", Setup: appsprofileapi.Setup, Sample: "events/appsprofile/get.json",
		Routes: func() []web.Route { return appsprofileapi.Routes(appsprofileapi.Deps{}).Routes() }},
	{Function: "FaqFunction", Setup: faqapi.Setup, Sample: "events/faq/list.json",
		Routes: func() []web.Route { return faqapi.Routes(faqapi.Deps{}).Routes() }},
	{Function: "PufDesignsFunction", Setup: pufdesignsapi.Setup, Sample: "events/pufdesigns/list.json",
		Routes: func() []web.Route { return pufdesignsapi.Routes(pufdesignsapi.Deps{}).Routes() }},
	{Function: "TermsFunction", Setup: termsapi.Setup, Sample: "events/terms/list-not-accepted.json",
		Routes: func() []web.Route { return termsapi.Routes(termsapi.Deps{}).Routes() }},
	{Function: "TokenFunction", Setup: tokenapi.Setup, Sample: "events/token/verify-refresh.json",
		Routes: func() []web.Route { return tokenapi.Routes(tokenapi.Deps{}).Routes() }},
	{Function: "UsersFunction", Setup: usersapi.Setup, Sample: "events/users/get-me.json",
		Routes: func() []web.Route { return usersapi.Routes(usersapi.Deps{}).Routes() }},
}

// Group returns the group served by the function of template.yaml with
// the logical id function.
func Group(function string) (lambdafn.Group, bool) {
	for _, g := range Groups {
		if g.Function == function {
			return g, true
		}
	}
	return lambdafn.Group{}, false
}
