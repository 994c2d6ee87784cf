package store

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/telemetry"
)

// How the store rides out DynamoDB's transient answers. Two layers:
//
//   - The SDK retries one call: throttling (ThrottlingException,
//     ProvisionedThroughputExceededException), 5xx answers, dropped
//     connections, and TransactionConflictException (a single-item write on
//     an item a transaction holds), up to defaultMaxAttempts attempts. A
//     TransactWriteItems keeps its ClientRequestToken across these, so a
//     transaction whose answer was lost after it committed is not applied
//     twice; every other conditional write is written to be safe to repeat.
//   - The store repeats what DynamoDB asks it to: a transaction cancelled
//     only because it overlapped another one (TransactionConflict), and the
//     keys or items a batch left unprocessed. These are new calls, after a
//     pause that grows and is jittered, so that requests that collided do
//     not collide again.
//
// Both are bounded, well within a function's 10 s timeout: when they run out
// the call fails and the request gets a 503.
const (
	defaultMaxAttempts = 5
	backoffBase        = 25 * time.Millisecond
	backoffCap         = 500 * time.Millisecond
	// maxStoreAttempts bounds the store's own repeats (conflicts, batches).
	maxStoreAttempts = 8
)

// newRetryer is the SDK retryer of the store's client.
func newRetryer(maxAttempts int) aws.Retryer {
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
			return jitter(attempt), nil
		})
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{
			Codes: map[string]struct{}{"TransactionConflictException": {}},
		})
	})
}

// jitter is the pause before the attempt-th repeat (from 1): "full jitter",
// uniform below an exponential bound.
func jitter(attempt int) time.Duration {
	bound := backoffCap
	if attempt < 8 {
		bound = min(backoffCap, backoffBase<<attempt)
	}
	return rand.N(bound) + time.Millisecond
}

// countRetries adds the SDK's repeats of each call to the request's
// DynamoDBRetries metric: the retry middleware records every attempt in
// the call's metadata, which comes back up through this one.
func countRetries(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountRetries",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if res, ok := retry.GetAttemptResults(md); ok && len(res.Results) > 1 {
				telemetry.Add(ctx, telemetry.DynamoDBRetries, float64(len(res.Results)-1))
			}
			return out, md, err
		}), middleware.Before)
}

// pause waits before the attempt-th repeat, or until ctx ends. The repeat
// is a new call: it counts as a retry.
func pause(ctx context.Context, attempt int) error {
	telemetry.Count(ctx, telemetry.DynamoDBRetries)
	t := time.NewTimer(jitter(attempt))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transact runs a TransactWriteItems, repeating it while DynamoDB cancels
// it for contention alone. Its error, if any, is the last answer's:
// callers read a cancellation's reasons from it as from one call.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 1; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil || !contentionOnly(err) || attempt == maxStoreAttempts {
			return err
		}
		if perr := pause(ctx, attempt); perr != nil {
			return err
		}
	}
}

// contentionOnly reports a transaction cancelled because it overlapped
// another (TransactionConflict) or was throttled, with no condition failed
// and nothing invalid: trying it again may succeed. DynamoDB gives a reason
// for every item, "None" for those that did not stop it.
func contentionOnly(err error) bool {
	reasons, ok := cancellationReasons(err)
	if !ok {
		return false
	}
	contention := false
	for _, r := range reasons {
		switch aws.ToString(r.Code) {
		case "None", "":
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			contention = true
		default:
			return false
		}
	}
	return contention
}
