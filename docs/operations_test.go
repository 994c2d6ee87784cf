package docs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/telemetry"
)

// docs/operations.md is the operator's list of the log fields and the
// metrics: it names every field package telemetry writes, and its metrics
// table is telemetry.Metrics, in order, with their dimensions.
func TestOperationsDocIsTheTelemetry(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, f := range telemetry.Fields {
		if !strings.Contains(doc, "`"+f+"`") {
			t.Errorf("docs/operations.md does not name the log field `%s`", f)
		}
	}
	_, table, ok := strings.Cut(doc, "<!-- metrics-table -->\n")
	if !ok {
		t.Fatal("docs/operations.md has no <!-- metrics-table --> marker")
	}
	var names []telemetry.Metric
	for i, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if i < 2 {
			continue // the header and its rule
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("metrics table row %q: want 3 cells", line)
		}
		m := telemetry.Metric(strings.Trim(strings.TrimSpace(cells[0]), "`"))
		names = append(names, m)
		wantDim := ""
		if d := m.Dimensions(); len(d) > 1 {
			wantDim = "`" + d[1] + "`"
		}
		if got := strings.TrimSpace(cells[2]); got != wantDim {
			t.Errorf("metric %s: other dimension %q in the doc, %q in telemetry", m, got, wantDim)
		}
	}
	if !slices.Equal(names, telemetry.Metrics) {
		t.Errorf("the doc's metrics %v, telemetry's %v", names, telemetry.Metrics)
	}
	if !strings.Contains(doc, "`"+telemetry.Namespace+"`") {
		t.Errorf("docs/operations.md does not name the namespace %s", telemetry.Namespace)
	}
}
