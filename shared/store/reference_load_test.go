package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbmeter"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

func mustItems(t *testing.T, st *store.Store) []string {
	t.Helper()
	items, err := st.Items(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func mustSave(t *testing.T, st *store.Store, ref pufinid.Reference) {
	t.Helper()
	if err := st.SaveReference(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
}

// perVersion is what one version of the demo fixture stores: its 17
// items (2 organizations, 4 term versions, 4 topics, 3 designs, the apps
// profile's base, its two group items and one QR-code item), 7 position
// items (4 topics, 3 designs), 3 list lengths (the FAQ's and each
// organization's designs) and the version's manifest. The pointer is one
// more item, for all versions.
const perVersion = 28

// currentVersion is the version the pointer names, among items.
func currentVersion(t *testing.T, items []string) string {
	t.Helper()
	for _, it := range items {
		if strings.Contains(it, `"sk":"CURRENT"`) {
			var p struct{ Version string }
			if err := json.Unmarshal([]byte(it), &p); err != nil {
				t.Fatal(err)
			}
			return p.Version
		}
	}
	t.Fatal("no reference pointer in the table")
	return ""
}

// ofVersion are the items of version v (its own keys, and its manifest),
// with the version taken out so that two versions' items compare.
func ofVersion(items []string, v string) []string {
	var out []string
	for _, it := range items {
		if strings.Contains(it, `"REF#`+v+`#`) || strings.Contains(it, `"VERSION#`+v+`"`) {
			out = append(out, strings.ReplaceAll(it, v, "<v>"))
		}
	}
	slices.Sort(out)
	return out
}

func TestSaveReferenceSnapshots(t *testing.T) {
	t.Parallel()
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	const demoOrg = "a499459d-d34e-4d7e-9836-8effc6707572"
	ctx := context.Background()

	t.Run("saving the same data twice changes no item", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		mustSave(t, env.Store, demo)
		first := mustItems(t, env.Store)
		mustSave(t, env.Store, demo)
		second := mustItems(t, env.Store)
		if len(first) != perVersion+1 || !slices.Equal(first, second) {
			t.Errorf("%d items, then:\n%s", len(first), strings.Join(second, "\n"))
		}
	})

	t.Run("an edit is a new version, and the old one goes after its grace", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		mustSave(t, env.Store, demo)
		first := mustItems(t, env.Store)
		v1 := currentVersion(t, first)
		edited := demo
		edited.Terms = slices.Clone(demo.Terms)
		edited.Terms[0].Text = "Edited text."
		mustSave(t, env.Store, edited)
		second := mustItems(t, env.Store)
		v2 := currentVersion(t, second)
		if v1 == v2 {
			t.Fatal("the edit kept the version")
		}
		old, cur := ofVersion(first, v1), ofVersion(second, v2)
		if len(cur) != perVersion || len(old) != perVersion {
			t.Fatalf("%d items in the new version, %d in the old, want %d", len(cur), len(old), perVersion)
		}
		changed := 0
		for i := range old {
			if old[i] != cur[i] && !strings.Contains(old[i], `"sk":"VERSION#`) {
				changed++
				if !strings.Contains(cur[i], "Edited text.") {
					t.Errorf("unexpected change: %s", cur[i])
				}
			}
		}
		if changed != 1 {
			t.Errorf("%d items changed, want 1", changed)
		}
		// Still within its grace, the old version is whole: instances
		// holding the old pointer read it.
		if got := ofVersion(second, v1); len(got) != perVersion {
			t.Errorf("the replaced version has %d items within its grace, want %d", len(got), perVersion)
		}
		env.Clock.Advance(11 * time.Minute)
		mustSave(t, env.Store, edited) // the same data: only the clean-up
		third := mustItems(t, env.Store)
		if len(third) != perVersion+1 || len(ofVersion(third, v1)) != 0 {
			t.Errorf("after the grace, %d items (want %d), %d of the old version", len(third), perVersion+1, len(ofVersion(third, v1)))
		}
		terms, err := env.Store.TermVersions(ctx, edited.Terms[0].Slug)
		if err != nil || !slices.ContainsFunc(terms, func(x pufinid.Term) bool { return x.Text == "Edited text." }) {
			t.Errorf("terms after the edit: %+v, %v", terms, err)
		}
	})

	t.Run("a removed design leaves no trace in reads, pages or, after the grace, the table", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		mustSave(t, env.Store, demo)
		before, err := env.Store.PufDesigns(ctx, demoOrg)
		if err != nil || len(before) != 2 {
			t.Fatalf("designs: %v, %v", before, err)
		}
		gone := before[0]
		less := demo
		less.PufDesigns = slices.DeleteFunc(slices.Clone(demo.PufDesigns), func(d pufinid.PufDesign) bool { return d.ID == gone.ID })
		mustSave(t, env.Store, less)
		if _, err := env.Store.PufDesign(ctx, demoOrg, gone.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the removed design: %v, want not found", err)
		}
		for offset := range 3 {
			page, count, err := env.Store.PufDesignsPage(ctx, demoOrg, offset, 20)
			if err != nil || count != 1 || len(page) != max(0, 1-offset) || slices.ContainsFunc(page, func(d pufinid.PufDesign) bool { return d.ID == gone.ID }) {
				t.Errorf("page at offset %d: %d of %d, %v, %+v", offset, len(page), count, err, page)
			}
		}
		env.Clock.Advance(11 * time.Minute)
		mustSave(t, env.Store, less)
		for _, it := range mustItems(t, env.Store) {
			if strings.Contains(it, gone.ID) {
				t.Errorf("after the grace, an item still names the removed design: %s", it)
			}
		}
	})

	t.Run("of two loads at once, the pointer names one whole version", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t)
		mustSave(t, env.Store, demo)
		a, b := demo, demo
		a.Terms, b.Terms = slices.Clone(demo.Terms), slices.Clone(demo.Terms)
		a.Terms[0].Text, b.Terms[0].Text = "Load A.", "Load B."
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, ref := range []pufinid.Reference{a, b} {
			wg.Go(func() { errs[i] = env.Store.SaveReference(ctx, ref) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && !errors.Is(err, store.ErrReferenceChanged) {
				t.Fatalf("a load failed otherwise: %v", err)
			}
		}
		if errs[0] != nil && errs[1] != nil {
			t.Fatal("both loads lost")
		}
		items := mustItems(t, env.Store)
		if got := ofVersion(items, currentVersion(t, items)); len(got) != perVersion {
			t.Errorf("the current version has %d items, want %d", len(got), perVersion)
		}
	})
}

// An instance reads one version's terms once, and again only when its
// pointer, read again after the ReferenceTTL, names a new version: a load
// that changes the terms reaches every instance within that bound.
func TestTermsAreReadOncePerVersion(t *testing.T) {
	t.Parallel()
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := apitest.New(t)
	mustSave(t, env.Store, demo)
	// Another instance reads: the loader's knows its own version at once.
	meter := new(ddbmeter.Meter)
	reader, err := store.Open(ctx, store.Options{Table: env.Store.Table(), Endpoint: env.DB.URL, Now: env.Clock.Now,
		APIOptions: []func(*middleware.Stack) error{meter.Install}})
	if err != nil {
		t.Fatal(err)
	}
	reads := func() ([]pufinid.Term, int64) {
		t.Helper()
		before := meter.Requests.Load()
		terms, err := reader.Terms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return terms, meter.Requests.Load() - before
	}
	first, n := reads()
	if len(first) != len(demo.Terms) || n != 2 {
		t.Fatalf("first read: %d terms in %d requests, want %d in 2 (the pointer, the Query)", len(first), n, len(demo.Terms))
	}
	first[0].Text = "changed by a caller"
	again, n := reads()
	if n != 0 {
		t.Errorf("second read: %d requests, want 0", n)
	}
	if again[0].Text == "changed by a caller" {
		t.Error("a caller's change to the terms it got reached the instance's copy")
	}
	edited := demo
	edited.Terms = slices.Clone(demo.Terms)
	edited.Terms[0].Text = "A new text."
	mustSave(t, env.Store, edited)
	if stale, n := reads(); n != 0 || stale[0].Text == "A new text." {
		t.Errorf("within the TTL: %d requests and text %q, want the instance's copy, unread", n, stale[0].Text)
	}
	env.Clock.Advance(env.Store.ReferenceTTL())
	fresh, n := reads()
	if n != 2 {
		t.Errorf("after the TTL: %d requests, want 2 (the pointer, then the new version's terms)", n)
	}
	found := false
	for _, tm := range fresh {
		found = found || tm.Text == "A new text."
	}
	if !found {
		t.Error("after the TTL and a load, the new text is not read")
	}
}
