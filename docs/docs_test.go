package docs

// These tests keep the Markdown documentation in docs/ true to the code:
// its fixture examples load with the project's fixture loader, its apps
// profile examples are what the handler answers for them, its route table
// covers docs/openapi.yaml, and its links (and the README's) stay inside
// the repository.
//
// Marked examples: an HTML comment on the line just before a fenced block
// says what the block is.
//
//	<!-- fixture-example -->                     a ```json fixture that must load
//	<!-- fixture-invalid-example -->             a ```json fixture that must be refused
//	                                             with exactly the problems of the next
//	                                             ```text block of the file, one a line
//	<!-- apps-profile-example o=.. g=.. id=.. --> a ```json answer of GET /v1/apps-profile/
//	                                             for the file's preceding fixture-example

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/shared/dev/embeddeddb"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// repoRoot is the module root, seen from docs/ (where go test runs).
const repoRoot = ".."

// The markers of examples.
const (
	markFixture        = "fixture-example"
	markFixtureInvalid = "fixture-invalid-example"
	markAppsProfile    = "apps-profile-example"
)

// routeTable is the page whose summary table must list every operation of
// openapi.yaml.
const routeTable = "routes.md"

// --- the embedded store, shared by the tests of this package ---

var (
	dbOnce   sync.Once
	sharedDB *embeddeddb.DB
	dbErr    error
	tableSeq atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDB != nil {
		_ = sharedDB.Close()
	}
	os.Exit(code)
}

// newStore returns a store on a fresh table of the embedded DynamoDB.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	dbOnce.Do(func() { sharedDB, dbErr = embeddeddb.Start("") })
	if dbErr != nil {
		t.Fatalf("start embedded DynamoDB: %v", dbErr)
	}
	st, err := store.Open(context.Background(), store.Options{
		Table: fmt.Sprintf("docs-test-%d", tableSeq.Add(1)), Endpoint: sharedDB.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// --- reading the Markdown files ---

// markdownFiles are the pages the tests read: docs/*.md and the README.
func markdownFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Markdown files in docs/")
	}
	return append(files, filepath.Join(repoRoot, "README.md"))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// block is one fenced code block of a Markdown file.
type block struct {
	file   string
	line   int    // of the opening fence, 1-based
	lang   string // the info string's first word
	marker string // the HTML comment on the line before, without <!-- -->
	body   string
}

func (b block) name() string { return fmt.Sprintf("%s:%d", filepath.Base(b.file), b.line) }

var (
	fenceOpen = regexp.MustCompile("^( *)(```+|~~~+)\\s*([^`\\s]*)")
	comment   = regexp.MustCompile(`^\s*<!--\s*(.*?)\s*-->\s*$`)
)

// blocks returns the fenced code blocks of a Markdown text, in order. A
// fence may be indented (in a list); its body loses that indentation.
func blocks(file, text string) []block {
	lines := strings.Split(text, "\n")
	var out []block
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, fence := len(m[1]), m[2]
		b := block{file: file, line: i + 1, lang: m[3]}
		if i > 0 {
			if c := comment.FindStringSubmatch(lines[i-1]); c != nil {
				b.marker = c[1]
			}
		}
		var body []string
		for i++; i < len(lines); i++ {
			l := lines[i]
			if closesFence(l, fence) {
				break
			}
			body = append(body, strings.TrimPrefix(l, strings.Repeat(" ", indent)))
		}
		b.body = strings.Join(body, "\n")
		out = append(out, b)
	}
	return out
}

// closesFence reports whether line ends the block that fence (```, ~~~~...)
// opened: the same character, at least as many times, and nothing else.
func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return len(t) >= len(fence) && strings.Trim(t, fence[:1]) == ""
}

// markerName is the first word of a marker; markerAttrs its key=value words.
func markerName(m string) string {
	name, _, _ := strings.Cut(m, " ")
	return name
}

func markerAttrs(t *testing.T, m string) map[string]string {
	t.Helper()
	attrs := map[string]string{}
	for _, f := range strings.Fields(m)[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("marker %q: %q is not key=value", m, f)
		}
		attrs[k] = v
	}
	return attrs
}

// docBlocks are the fenced blocks of every page of docs/.
func docBlocks(t *testing.T) map[string][]block {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]block{}
	for _, f := range files {
		out[f] = blocks(f, readFile(t, f))
	}
	return out
}

func marked(all map[string][]block, name string) []block {
	var out []block
	for _, f := range slices.Sorted(maps.Keys(all)) {
		for _, b := range all[f] {
			if markerName(b.marker) == name {
				out = append(out, b)
			}
		}
	}
	return out
}

// --- (1) fixture examples ---

// TestFixtureExamplesLoad parses every block marked as a fixture example
// with the project's fixture loader, loads it twice into a fresh table (a
// load is idempotent) and reads it back.
func TestFixtureExamplesLoad(t *testing.T) {
	t.Parallel()
	examples := marked(docBlocks(t), markFixture)
	if len(examples) == 0 {
		t.Fatalf("no block marked <!-- %s --> in docs/*.md", markFixture)
	}
	for _, ex := range examples {
		t.Run(ex.name(), func(t *testing.T) {
			t.Parallel()
			if ex.lang != "json" {
				t.Fatalf("a fixture example is a ```json block, this one is %q", ex.lang)
			}
			ref, err := fixtures.Parse(strings.NewReader(ex.body))
			if err != nil {
				t.Fatalf("the fixture example does not load: %v", err)
			}
			st := newStore(t)
			ctx := context.Background()
			for range 2 {
				if err := fixtures.Load(ctx, st, ref); err != nil {
					t.Fatalf("load: %v", err)
				}
			}
			checkLoaded(t, st, ref)
		})
	}
}

// checkLoaded reads back what Load wrote of ref.
func checkLoaded(t *testing.T, st *store.Store, ref pufinid.Reference) {
	t.Helper()
	ctx := context.Background()
	terms, err := st.Terms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != len(ref.Terms) {
		t.Errorf("%d term versions in the table, %d in the example", len(terms), len(ref.Terms))
	}
	topics, err := st.FAQTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(topics) != len(ref.FAQTopics) {
		t.Errorf("%d FAQ topics in the table, %d in the example", len(topics), len(ref.FAQTopics))
	}
	for _, o := range ref.Organizations {
		if _, err := st.OrganizationByCode(ctx, o.Code); err != nil {
			t.Errorf("organization %s (%s): %v", o.ID, o.Name, err)
		}
		want := 0
		for _, d := range ref.PufDesigns {
			if d.Organization == o.ID {
				want++
			}
		}
		designs, err := st.PufDesigns(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(designs) != want {
			t.Errorf("organization %s: %d PUF designs in the table, %d in the example", o.Name, len(designs), want)
		}
	}
	for _, a := range ref.AppProfiles {
		if _, err := st.AppProfile(ctx, a.ClientID, "", ""); err != nil {
			t.Errorf("apps profile %q: %v", a.ClientID, err)
		}
	}
}

// TestInvalidFixtureExamples checks that each fixture shown as refused is
// refused with exactly the problems the page lists after it.
func TestInvalidFixtureExamples(t *testing.T) {
	t.Parallel()
	all := docBlocks(t)
	examples := marked(all, markFixtureInvalid)
	if len(examples) == 0 {
		t.Fatalf("no block marked <!-- %s --> in docs/*.md", markFixtureInvalid)
	}
	for _, ex := range examples {
		t.Run(ex.name(), func(t *testing.T) {
			t.Parallel()
			var want []string
			for _, b := range all[ex.file] {
				if b.line > ex.line && b.lang == "text" {
					want = strings.Split(strings.TrimSpace(b.body), "\n")
					break
				}
			}
			if want == nil {
				t.Fatal("no ```text block of the expected problems follows the example")
			}
			_, err := fixtures.Parse(strings.NewReader(ex.body))
			var fe *fixtures.Error
			if !errors.As(err, &fe) {
				t.Fatalf("want the fixture refused with a *fixtures.Error, got %v", err)
			}
			if !slices.Equal(fe.Problems, want) {
				t.Errorf("problems differ from the page's:\ngot:\n\t%s\npage:\n\t%s",
					strings.Join(fe.Problems, "\n\t"), strings.Join(want, "\n\t"))
			}
		})
	}
}

// TestAppsProfileExamples loads the fixture example that precedes each
// apps profile example in its page and checks that GET /v1/apps-profile/
// answers what the page shows, with the headers every answer has.
func TestAppsProfileExamples(t *testing.T) {
	t.Parallel()
	type example struct {
		answer  block
		fixture *block
	}
	var examples []example
	all := docBlocks(t)
	for _, f := range slices.Sorted(maps.Keys(all)) {
		var fixture *block
		for _, b := range all[f] {
			switch markerName(b.marker) {
			case markFixture:
				fixture = &b
			case markAppsProfile:
				examples = append(examples, example{answer: b, fixture: fixture})
			}
		}
	}
	if len(examples) == 0 {
		t.Fatalf("no block marked <!-- %s ... --> in docs/*.md", markAppsProfile)
	}
	for _, ex := range examples {
		t.Run(ex.answer.name(), func(t *testing.T) {
			t.Parallel()
			if ex.fixture == nil {
				t.Fatalf("no <!-- %s --> block precedes this example in its page", markFixture)
			}
			attrs := markerAttrs(t, ex.answer.marker)
			q := url.Values{}
			for k, v := range attrs {
				if k != "o" && k != "g" && k != "id" {
					t.Fatalf("marker %q: unknown parameter %q (o, g, id)", ex.answer.marker, k)
				}
				q.Set(k, v)
			}
			ref, err := fixtures.Parse(strings.NewReader(ex.fixture.body))
			if err != nil {
				t.Fatalf("the fixture example at line %d does not load: %v", ex.fixture.line, err)
			}
			st := newStore(t)
			if err := fixtures.Load(context.Background(), st, ref); err != nil {
				t.Fatal(err)
			}
			h := appsprofileapi.New(appsprofileapi.Deps{Store: st, Log: slog.New(slog.DiscardHandler)})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/apps-profile/?"+q.Encode(), nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET /v1/apps-profile/?%s: %d %s", q.Encode(), rec.Code, rec.Body)
			}
			for k, v := range map[string]string{
				"Content-Type": "application/json", "Cache-Control": "public, max-age=60", "X-Content-Type-Options": "nosniff",
			} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, the docs say %q", k, got, v)
				}
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(ex.answer.body), &want); err != nil {
				t.Fatalf("the page's answer is not JSON: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("GET /v1/apps-profile/?%s answers\n%s\nthe page shows\n%s", q.Encode(), rec.Body, ex.answer.body)
			}
		})
	}
}

// --- (2) links ---

var (
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink    = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	scheme     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	headingRe  = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
)

// outsideFences returns the lines of text with those of fenced blocks
// (fences included) made empty, so that line numbers stay.
func outsideFences(text string) []string {
	lines := strings.Split(text, "\n")
	out := make([]string, len(lines))
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(lines[i])
		if m == nil {
			out[i] = lines[i]
			continue
		}
		fence := m[2]
		for i++; i < len(lines); i++ {
			if closesFence(lines[i], fence) {
				break
			}
		}
	}
	return out
}

// prose returns text without its fenced blocks and inline code spans,
// which hold examples, not links.
func prose(text string) string {
	lines := outsideFences(text)
	for i, l := range lines {
		lines[i] = stripCodeSpans(l)
	}
	return strings.Join(lines, "\n")
}

// stripCodeSpans removes the code spans of a line: a run of backticks,
// the code, and a run of as many backticks again.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		run := strings.Repeat("`", n)
		end := -1
		for j := i + n; j < len(line); {
			k := strings.Index(line[j:], run)
			if k < 0 {
				break
			}
			k += j
			if (k+n == len(line) || line[k+n] != '`') && (k == 0 || line[k-1] != '`') {
				end = k
				break
			}
			j = k + 1
		}
		if end < 0 {
			b.WriteString(run) // a lone run of backticks is literal text
			i += n
			continue
		}
		i = end + n
	}
	return b.String()
}

// anchors returns the anchors GitHub gives the headings of a Markdown text.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range outsideFences(text) {
		m := headingRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		a := slug(m[2])
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// slug is GitHub's anchor of a heading: its text (links by their text,
// code spans by their content) lower-cased, without punctuation but
// hyphens and underscores, each space turned into a hyphen.
func slug(heading string) string {
	heading = inlineLink.ReplaceAllStringFunc(heading, func(s string) string {
		return s[strings.Index(s, "[")+1 : strings.Index(s, "]")]
	})
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r), unicode.IsNumber(r), unicode.IsMark(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestRelativeLinks checks every link of docs/*.md and README.md: a
// relative one must name a file of the repository (and, for a .md file, an
// anchor it has), never a path outside it; no link may name the team's
// reference file.
func TestRelativeLinks(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root %s has no go.mod: %v", root, err)
	}
	for _, file := range markdownFiles(t) {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		name, err := filepath.Rel(root, abs)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			t.Parallel()
			text := readFile(t, file)
			p := prose(text)
			var targets []string
			for _, m := range inlineLink.FindAllStringSubmatch(p, -1) {
				targets = append(targets, m[1])
			}
			for _, m := range refLink.FindAllStringSubmatch(p, -1) {
				targets = append(targets, m[1])
			}
			if strings.Contains(strings.ToLower(text), "contract.md") {
				t.Errorf("%s names the team's reference file; the documentation lives in docs/", file)
			}
			dir, err := filepath.Abs(filepath.Dir(file))
			if err != nil {
				t.Fatal(err)
			}
			for _, target := range targets {
				checkLink(t, root, dir, file, text, target)
			}
		})
	}
}

func checkLink(t *testing.T, root, dir, file, text, target string) {
	t.Helper()
	if strings.Contains(strings.ToLower(target), "contract.md") {
		t.Errorf("link %q: names the team's reference file", target)
		return
	}
	if scheme.MatchString(target) {
		if strings.HasPrefix(strings.ToLower(target), "file:") {
			t.Errorf("link %q: a file: URL points outside the repository", target)
		}
		return // http(s), mailto: not the repository's business
	}
	path, frag, _ := strings.Cut(target, "#")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	if path == "" { // an anchor of this page
		if frag != "" && !anchors(text)[frag] {
			t.Errorf("link %q: %s has no heading with that anchor", target, filepath.Base(file))
		}
		return
	}
	if filepath.IsAbs(path) || strings.HasPrefix(path, "/") {
		t.Errorf("link %q: absolute paths do not work in the repository; use a relative one", target)
		return
	}
	abs := filepath.Clean(filepath.Join(dir, filepath.FromSlash(path)))
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		t.Errorf("link %q: points outside the repository (%s)", target, abs)
		return
	}
	info, err := os.Stat(abs)
	if err != nil {
		t.Errorf("link %q: %v", target, err)
		return
	}
	if frag != "" && !info.IsDir() && strings.HasSuffix(abs, ".md") {
		b, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		if !anchors(string(b))[frag] {
			t.Errorf("link %q: %s has no heading with the anchor %q", target, rel, frag)
		}
	}
}

// --- (3) the route table ---

// routeRow is one row of the summary table of routes.md.
var routeRow = regexp.MustCompile("^\\|\\s*`([A-Z]+)`\\s*\\|\\s*`([^`]+)`\\s*\\|([^|]*)\\|([^|]*)\\|([^|]*)\\|")

type row struct {
	line               int
	token              string // yes, no or optional
	success, errStatus []string
}

// words splits a cell such as "200, 400, 401" into its words.
func words(cell string) []string {
	return strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// routeRows reads the table: method and path (trailing slash dropped) to
// the row.
func routeRows(t *testing.T) map[string]row {
	t.Helper()
	rows := map[string]row{}
	for i, line := range strings.Split(readFile(t, routeTable), "\n") {
		m := routeRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		k := routeKey(m[1], m[2])
		if prev, dup := rows[k]; dup {
			t.Errorf("%s:%d: %s is already on line %d", routeTable, i+1, k, prev.line)
		}
		rows[k] = row{line: i + 1, token: strings.TrimSpace(m[3]), success: words(m[4]), errStatus: words(m[5])}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no route table rows (| `METHOD` | `/path/` | token | success | errors |)", routeTable)
	}
	return rows
}

func routeKey(method, path string) string {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return strings.ToUpper(method) + " " + path
}

var httpMethods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

// operation is what the route table says of an operation of openapi.yaml.
type operation struct {
	statuses []string
	token    string // yes, no or optional, from its security requirements
}

// openAPIOperations reads docs/openapi.yaml (embedded as OpenAPI) into
// method and path to the operation.
func openAPIOperations(t *testing.T) map[string]operation {
	t.Helper()
	var doc struct {
		Security []map[string][]string           `yaml:"security"`
		Paths    map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if len(doc.Paths) == 0 {
		t.Fatal("openapi.yaml has no paths")
	}
	ops := map[string]operation{}
	for path, item := range doc.Paths {
		for method, node := range item {
			if !slices.Contains(httpMethods, method) {
				continue // parameters, summary, description...
			}
			var op struct {
				Security  *[]map[string][]string `yaml:"security"`
				Responses map[string]yaml.Node   `yaml:"responses"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("openapi.yaml %s %s: %v", method, path, err)
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			ops[routeKey(method, path)] = operation{
				statuses: slices.Sorted(maps.Keys(op.Responses)),
				token:    tokenNeed(security),
			}
		}
	}
	return ops
}

// tokenNeed reads security requirements as the table's token column: none
// is "no", only requirements with a scheme "yes", and an empty requirement
// ({}) beside one with a scheme "optional".
func tokenNeed(security []map[string][]string) string {
	anonymous, schemes := false, false
	for _, req := range security {
		if len(req) == 0 {
			anonymous = true
		} else {
			schemes = true
		}
	}
	switch {
	case schemes && anonymous:
		return "optional"
	case schemes:
		return "yes"
	}
	return "no"
}

// TestRouteTableCoversOpenAPI checks that every operation of openapi.yaml
// has its row in the route table of routes.md, with the operation's
// success statuses and whether it needs a token, that every status a row
// lists is one, and that the table lists no operation the document does
// not have.
func TestRouteTableCoversOpenAPI(t *testing.T) {
	t.Parallel()
	rows := routeRows(t)
	ops := openAPIOperations(t)
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		t.Run(k, func(t *testing.T) {
			t.Parallel()
			r, ok := rows[k]
			if !ok {
				t.Fatalf("openapi.yaml has %s; the route table of %s has no row for it", k, routeTable)
			}
			if r.token != ops[k].token {
				t.Errorf("%s:%d: the token column says %q; openapi.yaml's security for %s says %q", routeTable, r.line, r.token, k, ops[k].token)
			}
			for _, s := range ops[k].statuses {
				if strings.HasPrefix(s, "2") && !slices.Contains(r.success, s) {
					t.Errorf("%s:%d: openapi.yaml answers %s with %s; the row's success column is %v", routeTable, r.line, k, s, r.success)
				}
			}
			for _, s := range append(slices.Clone(r.success), r.errStatus...) {
				if n, err := strconv.Atoi(s); err != nil || n < 100 || n > 599 {
					t.Errorf("%s:%d: %q is not an HTTP status", routeTable, r.line, s)
				}
			}
		})
	}
	for k, r := range rows {
		if _, ok := ops[k]; !ok {
			t.Errorf("%s:%d: %s is not an operation of openapi.yaml", routeTable, r.line, k)
		}
	}
}

// TestBlocksParse guards the helpers above: a fence in a list keeps its
// body, and markers are read from the line before.
func TestBlocksParse(t *testing.T) {
	t.Parallel()
	text := "intro\n\n- item:\n\n  <!-- fixture-example -->\n  ```json\n  {\"a\": 1}\n  ```\n\n```text\nx `y`\n```\n"
	got := blocks("x.md", text)
	want := []block{
		{file: "x.md", line: 6, lang: "json", marker: "fixture-example", body: `{"a": 1}`},
		{file: "x.md", line: 10, lang: "text", body: "x `y`"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("blocks:\ngot  %+v\nwant %+v", got, want)
	}
	for in, want := range map[string]string{
		"see `a [b](c)` and [d](e)": "see  and [d](e)",
		"``a ` b`` then `c`":        " then ",
		"a lone ` stays":            "a lone ` stays",
	} {
		if got := stripCodeSpans(in); got != want {
			t.Errorf("stripCodeSpans(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Obtain a token pair":           "obtain-a-token-pair",
		"Terms, FAQ, PUF designs":       "terms-faq-puf-designs",
		"How the [profiles](x) combine": "how-the-profiles-combine",
		"The `Authorization` header":    "the-authorization-header",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	if !bytes.Contains(OpenAPI, []byte("paths:")) {
		t.Error("OpenAPI holds no paths: is docs.go embedding openapi.yaml?")
	}
}

// The bound on a user's refresh tokens is stated where users read it, as
// the store enforces it.
func TestDocumentedRefreshTokenBoundIsTheStores(t *testing.T) {
	t.Parallel()
	want := fmt.Sprintf("at most %d live refresh tokens", store.MaxRefreshTokens)
	for _, file := range []string{"openapi.yaml", "authentication.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(strings.Fields(strings.ReplaceAll(string(b), "**", "")), " "); !strings.Contains(text, want) {
			t.Errorf("docs/%s does not say %q", file, want)
		}
	}
}
