package main

// The API reference at /docs: docs/openapi.yaml rendered in the browser by
// Redoc's standalone bundle, all of it served by the local server (no CDN),
// so the page works offline and always shows the document this build
// embeds. Like /_aws/ses it exists only in cmd/local, never in a deployed
// stack.
//
// The bundle is Redoc's (a pinned devDependency in package.json), which
// `npm ci` installs into node_modules; node_modules is not committed, so
// the server looks for it when it starts and, if it is not there, answers
// /docs with a page saying to run `npm ci` (and logs so) rather than
// failing: `make run` needs only Go.

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pufinid/pufinid-api/docs"
)

// EnvRedocBundle names the environment variable that points at Redoc's
// standalone bundle (redoc.standalone.js) instead of the node_modules of
// the repository.
const EnvRedocBundle = "PUFINID_REDOC_BUNDLE"

// redocBundlePath is where `npm ci` puts Redoc's standalone bundle,
// relative to the repository root.
var redocBundlePath = filepath.Join("node_modules", "redoc", "bundles", "redoc.standalone.js")

// The URLs of the reference, all under /docs.
const (
	docsPagePath    = "/docs"
	docsScriptPath  = "/docs/docs.js"
	docsBundlePath  = "/docs/redoc.standalone.js"
	docsOpenAPIPath = "/docs/openapi.yaml"
)

// docsCSP is the page's Content-Security-Policy: scripts from this server
// only (the bundle and docs.js, no inline script, no eval), styles from
// this server and inline (Redoc's styled-components write <style> elements
// and style attributes), Redoc's search index in a web worker it starts
// from a blob: URL, and the document fetched from this server. Nothing
// else: no other origin, no plugins, no framing, no forms.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsMissingCSP is the CSP of the page shown when the bundle is missing:
// no script at all, its own inline style only.
const docsMissingCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var (
	//go:embed docspage.html
	docsPageHTML []byte
	//go:embed docspage.js
	docsPageJS []byte
)

// docsPage serves everything under /docs.
type docsPage struct {
	bundle     []byte    // Redoc's standalone bundle; nil when not found
	bundleMod  time.Time // its modification time
	bundleETag string
	searched   []string // where the bundle was looked for, for the missing page
	openAPI    []byte
	openAPITag string
}

// The ETags of the embedded page and script.
var (
	docsPageHTMLTag = etag(docsPageHTML)
	docsPageJSTag   = etag(docsPageJS)
)

// newDocsPage finds Redoc's bundle (at $PUFINID_REDOC_BUNDLE if set, else
// at node_modules/redoc/bundles/redoc.standalone.js in the working
// directory or the nearest directory above it, up to the module root) and
// reads it, and logs where the reference is or what it needs.
func newDocsPage(getenv func(string) string, log *slog.Logger) *docsPage {
	p := &docsPage{openAPI: docs.OpenAPI, openAPITag: etag(docs.OpenAPI)}
	p.searched = redocCandidates(getenv)
	for _, path := range p.searched {
		b, mod, err := readBundle(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			log.Warn("API reference at /docs: cannot read Redoc's bundle; run `npm ci`", "path", path, "err", err)
			return p
		}
		p.bundle, p.bundleMod, p.bundleETag = b, mod, etag(b)
		log.Info("API reference at /docs, rendered by Redoc", "redoc", path)
		return p
	}
	log.Warn("API reference at /docs needs Redoc's bundle: run `npm ci` (or set "+EnvRedocBundle+"); /docs says so until then",
		"searched", p.searched)
	return p
}

// redocCandidates lists where to look for the bundle, first match wins.
func redocCandidates(getenv func(string) string) []string {
	if path := getenv(EnvRedocBundle); path != "" {
		return []string{path}
	}
	dir, err := os.Getwd()
	if err != nil {
		return []string{redocBundlePath}
	}
	var out []string
	for {
		out = append(out, filepath.Join(dir, redocBundlePath))
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return out // the module root: node_modules is never above it
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return out
		}
		dir = parent
	}
}

func readBundle(path string) ([]byte, time.Time, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, time.Time{}, fmt.Errorf("%s is not a file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(b) == 0 {
		return nil, time.Time{}, fmt.Errorf("%s is empty", path)
	}
	return b, fi.ModTime(), nil
}

func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// handleDocs routes /docs and everything under it to the reference, which
// logs to gw's log (the local API Gateway's, so run's).
func handleDocs(mux *http.ServeMux, gw http.Handler) {
	p := newDocsPage(os.Getenv, docsLogger(gw))
	mux.Handle(docsPagePath, p)
	mux.Handle(docsPagePath+"/", p)
}

// docsLogger is the log of the local server the mux serves: the gateway's.
func docsLogger(gw http.Handler) *slog.Logger {
	if g, ok := gw.(*apiGateway); ok && g.log != nil {
		return g.log
	}
	return slog.Default()
}

func (p *docsPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		writeDetail(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
		return
	}
	// Everything is revalidated (cheaply, by ETag): the bundle changes with
	// `npm ci`, the document and the page with a rebuild.
	h.Set("Cache-Control", "no-cache")
	switch r.URL.Path {
	case docsPagePath, docsPagePath + "/":
		if p.bundle == nil {
			p.serveMissing(w, r)
			return
		}
		h.Set("Content-Security-Policy", docsCSP)
		p.serve(w, r, "text/html; charset=utf-8", docsPageHTMLTag, time.Time{}, docsPageHTML)
	case docsScriptPath:
		p.serve(w, r, "text/javascript; charset=utf-8", docsPageJSTag, time.Time{}, docsPageJS)
	case docsOpenAPIPath:
		p.serve(w, r, "application/yaml", p.openAPITag, time.Time{}, p.openAPI)
	case docsBundlePath:
		if p.bundle == nil {
			h.Set("Cache-Control", "no-store")
			writeDetail(w, http.StatusNotFound, "Redoc's bundle is not installed: run `npm ci`.")
			return
		}
		p.serve(w, r, "text/javascript; charset=utf-8", p.bundleETag, p.bundleMod, p.bundle)
	default:
		writeDetail(w, http.StatusNotFound, "Not found.")
	}
}

// serve answers b, with conditional requests, HEAD and ranges handled
// (mod is zero for the embedded files: their ETag is enough).
func (p *docsPage) serve(w http.ResponseWriter, r *http.Request, contentType, tag string, mod time.Time, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", tag)
	http.ServeContent(w, r, "", mod, bytes.NewReader(b))
}

var docsMissingTemplate = template.Must(template.New("missing").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>PufinID API reference: Redoc is not installed</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>The API reference needs Redoc</h1>
<p>This page renders <a href="{{.OpenAPI}}">the OpenAPI document</a> with Redoc,
whose bundle the local server did not find. Install it (it is pinned in
<code>package.json</code>) from the repository root, then restart <code>make run</code>:</p>
<pre><code>npm ci</code></pre>
<p>Or point <code>{{.Env}}</code> at a <code>redoc.standalone.js</code>.
Looked for:</p>
<ul>{{range .Searched}}<li><code>{{.}}</code></li>{{end}}</ul>
</body>
</html>
`))

func (p *docsPage) serveMissing(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := docsMissingTemplate.Execute(&b, map[string]any{
		"OpenAPI": docsOpenAPIPath, "Env": EnvRedocBundle, "Searched": p.searched,
	}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsMissingCSP)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.Bytes())
	}
}
