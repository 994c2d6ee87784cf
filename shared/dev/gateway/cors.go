package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// CORS is an HTTP API's CorsConfiguration (template.yaml), applied as API
// Gateway applies it ("Configure CORS for HTTP APIs" in its Developer
// Guide):
//
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     is answered by the gateway itself, 204 with no body, whatever the
//     routes: with the configured Access-Control-Allow-* headers when the
//     origin is allowed, with none when it is not (the browser refuses);
//   - any other request with an allowed Origin reaches its function, and
//     the answer gets Access-Control-Allow-Origin (and Expose-Headers,
//     Allow-Credentials when configured);
//   - CORS headers a function sets itself are dropped.
//
// Each answer also carries Vary: Origin, since it depends on the Origin
// sent. A nil *CORS is an API without a CorsConfiguration.
type CORS struct {
	// AllowOrigins are exact origins ("https://app.example.com"), "*" for
	// any, or a prefix ending in "*" ("https://*": any HTTPS origin, as
	// API Gateway allows). For the local server, a pattern ending in ":*"
	// stands for any port ("http://localhost:*").
	AllowOrigins  []string
	AllowMethods  []string
	AllowHeaders  []string
	ExposeHeaders []string
	// MaxAge is how long, in seconds, a browser may keep a preflight's
	// answer; 0 sends no Access-Control-Max-Age.
	MaxAge           int
	AllowCredentials bool
}

// Allows reports whether origin may call the API, and the value of
// Access-Control-Allow-Origin to answer it with.
func (c *CORS) Allows(origin string) (string, bool) {
	if c == nil || origin == "" {
		return "", false
	}
	for _, p := range c.AllowOrigins {
		switch {
		case p == "*":
			if c.AllowCredentials {
				return origin, true // "*" is refused with credentials
			}
			return "*", true
		case strings.HasSuffix(p, ":*"):
			// scheme://host:* — the same scheme and host, any port (or none).
			base := strings.TrimSuffix(p, ":*")
			if origin == base {
				return origin, true
			}
			if port, ok := strings.CutPrefix(origin, base+":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
				return origin, true
			}
		case strings.HasSuffix(p, "*"):
			if strings.HasPrefix(origin, strings.TrimSuffix(p, "*")) {
				return origin, true
			}
		case strings.EqualFold(p, origin):
			return origin, true
		}
	}
	return "", false
}

// Preflight answers r if it is a CORS preflight and reports whether it
// did; any other request is left to the routes.
func (c *CORS) Preflight(w http.ResponseWriter, r *http.Request) bool {
	if c == nil || r.Method != http.MethodOptions || r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if allow, ok := c.Allows(r.Header.Get("Origin")); ok {
		h.Set("Access-Control-Allow-Origin", allow)
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// Decorate gives a function's answer to r the CORS headers of the
// configuration, in place of any the function set.
func (c *CORS) Decorate(resp *events.APIGatewayV2HTTPResponse, r *http.Request) {
	if c == nil {
		return
	}
	drop := func(k string) bool { return strings.HasPrefix(strings.ToLower(k), "access-control-") }
	for k := range resp.Headers {
		if drop(k) {
			delete(resp.Headers, k)
		}
	}
	for k := range resp.MultiValueHeaders {
		if drop(k) {
			delete(resp.MultiValueHeaders, k)
		}
	}
	c.SetHeaders(headerSetter(resp), r)
}

// SetHeaders sets the CORS headers of an answer to r (not a preflight)
// with set: the gateway's own answers (404, 413) get them too.
func (c *CORS) SetHeaders(set func(k, v string), r *http.Request) {
	if c == nil {
		return
	}
	set("Vary", "Origin")
	allow, ok := c.Allows(r.Header.Get("Origin"))
	if !ok {
		return
	}
	set("Access-Control-Allow-Origin", allow)
	if len(c.ExposeHeaders) > 0 {
		set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
	if c.AllowCredentials {
		set("Access-Control-Allow-Credentials", "true")
	}
}

// headerSetter sets a header of a response event, merging Vary with what
// the function gave.
func headerSetter(resp *events.APIGatewayV2HTTPResponse) func(k, v string) {
	return func(k, v string) {
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		if strings.EqualFold(k, "Vary") {
			for hk, hv := range resp.Headers {
				if strings.EqualFold(hk, "Vary") {
					if !slices.ContainsFunc(strings.Split(hv, ","), func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), v) }) {
						resp.Headers[hk] = hv + ", " + v
					}
					return
				}
			}
		}
		resp.Headers[http.CanonicalHeaderKey(k)] = v
	}
}
