package main

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pufinid/pufinid-api/docs"
)

// docsOperation is one operation of docs/openapi.yaml.
type docsOperation struct {
	method, path, id, summary string
}

// docsOperations lists the operations of the embedded OpenAPI document.
func docsOperations(t *testing.T) []docsOperation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	var ops []docsOperation
	for path, item := range doc.Paths {
		for method, node := range item {
			if !slices.Contains(methods, method) {
				continue // parameters, summary, servers...
			}
			var op struct {
				OperationID string `yaml:"operationId"`
				Summary     string `yaml:"summary"`
			}
			if err := node.Decode(&op); err != nil {
				t.Fatalf("docs/openapi.yaml %s %s: %v", method, path, err)
			}
			ops = append(ops, docsOperation{method, path, op.OperationID, op.Summary})
		}
	}
	if len(ops) == 0 {
		t.Fatal("docs/openapi.yaml has no operations")
	}
	slices.SortFunc(ops, func(a, b docsOperation) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return ops
}

// mustFindRedoc returns the path of Redoc's bundle, skipping the test
// without it (failing under CI, which installs it with npm ci).
func mustFindRedoc(t *testing.T) string {
	t.Helper()
	for _, path := range redocCandidates(os.Getenv) {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	msg := "Redoc's bundle (node_modules/redoc/bundles/redoc.standalone.js) is not installed: run npm ci"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this test may not skip)")
	}
	t.Skip(msg)
	return ""
}

// chromiumNames are the names headless Chromium goes by: Debian's
// package, Ubuntu's and Google's builds (GitHub's Ubuntu runners have
// google-chrome, and Ubuntu's chromium is a snap that does not run there).
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// mustFindChromium returns the path of a Chromium binary ($CHROMIUM, or
// the first of chromiumNames on PATH), skipping the test without one
// (failing under CI, whose .ci/run installs it).
func mustFindChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "chromium is not on PATH (apt-get install -y --no-install-recommends chromium): cannot render /docs"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set, so this test may not skip)")
	}
	t.Skip(msg)
	return ""
}

// screenshotPath is where TestDocsPageRendersEveryOperation leaves its
// screenshot: outside t.TempDir(), which is removed.
func screenshotPath() string {
	const name = "pufinid-docs-screenshot.png"
	if dir := os.Getenv("TEST_ARTIFACTS_DIR"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(os.TempDir(), name)
}

const (
	shotWidth, shotHeight = 1280, 2000
	// virtualTimeBudget is how much virtual time (ms) Chromium gives the
	// page before it dumps the DOM and takes the screenshot. Virtual time
	// stands still while the page loads a resource or runs a script, so
	// this is generous on a busy machine and costs nothing on an idle one:
	// Chromium fast-forwards idle time.
	virtualTimeBudget = "30000"
	chromiumTimeout   = 2 * time.Minute
)

// The one resource the page's CSP blocks: Redoc's sidebar footer ("API
// docs by Redocly") shows the Redocly logo from Redocly's CDN, and drops
// the image when it does not load. Offline, and with no other origin
// allowed, it never does.
var redoclyLogo = regexp.MustCompile(`^img-src blocked https://cdn\.redoc\.ly/`)

var (
	tagsRE      = regexp.MustCompile(`<[^>]*>`)
	spacesRE    = regexp.MustCompile(`\s+`)
	sectionIDRE = regexp.MustCompile(`\bid="operation/([^"]+)"`)
	redocAttrRE = regexp.MustCompile(`<div id="redoc"[^>]*\bdata-redoc="([^"]*)"`)
	cspAttrRE   = regexp.MustCompile(`\bdata-csp-violations="([^"]*)"`)
)

// runChromium opens url in headless Chromium, with a profile of its own
// and no host resolvable but hosts (a --host-resolver-rules EXCLUDE list,
// comma separated), and returns the DOM once the virtual time budget is
// spent (virtual time stands still while the page waits on the network),
// with Chromium's stderr. args are added to the command line.
func runChromium(t *testing.T, chromium, url, hosts string, args ...string) (dom, stderr string) {
	t.Helper()
	tmp := t.TempDir()
	rules := "MAP * ~NOTFOUND"
	for h := range strings.SplitSeq(hosts, ",") {
		rules += ", EXCLUDE " + h
	}
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, append([]string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--mute-audio",
		"--user-data-dir=" + filepath.Join(tmp, "profile"),
		"--host-resolver-rules=" + rules,
		"--virtual-time-budget=" + virtualTimeBudget,
	}, append(args, "--dump-dom", url)...)...)
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v after %v\nstderr:\n%s", chromium, err, time.Since(start).Round(time.Millisecond), errOut.Bytes())
	}
	return out.String(), errOut.String()
}

// text is the text of an HTML fragment, its whitespace collapsed.
func text(fragment string) string {
	return strings.TrimSpace(spacesRE.ReplaceAllString(html.UnescapeString(tagsRE.ReplaceAllString(fragment, " ")), " "))
}

// TestDocsPageRendersEveryOperation opens /docs of the local server in
// headless Chromium, under the page's own Content-Security-Policy and with
// every host but 127.0.0.1 unresolvable (so nothing can come from a CDN),
// and checks that Redoc rendered every operation of docs/openapi.yaml: a
// section per operationId with its summary, method and path, and that the
// CSP blocked nothing Redoc needs. It leaves a screenshot of the page.
func TestDocsPageRendersEveryOperation(t *testing.T) {
	mustFindRedoc(t)
	chromium := mustFindChromium(t)
	ops := docsOperations(t)

	base, logs := mustStart(t, nil, nil)
	var logged bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "API reference at /docs, rendered by Redoc" {
			logged = true
		}
	}
	if !logged {
		t.Error("the server did not log where the API reference is")
	}
	// Both /docs and /docs/ are the page, with its CSP (newMux's routes).
	for _, path := range []string{"/docs", "/docs/"} {
		resp := mustDo(t, "GET", base+path)
		if resp.Status != http.StatusOK || resp.Header.Get("Content-Security-Policy") != docsCSP || !bytes.Equal(resp.Body, docsPageHTML) {
			t.Errorf("GET %s: %d, CSP %q", path, resp.Status, resp.Header.Get("Content-Security-Policy"))
		}
	}

	shot := screenshotPath()
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(shot)
	// One run dumps the DOM (stdout) and takes the screenshot, both once
	// the virtual time budget is spent.
	start := time.Now()
	dom, stderr := runChromium(t, chromium, base+"/docs", "127.0.0.1",
		"--window-size="+strconv.Itoa(shotWidth)+","+strconv.Itoa(shotHeight), "--screenshot="+shot)
	t.Logf("chromium rendered /docs in %v", time.Since(start).Round(time.Millisecond))

	if m := cspAttrRE.FindStringSubmatch(dom); m != nil {
		for _, v := range strings.Split(html.UnescapeString(m[1]), "\n") {
			if redoclyLogo.MatchString(v) {
				t.Logf("blocked by the CSP, as expected: %s", v)
				continue
			}
			t.Errorf("the page's Content-Security-Policy blocked what Redoc needs: %s", v)
		}
	}

	if m := redocAttrRE.FindStringSubmatch(dom); m == nil || m[1] != "rendered" {
		state := "no Redoc container"
		if m != nil {
			state = html.UnescapeString(m[1])
		}
		t.Fatalf("Redoc did not render the document: %s\nstderr:\n%s\nDOM (%d bytes): %.2000s", state, stderr, len(dom), dom)
	}
	// Each operation's section runs from its id="operation/..." to the next.
	sections := map[string]string{}
	locs := sectionIDRE.FindAllStringSubmatchIndex(dom, -1)
	for i, loc := range locs {
		end := len(dom)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		sections[dom[loc[2]:loc[3]]] = text(dom[loc[0]:end])
	}
	page := text(dom)
	for _, op := range ops {
		name := strings.ToUpper(op.method) + " " + op.path
		where, ok := page, true
		if op.id != "" {
			where, ok = sections[op.id]
		}
		switch {
		case !ok:
			t.Errorf("%s (%s): no section operation/%s in the rendered page", name, op.summary, op.id)
		case op.summary != "" && !strings.Contains(where, op.summary):
			t.Errorf("%s: summary %q not rendered", name, op.summary)
		case !strings.Contains(where, op.method+" "+op.path):
			t.Errorf("%s (%s): method and path not rendered together", name, op.summary)
		}
		delete(sections, op.id)
	}
	for id := range sections {
		t.Errorf("the page renders operation %s, which docs/openapi.yaml does not have", id)
	}

	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\nstderr:\n%s", err, stderr)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != shotWidth || b.Dy() != shotHeight {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), shotWidth, shotHeight)
	}
	fi, _ := f.Stat()
	t.Logf("%d operations rendered; screenshot: %s (%dx%d, %d bytes)", len(ops), shot, shotWidth, shotHeight, fi.Size())
}

// docsGet asks h for path and returns the answer.
func docsGet(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDocsPageHeaders checks what the local server answers under /docs
// when Redoc's bundle is there (a stand-in bundle: the headers do not
// depend on its content).
func TestDocsPageHeaders(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "redoc.standalone.js")
	if err := os.WriteFile(bundle, []byte("/* redoc */"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	getenv := func(k string) string {
		if k == EnvRedocBundle {
			return bundle
		}
		return ""
	}
	p := newDocsPage(getenv, slog.New(slog.NewJSONHandler(&logs, nil)))
	if !strings.Contains(logs.String(), bundle) {
		t.Errorf("the log does not say which bundle is served: %s", logs.String())
	}

	tests := []struct {
		path, contentType string
		want              []byte
	}{
		{"/docs", "text/html; charset=utf-8", docsPageHTML},
		{"/docs/", "text/html; charset=utf-8", docsPageHTML},
		{"/docs/docs.js", "text/javascript; charset=utf-8", docsPageJS},
		{"/docs/redoc.standalone.js", "text/javascript; charset=utf-8", []byte("/* redoc */")},
		{"/docs/openapi.yaml", "application/yaml", docs.OpenAPI},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp := docsGet(t, p, "GET", tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d, want 200", resp.StatusCode)
			}
			if got := body(t, resp); !bytes.Equal(got, tc.want) {
				t.Errorf("body %.80q, want %.80q", got, tc.want)
			}
			h := resp.Header
			for k, want := range map[string]string{
				"Content-Type": tc.contentType, "Cache-Control": "no-cache",
				"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if strings.HasPrefix(tc.contentType, "text/html") != (h.Get("Content-Security-Policy") != "") {
				t.Errorf("Content-Security-Policy %q on %s", h.Get("Content-Security-Policy"), tc.contentType)
			}
			etag := h.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			if resp := docsGet(t, p, "GET", tc.path, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match its ETag: %d, want 304", resp.StatusCode)
			}
			if resp := docsGet(t, p, "HEAD", tc.path); resp.StatusCode != http.StatusOK || len(body(t, resp)) != 0 {
				t.Errorf("HEAD: %d with a body", resp.StatusCode)
			}
		})
	}

	csp := docsGet(t, p, "GET", "/docs").Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "worker-src blob:", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d+";") && !strings.HasSuffix(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows eval or another origin", csp)
	}
	// The page loads only what this server serves, by absolute path, so
	// /docs and /docs/ load the same.
	for _, ref := range []string{`src="/docs/docs.js"`, `src="/docs/redoc.standalone.js"`} {
		if !bytes.Contains(docsPageHTML, []byte(ref)) {
			t.Errorf("the page has no %s", ref)
		}
	}
	if !bytes.Contains(docsPageJS, []byte(`"/docs/openapi.yaml"`)) {
		t.Error("docs.js does not render /docs/openapi.yaml")
	}

	if resp := docsGet(t, p, "GET", "/docs/index.html"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /docs/index.html: %d, want 404", resp.StatusCode)
	}
	resp := docsGet(t, p, "POST", "/docs")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /docs: %d Allow %q, want 405 with Allow: GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestDocsPageWithoutRedoc checks that, with no bundle, the server still
// serves /docs: a page (no script) saying to run npm ci, and a warning
// in the log when it starts.
func TestDocsPageWithoutRedoc(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "node_modules", "redoc", "bundles", "redoc.standalone.js")
	var logs bytes.Buffer
	p := newDocsPage(func(k string) string {
		if k == EnvRedocBundle {
			return missing
		}
		return ""
	}, slog.New(slog.NewJSONHandler(&logs, nil)))
	if l := logs.String(); !strings.Contains(l, `"level":"WARN"`) || !strings.Contains(l, "npm ci") || !strings.Contains(l, missing) {
		t.Errorf("startup log does not warn to run npm ci: %s", l)
	}
	for _, path := range []string{"/docs", "/docs/"} {
		resp := docsGet(t, p, "GET", path)
		b := string(body(t, resp))
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "npm ci") || !strings.Contains(b, missing) {
			t.Errorf("GET %s: %d %q, want 503 saying to run npm ci", path, resp.StatusCode, b)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if strings.Contains(b, "<script") {
			t.Errorf("GET %s: the page has a script", path)
		}
	}
	if resp := docsGet(t, p, "GET", "/docs/redoc.standalone.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the missing bundle: %d, want 404", resp.StatusCode)
	}
	// The document is still served.
	if resp := docsGet(t, p, "GET", "/docs/openapi.yaml"); resp.StatusCode != http.StatusOK || !bytes.Equal(body(t, resp), docs.OpenAPI) {
		t.Errorf("GET /docs/openapi.yaml without Redoc: %d", resp.StatusCode)
	}
}
