package store

import (
	"context"
	"crypto/rand"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The limits on emails sent to one address by one email-sending route.
const (
	MailGap        = time.Minute    // at least this long between two emails
	MailWindow     = 24 * time.Hour // at most MailPerWindow emails in this long
	MailPerWindow  = 10
	mailItemMaxAge = MailWindow // the throttle item outlives both limits
)

// AllowEmail takes one email from the budget of address for purpose p and
// reports whether it may be sent: not if one was sent less than MailGap
// ago, nor if MailPerWindow were sent in the window (MailWindow long)
// that started with the first of them. It works the same whether or not
// the address has an account, so its answer tells nobody which addresses
// do.
//
// The budget is one item with the window's start, the count sent in it and
// the time of the last one, changed only by conditional writes, so parallel
// requests on every Lambda instance share it and cannot both take the last
// email. The common case, a window in progress, is one UpdateItem; opening
// a new window (or refusing) takes a second, conditional PutItem. Expiry is
// decided by the times in the item, never by whether DynamoDB's TTL has
// removed it yet.
//
// Both writes record this call's own random id. When both conditions fail,
// a strongly consistent read of the item tells a budget really spent from
// one this call spent itself: a write that committed but whose answer was
// lost, and that the SDK then sent again, finds its own id there and the
// email is sent, not silently dropped.
func (s *Store) AllowEmail(ctx context.Context, address string, p EmailPurpose, now time.Time) (bool, error) {
	k := mailThrottleKey(address, p)
	num := func(t time.Time) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
	}
	call := &types.AttributeValueMemberS{Value: rand.Text()}
	names := map[string]string{"#pk": AttrPK, "#start": "window_start", "#n": "sent", "#last": "last_sent", "#exp": AttrTTL, "#call": "last_call"}
	// A window in progress: one more, if the gap has passed and the
	// window's budget is not spent.
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              k.av(),
		UpdateExpression: aws.String("SET #last = :now, #exp = :exp, #call = :call ADD #n :one"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #start > :windowAgo AND #last <= :gapAgo" +
			" AND #n < :max"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":       num(now),
			":exp":       num(now.Add(mailItemMaxAge)),
			":one":       &types.AttributeValueMemberN{Value: "1"},
			":windowAgo": num(now.Add(-MailWindow)),
			":gapAgo":    num(now.Add(-MailGap)),
			":max":       &types.AttributeValueMemberN{Value: strconv.Itoa(MailPerWindow)},
			":call":      call,
		},
	})
	if err == nil {
		return true, nil
	}
	if len(failedConditions(err)) == 0 {
		return false, unavailable(err)
	}
	// No window in progress (never one, or it is over): open one with this
	// email, unless the last email is too recent.
	it := k.av()
	it["window_start"] = num(now)
	it["sent"] = &types.AttributeValueMemberN{Value: "1"}
	it["last_sent"] = num(now)
	it[AttrTTL] = num(now.Add(mailItemMaxAge))
	it["last_call"] = call
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR (#start <= :windowAgo AND #last <= :gapAgo)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#start": "window_start", "#last": "last_sent"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":windowAgo": num(now.Add(-MailWindow)),
			":gapAgo":    num(now.Add(-MailGap)),
		},
	})
	if err == nil {
		return true, nil
	}
	if len(failedConditions(err)) == 0 {
		return false, unavailable(err)
	}
	var seen struct {
		LastCall string `dynamodbav:"last_call"`
	}
	if _, err := s.get(ctx, k, &seen, strong); err != nil {
		return false, err
	}
	return seen.LastCall == call.Value, nil
}
