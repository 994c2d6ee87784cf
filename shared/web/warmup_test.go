package web

import (
	"context"
	"net/http"
	"slices"
	"testing"
)

// InOrder runs its steps one after the other (a step that needs an earlier
// one's read must find it done), and stops once the warm-up's bound has
// passed.
func TestInOrder(t *testing.T) {
	t.Parallel()
	var ran []string
	ctx, cancel := context.WithCancel(context.Background())
	step := func(name string, end bool) func(context.Context) {
		return func(context.Context) {
			ran = append(ran, name)
			if end {
				cancel()
			}
		}
	}
	h := WithWarmUp(http.NotFoundHandler(), InOrder(step("keys", false), step("terms", true), step("late", false)))
	h.(WarmUpper).WarmUp(ctx)
	if want := []string{"keys", "terms"}; !slices.Equal(ran, want) {
		t.Errorf("steps run %v, want %v (none after the bound)", ran, want)
	}
}
