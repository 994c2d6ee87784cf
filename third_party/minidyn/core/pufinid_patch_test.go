package core

// PATCH(pufinid): tests of pufinid_patch.go.

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/interpreter"
	"github.com/truora/minidyn/types"
)

func newPatchTable(t *testing.T) *Table {
	t.Helper()

	table := NewTable("patch")
	table.AttributesDef = map[string]string{"pk": "S", "sk": "S"}
	table.KeySchema = keySchema{"pk", "sk", false}
	table.LangInterpreter = interpreter.Language{}

	return table
}

func patchItem(pk, sk string) map[string]*types.Item {
	return map[string]*types.Item{"pk": {S: new(pk)}, "sk": {S: new(sk)}, "v": {M: map[string]*types.Item{}}}
}

// Hash values that contain the "." minidyn joins keys with share a prefix
// run with other partitions; the narrowed Query must still answer exactly.
func TestQueryNarrowedToPartitionAnswersAsAFullWalk(t *testing.T) {
	c := require.New(t)
	table := newPatchTable(t)
	rng := rand.New(rand.NewSource(1))
	hashes := []string{"a", "a.", "a.b", "ab", "b", "a.b.c", ""}
	ranges := []string{"x", "x.y", "y", ".", "a.b", "z", "b.c"}

	type key struct{ pk, sk string }

	stored := map[key]bool{}

	for range 400 {
		k := key{hashes[rng.Intn(len(hashes)-1)], ranges[rng.Intn(len(ranges))] + fmt.Sprint(rng.Intn(5))}
		stored[k] = true
		_, err := table.Put(&types.PutItemInput{Item: patchItem(k.pk, k.sk), TableName: new("patch")})
		c.NoError(err)
	}

	c.True(sort.StringsAreSorted(table.SortedKeys))
	c.Len(table.SortedKeys, len(stored))

	for _, pk := range hashes {
		for _, cond := range []struct {
			expr, prefix string
			match        func(sk string) bool
		}{
			{"pk = :p", "", nil},
			{"#h = :p AND begins_with(sk, :s)", "x", nil},
			{":p = pk and begins_with(#r, :s)", "a.b", nil},
			{"pk = :p AND sk < :s", "x.y", func(sk string) bool { return sk < "x.y" }},
			{"#h = :p AND (#r <= :s)", "x.y2", func(sk string) bool { return sk <= "x.y2" }},
			{"pk = :p AND sk < :s", "", func(string) bool { return false }},
			{"pk = :p AND sk BETWEEN :s AND :t", "a.b", func(sk string) bool { return sk >= "a.b" && sk <= "x.y3" }},
			{"(#r BETWEEN :s AND :t) AND #h = :p", "x", func(sk string) bool { return sk >= "x" && sk <= "x.y3" }},
			{"pk = :p AND sk between :s and :t", "z", func(string) bool { return false }},
		} {
			for _, forward := range []bool{true, false} {
				var want []string

				for k := range stored {
					matches := strings.HasPrefix(k.sk, cond.prefix)
					if cond.match != nil {
						matches = cond.match(k.sk)
					}

					if k.pk == pk && matches {
						want = append(want, k.pk+"."+k.sk)
					}
				}

				sort.Strings(want)

				if !forward {
					sort.Sort(sort.Reverse(sort.StringSlice(want)))
				}

				var got []string

				var start map[string]*types.Item

				for page := 0; ; page++ {
					c.Less(page, 1000)

					items, last, err := table.SearchData(QueryInput{
						KeyConditionExpression:    cond.expr,
						ExpressionAttributeValues: map[string]*types.Item{":p": {S: new(pk)}, ":s": {S: new(cond.prefix)}, ":t": {S: new("x.y3")}},
						Aliases:                   map[string]string{"#h": "pk", "#r": "sk"},
						ScanIndexForward:          forward,
						Limit:                     3,
						ExclusiveStartKey:         start,
					})
					c.NoError(err)

					for _, it := range items {
						got = append(got, *it["pk"].S+"."+*it["sk"].S)
					}

					if len(last) == 0 {
						break
					}

					start = last
				}

				c.Equal(want, got, "pk %q, %s, forward %v", pk, cond.expr, forward)
			}
		}
	}
}

func TestHashKeyValueReadsOnlyTheHashEquality(t *testing.T) {
	values := map[string]*types.Item{":p": {S: new("P")}, ":a": {S: new("A")}, ":b": {S: new("B")}}
	aliases := map[string]string{"#pk": "pk", "#sk": "sk"}

	for _, tc := range []struct {
		expr string
		want string
	}{
		{"pk = :p", "P"},
		{"#pk = :p AND sk BETWEEN :a AND :b", "P"},
		{"sk BETWEEN :a AND :b AND #pk = :p", "P"},
		{"(pk = :p) AND (sk >= :a)", "P"},
		{"#sk = :a AND pk = :p", "P"},
		{"sk = :a", ""},
		{"pk <= :p", ""},
		{"pk = :missing", ""},
	} {
		v, ok := hashKeyValue(tc.expr, "pk", aliases, values)
		if tc.want == "" {
			require.False(t, ok, tc.expr)

			continue
		}

		require.True(t, ok, tc.expr)
		require.Equal(t, tc.want, *v.S, tc.expr)
	}
}

// A key snapshot restores the keys it names, present or absent, and leaves
// every other item as it is.
func TestSnapshotKeysRestoresOnlyTouchedItems(t *testing.T) {
	c := require.New(t)
	table := newPatchTable(t)

	for _, sk := range []string{"1", "2", "3"} {
		_, err := table.Put(&types.PutItemInput{Item: patchItem("p", sk), TableName: new("patch")})
		c.NoError(err)
	}

	snap := table.SnapshotKeys([]string{"p.1", "p.9"})

	changed := patchItem("p", "1")
	changed["v"] = &types.Item{S: new("changed")}
	_, err := table.Put(&types.PutItemInput{Item: changed, TableName: new("patch")})
	c.NoError(err)
	_, err = table.Put(&types.PutItemInput{Item: patchItem("p", "9"), TableName: new("patch")})
	c.NoError(err)

	table.Restore(snap)

	c.Equal([]string{"p.1", "p.2", "p.3"}, table.SortedKeys)
	c.NotNil(table.Data["p.1"]["v"].M, "an empty map stays a map")
	c.Empty(table.Data["p.1"]["v"].M)
	_, ok := table.Data["p.9"]
	c.False(ok)
}

// A range condition on a string sort key narrows the walk to that range,
// as DynamoDB reads only it: a Query of a few items costs the same however
// many others the partition holds.
func TestQueryWalksOnlyTheRangeItsConditionNames(t *testing.T) {
	c := require.New(t)
	table := newPatchTable(t)

	for i := range 1000 {
		_, err := table.Put(&types.PutItemInput{Item: patchItem("u", fmt.Sprintf("RTOKEN#%04d", i)), TableName: new("patch")})
		c.NoError(err)
	}

	for _, sk := range []string{"PROFILE", "PROFILE#ACCEPT#tos", "ETOKEN#RESET"} {
		_, err := table.Put(&types.PutItemInput{Item: patchItem("u", sk), TableName: new("patch")})
		c.NoError(err)
	}

	values := map[string]*types.Item{":p": {S: new("u")}, ":s": {S: new("PROFILE")}, ":r": {S: new("RTOKEN#")}}
	for _, tc := range []struct {
		expr string
		want int
	}{
		{"pk = :p AND begins_with(sk, :s)", 2},
		{"pk = :p AND sk < :r", 3},
		{"pk = :p AND sk <= :s", 2},
		{"pk = :p AND sk BETWEEN :s AND :r", 2},
		{"pk = :p", 1003},
	} {
		run := table.partitionKeys(QueryInput{KeyConditionExpression: tc.expr, ExpressionAttributeValues: values})
		c.Len(run, tc.want, tc.expr)
	}
}
