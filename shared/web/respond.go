package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// JSON writes v as the JSON body with status. Like DRF's renderer, and
// unlike json.Marshal, it leaves &, < and > as they are: a page's next
// link reads "?limit=20&offset=20", not "\u0026offset=20".
func JSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := encode(v)
	if err != nil {
		// Only a programming error gets here: every response type marshals.
		Logger(r.Context()).Error("encode response", "err", err)
		status = http.StatusInternalServerError
		body = []byte(`{"detail":"A server error occurred."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encode is v as the API writes JSON: HTML characters as they are, no
// trailing newline.
func encode(v any) ([]byte, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(body.Bytes(), []byte("\n")), nil
}

// NoContent answers 204 with no body.
func NoContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }

var statusOf = map[apierror.Code]int{
	apierror.Invalid:          http.StatusBadRequest,
	apierror.NotAuthenticated: http.StatusUnauthorized,
	apierror.Forbidden:        http.StatusForbidden,
	apierror.NotFound:         http.StatusNotFound,
	apierror.MethodNotAllowed: http.StatusMethodNotAllowed,
	apierror.Conflict:         http.StatusConflict,
	apierror.TooLarge:         http.StatusRequestEntityTooLarge,
	apierror.UnsupportedMedia: http.StatusUnsupportedMediaType,
	apierror.Throttled:        http.StatusTooManyRequests,
	apierror.Unavailable:      http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status err maps to.
func StatusOf(err error) int {
	if s, ok := statusOf[apierror.CodeOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is the one place an error becomes an HTTP answer. Client errors get
// their DRF-style body; outages are logged and get the contract's 503; anything
// else is a bug, logged with the request id, and the client sees only a
// generic 500 detail.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errors.AsType[*apierror.Error](err)
	if !ok {
		Logger(r.Context()).Error("internal error", "err", err)
		JSON(w, r, http.StatusInternalServerError, map[string]string{"detail": "A server error occurred."})
		return
	}
	status := StatusOf(e)
	if e.Code == apierror.Unavailable {
		Logger(r.Context()).Error("dependency unavailable", "err", e.Err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
	if len(e.Fields) > 0 {
		JSON(w, r, status, e.Fields)
		return
	}
	JSON(w, r, status, detailBody{Detail: e.Message, Code: e.TokenCode})
}

// detailBody keeps simplejwt's member order: detail, then code.
type detailBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code,omitempty"`
}
