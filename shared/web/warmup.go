package web

import (
	"context"
	"net/http"
)

// WarmUpper is a handler that can start, on a cold instance, the reads its
// first request is sure to make: lambdafn.Start runs WarmUp in the
// background during init, so those reads overlap the fetching of the first
// event, and the request joins them instead of making them. Only reads
// every request of the group (or nearly: the users group's signup and
// login do not verify a token) makes first belong in it, so a warm-up
// costs no request that was not coming.
type WarmUpper interface {
	WarmUp(ctx context.Context)
}

// WithWarmUp is h, warming up with warm.
func WithWarmUp(h http.Handler, warm func(context.Context)) http.Handler {
	return warmHandler{Handler: h, warm: warm}
}

type warmHandler struct {
	http.Handler
	warm func(context.Context)
}

func (h warmHandler) WarmUp(ctx context.Context) { h.warm(ctx) }

// InOrder is a warm-up that runs steps one after the other, each within
// the same bound: a step that needs what an earlier one read (the terms
// need the reference pointer the key set's read brings) finds it there
// instead of making its own read alongside.
func InOrder(steps ...func(context.Context)) func(context.Context) {
	return func(ctx context.Context) {
		for _, step := range steps {
			if ctx.Err() != nil {
				return
			}
			step(ctx)
		}
	}
}
