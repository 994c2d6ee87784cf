package core

// PATCH(pufinid): this file is not part of minidyn v0.8.2. It keeps the cost
// of a Query and of a transaction's rollback proportional to what they touch,
// not to the whole table. See ../PATCHES.md.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/truora/minidyn/types"
)

var (
	keyConditionAnd = regexp.MustCompile(`(?i)\s+AND\s+`)
	keyEquality     = regexp.MustCompile(`^\s*\(*\s*([#:\w.-]+)\s*=\s*([#:\w.-]+)\s*\)*\s*$`)
)

// partitionKeys narrows a Query on the base table to the run of sorted keys
// of the partition its key condition names. Keys are "<hash>.<range>"
// strings, so one partition is a contiguous run of keys starting with
// "<hash>."; the key condition is still evaluated on every key of the run, so
// a hash value that itself contains a "." costs extra comparisons, never a
// wrong answer. Anything it cannot read falls back to every key, as before.
func (t *Table) partitionKeys(input QueryInput) []string {
	if input.Scan || input.KeyConditionExpression == "" || t.KeySchema.HashKey == "" {
		return t.SortedKeys
	}

	val, ok := hashKeyValue(input.KeyConditionExpression, t.KeySchema.HashKey, input.Aliases, input.ExpressionAttributeValues)
	if !ok {
		return t.SortedKeys
	}

	hv, err := getItemValue(map[string]*types.Item{t.KeySchema.HashKey: val}, t.KeySchema.HashKey, t.AttributesDef[t.KeySchema.HashKey])
	if err != nil {
		return t.SortedKeys
	}

	prefix := fmt.Sprintf("%v", hv)
	keys := t.SortedKeys

	if t.KeySchema.RangeKey == "" {
		pos := sort.SearchStrings(keys, prefix)
		if pos < len(keys) && keys[pos] == prefix {
			return keys[pos : pos+1]
		}

		return nil
	}

	prefix += "."
	lo := sort.SearchStrings(keys, prefix)
	n := sort.Search(len(keys)-lo, func(i int) bool { return !strings.HasPrefix(keys[lo+i], prefix) })
	run := keys[lo : lo+n]

	if t.AttributesDef[t.KeySchema.RangeKey] == "S" {
		run = rangeRun(run, prefix, input, t.KeySchema.RangeKey)
	}

	return run
}

var (
	keyBeginsWith = regexp.MustCompile(`^\s*\(*\s*begins_with\s*\(\s*([#\w.-]+)\s*,\s*(:[\w.-]+)\s*\)\s*\)*\s*$`)
	keyBelow      = regexp.MustCompile(`^\s*\(*\s*([#\w.-]+)\s*(<=?)\s*(:[\w.-]+)\s*\)*\s*$`)
	// keyBetween is matched on the whole condition: its AND is BETWEEN's,
	// which keyConditionAnd would split.
	keyBetween = regexp.MustCompile(`(?i)(?:^|\sAND\s|\()\s*\(*\s*([#\w.-]+)\s+BETWEEN\s+(:[\w.-]+)\s+AND\s+(:[\w.-]+)\s*\)*\s*(?:$|\sAND\s)`)
)

// rangeRun narrows run, the sorted keys of one partition (each prefix
// followed by its string range key), to the keys the key condition's part
// on the range key can match: begins_with(range, :v), range < :v (<=) or
// range BETWEEN :a AND :b, as DynamoDB reads only that range of the
// partition. Every key the
// condition matches stays in the run (a key of another partition whose
// hash shares the prefix may stay too: the condition is still evaluated
// on each). Anything else keeps the whole run.
func rangeRun(run []string, prefix string, input QueryInput, rangeKey string) []string {
	value := func(name string) (string, bool) {
		v, ok := input.ExpressionAttributeValues[name]
		if !ok || v == nil || v.S == nil {
			return "", false
		}

		return *v.S, true
	}
	isRange := func(name string) bool {
		if alias, ok := input.Aliases[name]; ok {
			name = alias
		}

		return name == rangeKey
	}

	// PATCH(pufinid): BETWEEN, which a page of positions is read with.
	if m := keyBetween.FindStringSubmatch(input.KeyConditionExpression); m != nil && isRange(m[1]) {
		a, okA := value(m[2])
		b, okB := value(m[3])
		if !okA || !okB {
			return run
		}

		lo := sort.SearchStrings(run, prefix+a)
		hi := sort.Search(len(run), func(i int) bool { return run[i] > prefix+b })

		if hi < lo {
			hi = lo
		}

		return run[lo:hi]
	}

	for _, part := range keyConditionAnd.Split(input.KeyConditionExpression, -1) {
		if m := keyBeginsWith.FindStringSubmatch(part); m != nil && isRange(m[1]) {
			v, ok := value(m[2])
			if !ok {
				return run
			}

			p := prefix + v
			lo := sort.SearchStrings(run, p)
			n := sort.Search(len(run)-lo, func(i int) bool { return !strings.HasPrefix(run[lo+i], p) })

			return run[lo : lo+n]
		}

		if m := keyBelow.FindStringSubmatch(part); m != nil && isRange(m[1]) {
			v, ok := value(m[3])
			if !ok {
				return run
			}

			bound := prefix + v
			hi := sort.Search(len(run), func(i int) bool {
				if m[2] == "<=" {
					return run[i] > bound
				}

				return run[i] >= bound
			})

			return run[:hi]
		}
	}

	return run
}

// hashKeyValue finds the value that a key condition's equality on the hash
// key compares with. DynamoDB requires that equality as one of the condition's
// (at most two) AND-ed parts.
func hashKeyValue(expr, hashKey string, aliases map[string]string, values map[string]*types.Item) (*types.Item, bool) {
	for _, part := range keyConditionAnd.Split(expr, -1) {
		m := keyEquality.FindStringSubmatch(part)
		if m == nil {
			continue
		}

		name, value := m[1], m[2]
		if strings.HasPrefix(name, ":") {
			name, value = value, name
		}

		if alias, ok := aliases[name]; ok {
			name = alias
		}

		if name != hashKey || !strings.HasPrefix(value, ":") {
			continue
		}

		v, ok := values[value]

		return v, ok && v != nil
	}

	return nil, false
}

// SnapshotKeys captures, for a transaction's rollback, the items at the given
// keys (absent ones included) instead of the whole table; Restore puts back
// exactly those.
func (t *Table) SnapshotKeys(keys []string) TableSnapshot {
	items := make(map[string]map[string]*types.Item, len(keys))

	for _, k := range keys {
		if v, ok := t.Data[k]; ok {
			items[k] = deepCopyItemMap(v)
		} else {
			items[k] = nil
		}
	}

	indexes := make(map[string]indexSnapshot, len(t.Indexes))
	for name, idx := range t.Indexes {
		indexes[name] = idx.snapshot()
	}

	return TableSnapshot{items: items, partial: true, indexes: indexes}
}

func (t *Table) restoreKeys(s TableSnapshot) {
	for k, v := range s.items {
		if v == nil {
			t.removeKey(k)
		} else {
			t.setItem(k, v)
		}
	}
}
