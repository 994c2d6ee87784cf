package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

var tableSeq atomic.Int64

// world is a fresh table name on the embedded DynamoDB, with the getenv a
// seed run against it sees.
type world struct {
	table, endpoint string
}

func newWorld(t *testing.T) world {
	t.Helper()
	return world{table: fmt.Sprintf("seed-test-%d", tableSeq.Add(1)), endpoint: apitest.DB(t).URL}
}

func (w world) getenv(name string) string {
	switch name {
	case "TABLE_NAME":
		return w.table
	case "DYNAMODB_ENDPOINT":
		return w.endpoint
	}
	return ""
}

// store opens the world's table, creating it when create is set.
func (w world) store(t *testing.T, create bool) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Table: w.table, Endpoint: w.endpoint, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if create {
		if err := st.CreateTable(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func (w world) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, w.getenv, &out)
	return out.String(), err
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const smallFixture = `{
  "organizations": [{"id": "0c7d8f0e-5c7b-4c43-9a3f-3f3b8a9d2e11", "name": "Solo", "code": null}],
  "faq_topics": [{"id": 7, "name": "Only topic", "questions": [{"id": 1, "question": "Q?", "answer": "A."}]}]
}`

func TestSeedLoadsTheDemoFixtureIntoANewTable(t *testing.T) {
	w := newWorld(t)
	out, err := w.run(t, "-create-table")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("loaded the demo fixture into table %s at %s: 2 organizations, 4 term versions, 4 FAQ topics, 3 PUF designs, 1 apps profiles\n", w.table, w.endpoint)
	if out != want {
		t.Errorf("output %q\nwant   %q", out, want)
	}
	st := w.store(t, false)
	ctx := context.Background()
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	org, err := st.OrganizationByCode(ctx, nil)
	if err != nil || org.ID != demo.Organizations[0].ID {
		t.Errorf("Demo organization: %+v, %v", org, err)
	}
	terms, err := st.Terms(ctx)
	if err != nil || len(terms) != len(demo.Terms) {
		t.Errorf("%d term versions (%v), want %d", len(terms), err, len(demo.Terms))
	}
	topics, err := st.FAQTopics(ctx)
	if err != nil || len(topics) != len(demo.FAQTopics) {
		t.Errorf("%d topics (%v), want %d", len(topics), err, len(demo.FAQTopics))
	}
	if _, err := st.AppProfile(ctx, demo.AppProfiles[0].ClientID, "", ""); err != nil {
		t.Errorf("apps profile: %v", err)
	}
}

func TestSeedLoadsAFileTwiceToTheSameResult(t *testing.T) {
	w := newWorld(t)
	path := writeFile(t, smallFixture)
	first, err := w.run(t, "-create-table", "-fixtures", path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.run(t, "-fixtures", path)
	if err != nil {
		t.Fatal(err)
	}
	if first != second || !strings.Contains(first, "loaded "+path+" into table "+w.table) {
		t.Errorf("outputs %q then %q", first, second)
	}
	topics, err := w.store(t, false).FAQTopics(context.Background())
	if err != nil || len(topics) != 1 || topics[0].ID != 7 || len(topics[0].Questions) != 1 {
		t.Errorf("topics after two loads: %+v, %v", topics, err)
	}
}

func TestSeedRefusesABadFileAndWritesNothing(t *testing.T) {
	w := newWorld(t)
	st := w.store(t, true)
	// Everything is valid except the last topic's question.
	bad := strings.Replace(smallFixture, `"answer": "A."`, `"answer": ""`, 1)
	path := writeFile(t, bad)
	_, err := w.run(t, "-fixtures", path)
	if err == nil || !strings.Contains(err.Error(), `faq_topics[0] (id 7) questions[0] (id 1) answer: must not be empty`) ||
		!strings.HasPrefix(err.Error(), path+": invalid fixture") {
		t.Fatalf("got %v", err)
	}
	ctx := context.Background()
	if _, err := st.OrganizationByCode(ctx, nil); !apierror.Is(err, apierror.NotFound) {
		t.Errorf("the valid organization was written: %v", err)
	}
	if topics, err := st.FAQTopics(ctx); err != nil || len(topics) != 0 {
		t.Errorf("topics written: %+v, %v", topics, err)
	}
}

func TestSeedFailsClearly(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"no table name", func(string) string { return "" }, nil, "TABLE_NAME is not set"},
		{"missing file", w.getenv, []string{"-fixtures", filepath.Join(t.TempDir(), "nope.json")}, "no such file"},
		{"unknown flag", w.getenv, []string{"-fixture", "x.json"}, "flag provided but not defined: -fixture"},
		{"stray argument", w.getenv, []string{"demo.json"}, `unexpected arguments ["demo.json"]`},
		{"table that does not exist", w.getenv, nil, "load the demo fixture into " + w.table},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, tc.getenv, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSeedDuringOutageIsUnavailable(t *testing.T) {
	w := newWorld(t)
	w.store(t, true)
	db := apitest.DB(t)
	db.FailTable(w.table)
	defer db.RecoverTable(w.table)
	_, err := w.run(t)
	if !apierror.Is(err, apierror.Unavailable) {
		t.Fatalf("got %v, want unavailable", err)
	}
}

func TestSeedHelpIsNotAnError(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "-create-table") || !strings.Contains(out.String(), "-fixtures file") {
		t.Errorf("usage %q", out.String())
	}
}

// -migrate-email-claims runs the store's migration on the table and says
// what it did (the migration itself is tested in shared/store).
func TestSeedMigratesEmailClaims(t *testing.T) {
	w := newWorld(t)
	st := w.store(t, true)
	if err := st.CreateUser(context.Background(), pufinid.User{ID: "u1", Email: "ada@example.com", PasswordHash: "h"}, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out, err := w.run(t, "-migrate-email-claims")
		want := fmt.Sprintf("table %s: 1 email claims, 0 moved to their canonical key, 0 left because another account holds it []\n", w.table)
		if err != nil || out != want {
			t.Fatalf("output %q, %v\nwant   %q", out, err, want)
		}
	}
}
