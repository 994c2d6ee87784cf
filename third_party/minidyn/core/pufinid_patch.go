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

	return keys[lo : lo+n]
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
