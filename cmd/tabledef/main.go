// Command tabledef writes the single table's definition, from
// shared/store.TableDefinition, as the JSON the AWS CLI takes with
// --cli-input-json: table.json for `dynamodb create-table` and ttl.json for
// `dynamodb update-time-to-live`. LocalStack's init hook creates the table
// from these files, and this command's test fails when the checked-in files
// differ from the Go definition, so Go, template.yaml (checked by
// shared/dev/samtemplate) and LocalStack cannot drift.
//
//	go run ./cmd/tabledef [-dir localstack/init] [-table pufinid]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pufinid/pufinid-api/shared/store"
)

// LocalTable is the table's name in LocalStack.
const LocalTable = "pufinid"

func main() {
	dir := flag.String("dir", "localstack/init", "directory to write table.json and ttl.json into")
	table := flag.String("table", LocalTable, "table name")
	flag.Parse()
	files, err := Files(*table)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tabledef:", err)
		os.Exit(1)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "tabledef:", err)
			os.Exit(1)
		}
	}
}

// Files returns the file name → content of the CLI inputs for table.
func Files(table string) (map[string][]byte, error) {
	create, err := cliJSON(store.TableDefinition(table))
	if err != nil {
		return nil, err
	}
	ttl, err := cliJSON(map[string]any{
		"TableName":               table,
		"TimeToLiveSpecification": map[string]any{"AttributeName": store.AttrTTL, "Enabled": true},
	})
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"table.json": create, "ttl.json": ttl}, nil
}

// cliJSON writes v as the CLI's input JSON: the SDK input structs have the
// API's field names, so encoding/json writes them; the fields left unset
// (null, "", empty lists and objects) are dropped, since the CLI refuses
// null where it wants a value.
func cliJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(prune(tree)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// prune drops unset values from a decoded JSON tree; nil means "drop me".
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if p := prune(e); p == nil {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if p := prune(e); p != nil {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}
