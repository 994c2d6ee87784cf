package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
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

func TestSaveReferenceOverwritesByKey(t *testing.T) {
	t.Parallel()
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	// 2 organizations, 4 term versions, 4 topics, 3 designs, and the apps
	// profile's base, its two group items and one QR-code item.
	const demoItems = 17
	cases := []struct {
		name   string
		second func(pufinid.Reference) pufinid.Reference
		check  func(t *testing.T, first, second []string)
	}{
		{"saving the same data twice changes no item", func(r pufinid.Reference) pufinid.Reference { return r },
			func(t *testing.T, first, second []string) {
				if !slices.Equal(first, second) {
					t.Errorf("items changed:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(second, "\n"))
				}
			}},
		{"an edited entry replaces its item instead of adding one", func(r pufinid.Reference) pufinid.Reference {
			r.Terms = slices.Clone(r.Terms)
			r.Terms[0].Text = "Edited text."
			return r
		}, func(t *testing.T, first, second []string) {
			changed := 0
			for i := range first {
				if first[i] != second[i] {
					changed++
					if !strings.Contains(second[i], "Edited text.") {
						t.Errorf("unexpected change: %s", second[i])
					}
				}
			}
			if changed != 1 {
				t.Errorf("%d items changed, want 1", changed)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a table of its own
			env := apitest.New(t)
			mustSave(t, env.Store, demo)
			first := mustItems(t, env.Store)
			mustSave(t, env.Store, tc.second(demo))
			second := mustItems(t, env.Store)
			if len(first) != demoItems || len(second) != demoItems {
				t.Fatalf("%d then %d items, want %d: %s", len(first), len(second), demoItems, fmt.Sprint(second))
			}
			tc.check(t, first, second)
		})
	}
}
