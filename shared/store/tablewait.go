package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// WaitForTable returns once the table is ACTIVE, or fails after timeout.
// DynamoDB creates tables asynchronously, so a tool that creates the table
// and then writes to it (cmd/seed against LocalStack or AWS) waits here
// first.
func (s *Store) WaitForTable(ctx context.Context, timeout time.Duration) error {
	w := dynamodb.NewTableExistsWaiter(s.db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
		o.Retryable = tableNotReady
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)}, timeout); err != nil {
		return unavailable(err)
	}
	return nil
}

// tableNotReady is the SDK's TableExists rule, except that a description
// without a status counts as ready: the embedded store (minidyn) reports
// none, its tables being usable as soon as they are created.
func tableNotReady(_ context.Context, _ *dynamodb.DescribeTableInput, out *dynamodb.DescribeTableOutput, err error) (bool, error) {
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		return true, nil
	case err != nil:
		return false, err
	case out == nil || out.Table == nil:
		return true, nil
	}
	st := out.Table.TableStatus
	return st != types.TableStatusActive && st != "", nil
}
