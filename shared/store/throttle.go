package store

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Login throttling: failed logins are counted in the table (not in Lambda
// memory, which is per instance) in fixed windows that open at the first
// failure. Once a counter reaches its limit, logins it covers answer 429
// until its window closes.
const (
	LoginWindow       = 15 * time.Minute
	LoginAccountLimit = 5  // failures per account (or per unknown login name)
	LoginIPLimit      = 50 // failures per source IP, over all accounts
)

// failWindow is one failure counter item; expires_at (the TTL attribute)
// is the end of its window.
type failWindow struct {
	Count     int   `dynamodbav:"count"`
	ExpiresAt int64 `dynamodbav:"expires_at"`
	present   bool
}

func readFailWindow(got map[key]item, k key) (failWindow, error) {
	it, ok := got[k]
	if !ok {
		return failWindow{}, nil
	}
	w, err := unmarshalAll[failWindow]([]item{it})
	if err != nil {
		return failWindow{}, err
	}
	w[0].present = true
	return w[0], nil
}

// live reports whether the window is still open at now: expiry is checked
// here, never left to TTL deletion, which runs late.
func (w failWindow) live(now time.Time) bool { return w.present && now.Unix() < w.ExpiresAt }

// failures counts the failures that still count at now.
func (w failWindow) failures(now time.Time) int {
	if !w.live(now) {
		return 0
	}
	return w.Count
}

// wait is how long a counter at or past limit keeps answering 429.
func (w failWindow) wait(now time.Time, limit int) (time.Duration, bool) {
	if w.failures(now) < limit {
		return 0, false
	}
	return time.Unix(w.ExpiresAt, 0).Sub(now), true
}

// countFailure is the transaction item that adds one failure to the counter
// at k, which was seen as seen. Adding to an open window is an ADD, safe
// under concurrency; a missing or closed window is replaced by a new one
// holding 1. Each is conditional on the item still being as seen, so two
// attempts racing to open a window cannot both start it at 1: the loser's
// transaction is cancelled and retried on a fresh read.
func (s *Store) countFailure(k key, seen failWindow, now time.Time) types.TransactWriteItem {
	u := &types.Update{
		TableName:                aws.String(s.table),
		Key:                      k.av(),
		ExpressionAttributeNames: map[string]string{"#c": "count", "#exp": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	}
	if seen.live(now) {
		u.UpdateExpression = aws.String("ADD #c :one")
	} else {
		u.UpdateExpression = aws.String("SET #c = :one, #exp = :exp")
		u.ExpressionAttributeValues[":exp"] = epoch(now.Add(LoginWindow))
	}
	if seen.present {
		u.ConditionExpression = aws.String("#exp = :seen")
		u.ExpressionAttributeValues[":seen"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(seen.ExpiresAt, 10)}
	} else {
		u.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		u.ExpressionAttributeNames["#pk"] = AttrPK
	}
	return types.TransactWriteItem{Update: u}
}

// clearFailures is the transaction item that deletes a counter.
func (s *Store) clearFailures(k key) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k.av()}}
}

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}
