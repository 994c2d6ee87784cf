// Package apierror defines the errors every layer of the API returns.
//
// An Error carries a Code that says what went wrong in terms a client can act
// on; package web maps each Code to exactly one HTTP status and body. Errors
// that are not *Error (a bug, an unexpected SDK failure) are internal: they are
// logged with the request id and never shown to the client.
package apierror

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the client.
type Code string

// The codes, in the spirit of benbjohnson/wtf, each with one HTTP status.
const (
	Invalid          Code = "invalid"            // 400: bad input, Fields or Message says what
	NotAuthenticated Code = "not_authenticated"  // 401: wrong credentials or bad token
	Forbidden        Code = "forbidden"          // 403: missing, expired or wrong-type access token
	NotFound         Code = "not_found"          // 404
	MethodNotAllowed Code = "method_not_allowed" // 405
	Conflict         Code = "conflict"           // 409 unless mapped to a field error first
	TooLarge         Code = "too_large"          // 413
	UnsupportedMedia Code = "unsupported_media"  // 415
	Throttled        Code = "throttled"          // 429, RetryAfter set
	Unavailable      Code = "unavailable"        // 503: DynamoDB or SES did not answer
)

// Error is an error meant for the client.
type Error struct {
	Code    Code
	Message string              // the "detail" of a non-field error
	Fields  map[string][]string // DRF field errors; "non_field_errors" for the whole body
	// TokenCode is simplejwt's "code" member ("token_not_valid"), sent beside detail.
	TokenCode  string
	RetryAfter time.Duration // for Throttled
	Err        error         // the cause, logged and never sent
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		msg += fmt.Sprintf(" %v", e.Fields)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of err, or "" for an internal error.
func CodeOf(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Field returns a 400 with one message for one field.
func Field(field, msg string) *Error {
	return &Error{Code: Invalid, Fields: map[string][]string{field: {msg}}}
}

// FieldErrors is a builder for DRF-style field errors.
type FieldErrors map[string][]string

// Add records msg against field.
func (f FieldErrors) Add(field, msg string) { f[field] = append(f[field], msg) }

// Has reports whether field already has an error.
func (f FieldErrors) Has(field string) bool { return len(f[field]) > 0 }

// Err returns nil when there are no errors, else a 400 Error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Fields: f}
}

// New returns an error with a detail message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// NotFoundErr is DRF's 404 body.
func NotFoundErr() *Error { return New(NotFound, "Not found.") }

// UnavailableErr wraps the cause of an outage of DynamoDB or SES.
func UnavailableErr(cause error) *Error {
	return &Error{Code: Unavailable, Message: "Service temporarily unavailable.", Err: cause}
}

// TokenInvalid is simplejwt's answer to a bad token on the token routes.
func TokenInvalid() *Error {
	return &Error{Code: NotAuthenticated, Message: "Token is invalid or expired", TokenCode: "token_not_valid"}
}

// ThrottledErr is DRF's throttle answer; wait is rounded up to whole seconds.
func ThrottledErr(wait time.Duration) *Error {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &Error{
		Code:       Throttled,
		Message:    fmt.Sprintf("Request was throttled. Expected available in %d seconds.", secs),
		RetryAfter: time.Duration(secs) * time.Second,
	}
}
