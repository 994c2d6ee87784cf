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
