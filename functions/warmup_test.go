package functions_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/middleware"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/dev/ddbmeter"
	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/outbox"
	"github.com/pufinid/pufinid-api/shared/dev/replay"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
	"github.com/pufinid/pufinid-api/shared/web"
)

// A cold instance's warm-up (lambdafn.WarmUp, during init) may only start
// reads its first request makes anyway: with it, before the request or
// alongside it, the instance makes exactly the DynamoDB requests it makes
// without it, and answers the same. Each group's sample event (the kind
// of request a cold start meets) is replayed on a fresh instance and a
// fresh table each way.
func TestWarmUpCostsNoRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := replay.NewReplayer(ctx, replay.Options{Root: mustRoot(t), Setups: functions.Setups(), EventSetups: functions.EventSetups(),
		Targets: []string{replay.InProcess}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	evs, err := r.Events()
	if err != nil {
		t.Fatal(err)
	}
	type way struct {
		name string
		// before runs the warm-up to its end before the request;
		// otherwise it runs alongside, as in Lambda.
		warm, before bool
	}
	ways := []way{{"no warm-up", false, false}, {"warm-up first", true, true}, {"warm-up alongside", true, false}}
	for _, g := range functions.Groups {
		i := slices.IndexFunc(evs, func(e replay.Event) bool { return e.Path == g.Sample })
		if i < 0 {
			t.Fatalf("%s: no event %s", g.Function, g.Sample)
		}
		ev := evs[i]
		t.Run(g.Function, func(t *testing.T) {
			var want int64 = -1
			var wantStatus int
			for _, w := range ways {
				raw, env, err := r.Prepare(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				var req events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(raw, &req); err != nil {
					t.Fatal(err)
				}
				meter := new(ddbmeter.Meter)
				getenv := func(k string) string { return env[k] }
				h, err := g.Setup(ctx, config.Env{Getenv: getenv, Log: slog.New(slog.DiscardHandler), Mailer: outbox.New(slog.New(slog.DiscardHandler)),
					DynamoDBMiddleware: []func(*middleware.Stack) error{meter.Install}})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := h.(web.WarmUpper); !ok {
					t.Fatalf("%s has no warm-up: its first reads wait for the first event", g.Function)
				}
				done := make(chan struct{})
				close(done)
				var warmed <-chan struct{} = done
				if w.warm {
					warmed = lambdafn.WarmUp(h)
					if w.before {
						<-warmed
					}
				}
				resp, err := httpadapter.NewV2(h).ProxyWithContext(gateway.Invocation(ctx, g.Function), req)
				if err != nil {
					t.Fatal(err)
				}
				<-warmed
				n := meter.Requests.Load()
				t.Logf("%s: %d DynamoDB requests, status %d", w.name, n, resp.StatusCode)
				if want < 0 {
					want, wantStatus = n, resp.StatusCode
					continue
				}
				if n != want || resp.StatusCode != wantStatus {
					t.Errorf("%s: %d requests and status %d, want %d and %d (as without a warm-up)", w.name, n, resp.StatusCode, want, wantStatus)
				}
			}
		})
	}
}
