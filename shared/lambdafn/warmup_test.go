package lambdafn

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/web"
)

func TestWarmUp(t *testing.T) {
	t.Parallel()
	plain := http.NotFoundHandler()
	t.Run("a handler without one is done at once", func(t *testing.T) {
		t.Parallel()
		select {
		case <-WarmUp(plain):
		case <-time.After(time.Second):
			t.Fatal("not done")
		}
	})
	t.Run("it runs in the background, bounded", func(t *testing.T) {
		t.Parallel()
		started := make(chan time.Time, 1)
		var deadline time.Time
		h := web.WithWarmUp(plain, func(ctx context.Context) {
			deadline, _ = ctx.Deadline()
			started <- time.Now()
			<-ctx.Done()
		})
		before := time.Now()
		done := WarmUp(h)
		if time.Since(before) > 100*time.Millisecond {
			t.Error("WarmUp waited for the warm-up")
		}
		<-started
		<-done
		if d := deadline.Sub(before); d <= 0 || d > warmUpTimeout+100*time.Millisecond {
			t.Errorf("the warm-up's deadline is %v after it started, want at most %v", d, warmUpTimeout)
		}
	})
	t.Run("a panic ends the warm-up, not the process", func(t *testing.T) {
		t.Parallel()
		<-WarmUp(web.WithWarmUp(plain, func(context.Context) { panic("warm-up") }))
	})
}
