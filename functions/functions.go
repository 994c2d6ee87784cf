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
	"github.com/pufinid/pufinid-api/functions/emailfeedback/feedback"
	"github.com/pufinid/pufinid-api/functions/faq/faqapi"
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
	"github.com/pufinid/pufinid-api/shared/web"
)

// Group is one endpoint group as the tools see it: the function of
// template.yaml that serves it, the Setup its main runs, and the routes
// its router registers.
type Group struct {
	// Function is the group's logical id in template.yaml.
	Function string
	// Setup is what the function's main passes to Start.
	Setup lambdafn.Setup
	// Routes lists the group's router (web.Router.Routes), for the checks
	// against template.yaml and the OpenAPI document.
	Routes func() []web.Route
	// Sample is a representative event of the group, under events/: a read
	// of the table, the kind of request a cold start usually meets.
	Sample string
}

// Groups are the endpoint groups, by logical id.
var Groups = []Group{
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

// EventFunction is a function of template.yaml outside the HTTP API,
// invoked with events of another AWS service: the Setup its main passes
// to lambdafn.StartEvents, and a sample event under events/.
type EventFunction struct {
	Function string
	Setup    lambdafn.EventSetup
	Sample   string
}

// EventFunctions are the functions outside the HTTP API, by logical id.
var EventFunctions = []EventFunction{
	{Function: "EmailFeedbackFunction", Setup: feedback.Setup, Sample: "events/emailfeedback/bounce-permanent.json"},
}

// LookupEvent returns the event function with the logical id function.
func LookupEvent(function string) (EventFunction, bool) {
	for _, f := range EventFunctions {
		if f.Function == function {
			return f, true
		}
	}
	return EventFunction{}, false
}

// EventSetups are the event functions' Setups by function, for the event
// replay.
func EventSetups() map[string]lambdafn.EventSetup {
	m := make(map[string]lambdafn.EventSetup, len(EventFunctions))
	for _, f := range EventFunctions {
		m[f.Function] = f.Setup
	}
	return m
}

// Lookup returns the group served by the function of template.yaml with
// the logical id function.
func Lookup(function string) (Group, bool) {
	for _, g := range Groups {
		if g.Function == function {
			return g, true
		}
	}
	return Group{}, false
}

// Setups are the groups' Setups by function, for the event replay.
func Setups() map[string]lambdafn.Setup {
	m := make(map[string]lambdafn.Setup, len(Groups))
	for _, g := range Groups {
		m[g.Function] = g.Setup
	}
	return m
}
