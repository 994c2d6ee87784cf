package ddbmeter_test

import (
	"context"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// TestMeterCountsTheStoresCalls meters real calls of the store to the
// embedded DynamoDB: a page of FAQ topics is one Query of its position
// items, and a topic one GetItem, each eventually consistent.
func TestMeterCountsTheStoresCalls(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	var topics []pufinid.FAQTopic
	for i := 1; i <= 5; i++ {
		topics = append(topics, pufinid.FAQTopic{ID: i, Name: "Topic", SortOrder: i})
	}
	env.Load(pufinid.Reference{FAQTopics: topics})
	ctx := context.Background()
	if _, _, err := env.Store.FAQTopicsPage(ctx, 0, 1); err != nil { // reads the reference pointer once
		t.Fatal(err)
	}

	before := env.Meter.Snapshot()
	got, count, err := env.Store.FAQTopicsPage(ctx, 1, 3)
	if err != nil || len(got) != 3 || count != 5 {
		t.Fatalf("page: %d topics of %d, %v", len(got), count, err)
	}
	used := env.Meter.Snapshot().Sub(before)
	if !env.RequestsMatch(used.Requests, 1) || (env.Faults == nil && (used.Items != 3 || used.ReadUnits != 0.5)) {
		t.Errorf("a page of 3: %+v; want 1 request, 3 items, 0.5 read units", used)
	}

	before = env.Meter.Snapshot()
	if _, err := env.Store.FAQTopic(ctx, 4); err != nil {
		t.Fatal(err)
	}
	used = env.Meter.Snapshot().Sub(before)
	if !env.RequestsMatch(used.Requests, 1) || (env.Faults == nil && (used.Items != 1 || used.ReadUnits != 0.5)) {
		t.Errorf("one topic: %+v; want 1 request, 1 item, 0.5 read units", used)
	}
	if env.Requests.Load() != env.Meter.Requests.Load() {
		t.Errorf("Env.Requests %d is not the meter's %d", env.Requests.Load(), env.Meter.Requests.Load())
	}
}
