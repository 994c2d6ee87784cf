// Package pufinid holds the domain types of the PufinID API: organizations,
// terms, FAQ topics, PUF designs and apps profiles (reference data), and
// users. The JSON tags are the contract's response fields; the store package
// decides how each type is laid out in DynamoDB.
package pufinid

import (
	"encoding/json"
	"slices"
	"time"
)

// Organization is a tenant. The one whose Code is nil is the Demo
// organization that signups without a code join. Its token lifetimes are
// in seconds (see Lifetimes).
type Organization struct {
	ID                   string          `json:"id" dynamodbav:"id"`
	Name                 string          `json:"name" dynamodbav:"name"`
	Code                 *string         `json:"code" dynamodbav:"code"`
	Theme                json.RawMessage `json:"theme" dynamodbav:"theme"`
	AccessTokenLifetime  int             `json:"access_token_lifetime" dynamodbav:"access_token_lifetime"`
	RefreshTokenLifetime int             `json:"refresh_token_lifetime" dynamodbav:"refresh_token_lifetime"`
}

// Term is one version of a legal text users accept.
type Term struct {
	Name          string    `json:"name" dynamodbav:"name"`
	Slug          string    `json:"slug" dynamodbav:"slug"`
	VersionNumber int       `json:"version_number" dynamodbav:"version_number"`
	Text          string    `json:"text" dynamodbav:"text"`
	Info          string    `json:"info" dynamodbav:"info"`
	DateActive    time.Time `json:"date_active" dynamodbav:"date_active"`
}

// CurrentTerms returns, for each slug, the newest version whose date_active
// has passed at now, ordered by slug.
func CurrentTerms(all []Term, now time.Time) []Term {
	best := map[string]Term{}
	var order []string
	for _, t := range all {
		if t.DateActive.After(now) {
			continue
		}
		cur, seen := best[t.Slug]
		if !seen {
			order = append(order, t.Slug)
		}
		if !seen || t.VersionNumber > cur.VersionNumber {
			best[t.Slug] = t
		}
	}
	slices.Sort(order)
	out := make([]Term, 0, len(order))
	for _, s := range order {
		out = append(out, best[s])
	}
	return out
}

// FAQTopic is a group of questions.
type FAQTopic struct {
	ID        int           `json:"id" dynamodbav:"id"`
	Name      string        `json:"name" dynamodbav:"name"`
	SortOrder int           `json:"sort_order" dynamodbav:"sort_order"`
	Questions []FAQQuestion `json:"questions" dynamodbav:"questions"`
}

// FAQQuestion is one question of a topic.
type FAQQuestion struct {
	ID        int    `json:"id" dynamodbav:"id"`
	Question  string `json:"question" dynamodbav:"question"`
	Answer    string `json:"answer" dynamodbav:"answer"`
	SortOrder int    `json:"sort_order" dynamodbav:"sort_order"`
}

// PufDesign is a PUF design an organization offers.
type PufDesign struct {
	ID                 string `json:"id" dynamodbav:"id"`
	Name               string `json:"name" dynamodbav:"name"`
	Description        string `json:"description" dynamodbav:"description"`
	PufDesignType      string `json:"puf_design_type" dynamodbav:"puf_design_type"`
	Organization       string `json:"organization" dynamodbav:"organization"`
	PufDesignIconURL   string `json:"puf_design_icon_url" dynamodbav:"puf_design_icon_url"`
	AutoCaptureEnabled bool   `json:"auto_capture_enabled" dynamodbav:"auto_capture_enabled"`
}

// AppProfile is a client's configuration; group and QR-code overlays are
// stored beside it and merged at read time.
type AppProfile struct {
	Config  map[string]json.RawMessage `json:"config" dynamodbav:"config"`
	Actions map[string]json.RawMessage `json:"actions" dynamodbav:"actions"`
}

// Overlay returns p with every top-level key of o's config and actions
// replacing the same key of p's; p is not modified.
func (p AppProfile) Overlay(o AppProfile) AppProfile {
	return AppProfile{Config: overlay(p.Config, o.Config), Actions: overlay(p.Actions, o.Actions)}
}

func overlay(base, top map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}

// AppProfileSet is a client's profile with its group and QR-code overlays,
// as the fixture file gives them.
type AppProfileSet struct {
	ClientID string                `json:"client_id"`
	Base     AppProfile            `json:"-"`
	Groups   map[string]AppProfile `json:"groups"`
	Codes    map[string]AppProfile `json:"codes"`
}

// Reference is all reference data: what a fixture file holds.
type Reference struct {
	Organizations []Organization
	Terms         []Term
	FAQTopics     []FAQTopic
	PufDesigns    []PufDesign
	AppProfiles   []AppProfileSet
}
