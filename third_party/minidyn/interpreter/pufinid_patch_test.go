package interpreter

// PATCH(pufinid): the size of a missing attribute makes a condition false,
// as on DynamoDB, instead of failing it with a ValidationException.

import (
	"testing"

	"github.com/truora/minidyn/types"
)

func TestSizeOfAMissingAttributeIsFalse(t *testing.T) {
	one := "1"
	ss := &types.Item{SS: []*string{&one}}
	attrs := map[string]*types.Item{":n": {N: &one}, ":two": {N: new("2")}}
	li := &Language{}
	for _, tc := range []struct {
		expr string
		item map[string]*types.Item
		want bool
	}{
		{"size(ids) <= :n", map[string]*types.Item{"ids": ss}, true},
		{"size(ids) <= :n", map[string]*types.Item{"other": ss}, false},
		{"size(ids) <= :n", map[string]*types.Item{}, false},
		{"size(#i) < :two", map[string]*types.Item{}, false},
		{"NOT (size(ids) <= :n)", map[string]*types.Item{}, true},
		{"attribute_not_exists(ids) OR size(ids) <= :n", map[string]*types.Item{}, true},
	} {
		got, err := li.Match(MatchInput{Expression: tc.expr, Item: tc.item, Attributes: attrs, Aliases: map[string]string{"#i": "ids"}})
		if err != nil || got != tc.want {
			t.Errorf("%s on %v: %v, %v; want %v", tc.expr, tc.item, got, err, tc.want)
		}
	}
	if _, err := li.Match(MatchInput{Expression: "size(:missing) <= :n", Item: map[string]*types.Item{}, Attributes: attrs}); err == nil {
		t.Error("size of an undefined expression value: want an error, as DynamoDB gives")
	}
}

// PATCH(pufinid): a missing attribute contains nothing, as on DynamoDB:
// contains() is false and NOT contains() true, instead of a
// ValidationException.
func TestAMissingAttributeContainsNothing(t *testing.T) {
	a := "a"
	ss := &types.Item{SS: []*string{&a}}
	attrs := map[string]*types.Item{":a": {S: &a}, ":b": {S: new("b")}}
	li := &Language{}
	for _, tc := range []struct {
		expr string
		item map[string]*types.Item
		want bool
	}{
		{"contains(ids, :a)", map[string]*types.Item{"ids": ss}, true},
		{"contains(ids, :b)", map[string]*types.Item{"ids": ss}, false},
		{"contains(ids, :a)", map[string]*types.Item{}, false},
		{"NOT contains(#i, :a)", map[string]*types.Item{}, true},
		{"NOT contains(#i, :a)", map[string]*types.Item{"ids": ss}, false},
		{"attribute_not_exists(#i) OR NOT contains(#i, :a)", map[string]*types.Item{}, true},
	} {
		got, err := li.Match(MatchInput{Expression: tc.expr, Item: tc.item, Attributes: attrs, Aliases: map[string]string{"#i": "ids"}})
		if err != nil || got != tc.want {
			t.Errorf("%s on %v: %v, %v; want %v", tc.expr, tc.item, got, err, tc.want)
		}
	}
}

// PATCH(pufinid): REMOVE of a top-level attribute removes it from the item,
// alone or with a SET, by name or alias; a nested REMOVE still removes
// only the path.
func TestRemoveOfATopLevelAttributeRemovesIt(t *testing.T) {
	li := &Language{}
	for _, tc := range []struct {
		expr      string
		gone, has []string
	}{
		{"REMOVE tokens", []string{"tokens"}, []string{"h", "pk"}},
		{"REMOVE #t", []string{"tokens"}, []string{"h", "pk"}},
		{"SET h = :v REMOVE #t", []string{"tokens"}, []string{"h", "pk"}},
		{"REMOVE #t SET h = :v", []string{"tokens"}, []string{"h", "pk"}},
		{"REMOVE h, #t", []string{"tokens", "h"}, []string{"pk"}},
		{"REMOVE #t.a", nil, []string{"tokens", "h", "pk"}},
		{"REMOVE nothere", nil, []string{"tokens", "h", "pk"}},
	} {
		one := "1"
		item := map[string]*types.Item{
			"pk":     {S: new("u")},
			"h":      {S: new("x")},
			"tokens": {M: map[string]*types.Item{"a": {N: &one}, "b": {N: &one}}},
		}
		err := li.Update(UpdateInput{Expression: tc.expr, Item: item, Attributes: map[string]*types.Item{":v": {S: new("y")}},
			Aliases: map[string]string{"#t": "tokens"}})
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		for _, n := range tc.gone {
			if _, ok := item[n]; ok {
				t.Errorf("%s: %s is still on the item", tc.expr, n)
			}
		}
		for _, n := range tc.has {
			if _, ok := item[n]; !ok {
				t.Errorf("%s: %s is gone", tc.expr, n)
			}
		}
		if tc.expr == "REMOVE #t.a" {
			if m := item["tokens"].M; len(m) != 1 || m["b"] == nil {
				t.Errorf("%s: tokens = %v, want only b", tc.expr, m)
			}
		}
	}
}
