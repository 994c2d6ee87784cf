package soak

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// reference is what the contract says the reference routes answer, worked
// out from the fixture the server loaded. It never changes during a run, so
// every client reads it without locking.
type reference struct {
	demo    *org
	byCode  map[string]*org
	orgs    []*org
	terms   []pufinid.Term
	topics  []any // FAQ topics in the contract's order, as JSON values
	topicID map[int]any
	designs map[string][]any // organization id -> its designs, as JSON values
	design  map[string]designRef
	apps    []pufinid.AppProfileSet
}

// org is an organization as users see it.
type org struct {
	id, name        string
	code            *string
	theme           any // JSON value; {} when the organization has none
	access, refresh time.Duration
}

type designRef struct {
	org  string
	json any
}

func newReference(ref pufinid.Reference) (*reference, error) {
	r := &reference{byCode: map[string]*org{}, topicID: map[int]any{},
		designs: map[string][]any{}, design: map[string]designRef{}, apps: ref.AppProfiles}
	for _, o := range ref.Organizations {
		m := &org{id: o.ID, name: o.Name, code: o.Code, theme: map[string]any{},
			access:  lifetime(o.AccessTokenLifetime, defaultAccess),
			refresh: lifetime(o.RefreshTokenLifetime, defaultRefresh)}
		if len(o.Theme) > 0 && string(o.Theme) != "null" {
			if err := json.Unmarshal(o.Theme, &m.theme); err != nil {
				return nil, fmt.Errorf("organization %s: theme: %w", o.ID, err)
			}
		}
		r.orgs = append(r.orgs, m)
		if o.Code == nil {
			r.demo = m
		} else {
			r.byCode[*o.Code] = m
		}
	}
	if r.demo == nil {
		return nil, errors.New("soak: the reference data has no Demo organization (code null)")
	}
	r.terms = ref.Terms

	// FAQ: topics, and each topic's questions, by sort_order then id.
	topics := slices.Clone(ref.FAQTopics)
	slices.SortFunc(topics, func(a, b pufinid.FAQTopic) int {
		return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.ID, b.ID))
	})
	for _, t := range topics {
		qs := append([]pufinid.FAQQuestion{}, t.Questions...) // [] rather than null when none
		slices.SortFunc(qs, func(a, b pufinid.FAQQuestion) int {
			return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.ID, b.ID))
		})
		t.Questions = qs
		v := jsonValue(t)
		r.topics = append(r.topics, v)
		r.topicID[t.ID] = v
	}
	for _, d := range ref.PufDesigns {
		v := jsonValue(d)
		r.designs[d.Organization] = append(r.designs[d.Organization], v)
		r.design[d.ID] = designRef{org: d.Organization, json: v}
	}
	return r, nil
}

// lifetime is a stored lifetime of secs seconds, or def where none is set.
func lifetime(secs int, def time.Duration) time.Duration {
	if secs <= 0 {
		return def
	}
	return time.Duration(secs) * time.Second
}

// current returns the current terms at now, by slug: the newest version
// of each slug whose date_active has passed. certain is false when a
// date_active falls inside now, so the server may have seen either set.
func (r *reference) current(now span) (terms map[string]pufinid.Term, certain bool) {
	at := func(t time.Time) map[string]pufinid.Term {
		out := map[string]pufinid.Term{}
		for _, v := range r.terms {
			if v.DateActive.After(t) {
				continue
			}
			if cur, ok := out[v.Slug]; !ok || v.VersionNumber > cur.VersionNumber {
				out[v.Slug] = v
			}
		}
		return out
	}
	lo, hi := at(now.lo), at(now.hi)
	return hi, maps.EqualFunc(lo, hi, func(a, b pufinid.Term) bool { return a.VersionNumber == b.VersionNumber })
}

// slugs are every slug of the fixture, current or not.
func (r *reference) slugs() []string {
	var out []string
	for _, t := range r.terms {
		if !slices.Contains(out, t.Slug) {
			out = append(out, t.Slug)
		}
	}
	return out
}

// appProfile is what GET /v1/apps-profile/ answers for client, group and
// code ("" for none): the client's profile, overlaid key by key by the
// group's, then by the code's; ok is false for an unknown client.
func (r *reference) appProfile(client, group, code string) (any, bool) {
	for _, p := range r.apps {
		if p.ClientID != client {
			continue
		}
		cfg, act := overlay(nil, p.Base.Config), overlay(nil, p.Base.Actions)
		for _, o := range []struct {
			set map[string]pufinid.AppProfile
			key string
		}{{p.Groups, group}, {p.Codes, code}} {
			if ov, ok := o.set[o.key]; ok && o.key != "" {
				cfg, act = overlay(cfg, ov.Config), overlay(act, ov.Actions)
			}
		}
		return jsonValue(map[string]any{"config": cfg, "actions": act}), true
	}
	return nil, false
}

// overlay is base with each top-level key of top replacing base's.
func overlay(base, top map[string]json.RawMessage) map[string]json.RawMessage {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]json.RawMessage{}
	}
	maps.Copy(out, top)
	return out
}

// jsonValue is v as decoded JSON (maps, slices, float64...), the form
// answers are compared in.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the reference's own types come here
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func jsonEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// termProblem says how got, a term of an answer, differs from want, or is "".
func termProblem(got any, want pufinid.Term) string {
	m, ok := got.(map[string]any)
	if !ok {
		return fmt.Sprintf("term %v is not an object", got)
	}
	w := jsonValue(want).(map[string]any)
	for k, wv := range w {
		if k == "date_active" {
			s, _ := m[k].(string)
			at, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || !at.Equal(want.DateActive) {
				return fmt.Sprintf("term %s: date_active %v, want %s", want.Slug, m[k], want.DateActive.Format(time.RFC3339))
			}
			continue
		}
		if !jsonEqual(m[k], wv) {
			return fmt.Sprintf("term %s: %s is %v, want %v", want.Slug, k, m[k], wv)
		}
	}
	return ""
}
