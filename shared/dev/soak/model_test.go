package soak

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func at(secs int) span {
	return span{t0.Add(time.Duration(secs) * time.Second), t0.Add(time.Duration(secs) * time.Second)}
}

func between(lo, hi int) span {
	return span{t0.Add(time.Duration(lo) * time.Second), t0.Add(time.Duration(hi) * time.Second)}
}

func TestLive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		deadline, now span
		want          tri
	}{
		{"before the deadline", at(10), at(9), yes},
		{"at the deadline it no longer works", at(10), at(10), no},
		{"after it", at(10), at(11), no},
		{"a now that straddles the deadline", at(10), between(9, 11), maybe},
		{"a now that ends at the deadline", at(10), between(8, 10), maybe},
		{"a deadline known within a span, now before all of it", between(10, 12), at(9), yes},
		{"now inside the deadline's span", between(10, 12), at(11), maybe},
		{"now at the end of the deadline's span", between(10, 12), at(12), no},
	}
	for _, tt := range tests {
		if got := live(tt.deadline, tt.now); got != tt.want {
			t.Errorf("%s: live = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMailLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		requests, sent  []int // seconds after t0
		now             span
		forbidden, owed bool
	}{
		{name: "nothing yet: owed", now: at(0), owed: true},
		{name: "sent 30 s ago", requests: []int{0}, sent: []int{0}, now: at(30), forbidden: true},
		{name: "sent 59 s ago", requests: []int{0}, sent: []int{0}, now: at(59), forbidden: true},
		{name: "sent 60 s ago: allowed and owed", requests: []int{0}, sent: []int{0}, now: at(60), owed: true},
		{name: "a request 30 s ago that sent nothing: not owed, not forbidden", requests: []int{0}, now: at(30)},
		{name: "a request that may be 60 s ago or not", requests: []int{0}, now: between(59, 61)},
		{name: "ten sent today", requests: []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900},
			sent: []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}, now: at(2000), forbidden: true},
		{name: "ten sent, the first 24 h ago: one is owed again", requests: []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900},
			sent: []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900}, now: at(86400), owed: true},
		{name: "ten requests today, nine sent: not owed", requests: []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900},
			sent: []int{0, 100, 200, 300, 400, 500, 600, 700, 800}, now: at(2000)},
	}
	for _, tt := range tests {
		m := &mailLog{}
		for _, r := range tt.requests {
			m.requests = append(m.requests, at(r))
		}
		for _, s := range tt.sent {
			m.sent = append(m.sent, at(s))
		}
		if got := m.forbidden(tt.now); got != tt.forbidden {
			t.Errorf("%s: forbidden = %v, want %v", tt.name, got, tt.forbidden)
		}
		if got := !m.forbidden(tt.now) && m.owed(tt.now); got != tt.owed {
			t.Errorf("%s: owed = %v, want %v", tt.name, got, tt.owed)
		}
	}
}

func TestThrottleAllowed(t *testing.T) {
	t.Parallel()
	u := &user{}
	for i := range 4 {
		u.checked(at(i), true)
	}
	if u.throttleAllowed(at(10)) {
		t.Error("4 failures allow a 429")
	}
	u.checked(at(10), true)
	if !u.throttleAllowed(at(11)) {
		t.Error("5 failures in the window do not allow a 429")
	}
	if !u.throttleAllowed(at(899)) || u.throttleAllowed(at(910)) {
		t.Error("the window is not 15 minutes from the failures")
	}
	v := &user{}
	for i := range loginAccountChecks {
		v.checked(at(i), false)
	}
	if !v.throttleAllowed(at(30)) {
		t.Error("20 checks do not allow a 429")
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	code := "ACME"
	ref, err := newReference(pufinid.Reference{
		Organizations: []pufinid.Organization{{ID: "demo", Name: "Demo"},
			{ID: "acme", Name: "ACME", Code: &code, Theme: json.RawMessage(`{"c":1}`), AccessTokenLifetime: 600}},
		Terms: []pufinid.Term{
			{Slug: "privacy", VersionNumber: 1, DateActive: t0.Add(-time.Hour)},
			{Slug: "privacy", VersionNumber: 2, DateActive: t0.Add(time.Hour)},
			{Slug: "tos", VersionNumber: 1, DateActive: t0.Add(-time.Hour)},
		},
		FAQTopics: []pufinid.FAQTopic{{ID: 2, SortOrder: 1}, {ID: 1, SortOrder: 1,
			Questions: []pufinid.FAQQuestion{{ID: 9, SortOrder: 2}, {ID: 3, SortOrder: 2}, {ID: 5, SortOrder: 0}}}},
		AppProfiles: []pufinid.AppProfileSet{{ClientID: "app",
			Base:   pufinid.AppProfile{Config: map[string]json.RawMessage{"a": json.RawMessage(`1`), "b": json.RawMessage(`{"x":1}`)}},
			Groups: map[string]pufinid.AppProfile{"g": {Config: map[string]json.RawMessage{"b": json.RawMessage(`{"y":2}`)}}},
			Codes:  map[string]pufinid.AppProfile{"q": {Actions: map[string]json.RawMessage{"z": json.RawMessage(`true`)}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ref.demo.id != "demo" || ref.byCode["ACME"].access != 600*time.Second || ref.byCode["ACME"].refresh != 86400*time.Second {
		t.Errorf("organizations: demo %+v, ACME %+v", ref.demo, ref.byCode["ACME"])
	}
	cur, certain := ref.current(at(0))
	if !certain || len(cur) != 2 || cur["privacy"].VersionNumber != 1 {
		t.Errorf("current terms now: %v (certain %v)", cur, certain)
	}
	if cur, _ := ref.current(at(3600)); cur["privacy"].VersionNumber != 2 {
		t.Errorf("privacy v2 is not current once its date_active has come: %v", cur)
	}
	if _, certain := ref.current(between(3500, 3700)); certain {
		t.Error("a now straddling a date_active is certain")
	}
	order := []float64{}
	for _, topic := range ref.topics {
		order = append(order, topic.(map[string]any)["id"].(float64))
	}
	qs := ref.topicID[1].(map[string]any)["questions"].([]any)
	if len(order) != 2 || order[0] != 1 || qs[0].(map[string]any)["id"] != 5.0 || qs[1].(map[string]any)["id"] != 3.0 {
		t.Errorf("FAQ order: topics %v, questions %v", order, qs)
	}
	if q := ref.topicID[2].(map[string]any)["questions"]; q == nil {
		t.Error("a topic without questions has null questions, want []")
	}
	got, _ := ref.appProfile("app", "g", "q")
	want := jsonValue(map[string]any{"config": map[string]any{"a": 1, "b": map[string]any{"y": 2}}, "actions": map[string]any{"z": true}})
	if !jsonEqual(got, want) {
		t.Errorf("overlays: %v, want %v", got, want)
	}
	if got, _ := ref.appProfile("app", "no-such-group", ""); !jsonEqual(got,
		jsonValue(map[string]any{"config": map[string]any{"a": 1, "b": map[string]any{"x": 1}}, "actions": map[string]any{}})) {
		t.Errorf("an unknown group adds an overlay: %v", got)
	}
	if _, ok := ref.appProfile("nobody", "", ""); ok {
		t.Error("an unknown client has a profile")
	}
}

func TestCaseVariants(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"ada@example.com", "Soak.x.c1@example.org", "ABC@EXAMPLE.COM"} {
		for _, v := range []string{caseVariant(s), swapCase(s)} {
			if v == s || canonical(v) != canonical(s) {
				t.Errorf("variant %q of %q", v, s)
			}
		}
	}
}

// The model states the contract's lifetimes itself; they must be the
// API's defaults, so that changing either side is a decision, not a slip.
func TestModelLifetimesAreTheContracts(t *testing.T) {
	t.Parallel()
	want := pufinid.Lifetimes{Access: defaultAccess, Refresh: defaultRefresh, ConfirmEmail: confirmLifetime, ResetPassword: resetLifetime}
	if pufinid.DefaultLifetimes != want {
		t.Errorf("the API's default lifetimes are %+v, the model's %+v", pufinid.DefaultLifetimes, want)
	}
}
