package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// What Amazon SES reports back about an address (functions/emailfeedback)
// and what the users function reads of it before sending.
//
// A hard bounce or a complaint suppresses the address for good: the item
// SUPPRESSED#<canonical address> / SUPPRESSED, which only an operator
// removes (docs/email.md). Soft bounces (SES already retried them) are
// counted in SUPPRESSED#<address> / SOFTBOUNCE, kept SoftBounceMemory
// after the last one; they never suppress.
//
// SNS delivers a message at least once, in no set order, and Lambda
// retries a failed one for hours: every write adds the SES feedback id of
// the event it records to the item's set of ids and is conditional on the
// id not being there, so an event delivered twice counts once, whatever
// came between. The soft bounce count's expiry is reckoned from when it
// was recorded (the store's clock), so a late event cannot move it back.

// Why an address is suppressed.
const (
	SuppressedBounce    = "bounce"
	SuppressedComplaint = "complaint"
)

// SoftBounceMemory is how long an address's soft bounce count is kept
// after its last soft bounce (the item's TTL).
const SoftBounceMemory = 30 * 24 * time.Hour

// Feedback is one SES event about one address.
type Feedback struct {
	Address string
	// Reason is SuppressedBounce or SuppressedComplaint (Suppress only).
	Reason string
	// Detail is SES's bounce subtype or complaint feedback type.
	Detail string
	// At is when SES says it happened (zero: when it is recorded).
	At time.Time
	// FeedbackID is SES's id of the bounce or complaint.
	FeedbackID string
}

// Suppressed is the suppression item of an address.
type Suppressed struct {
	Address       string   `dynamodbav:"address"`
	Reasons       []string `dynamodbav:"reasons,stringset"`
	Detail        string   `dynamodbav:"detail"`
	SuppressedAt  string   `dynamodbav:"suppressed_at"`
	LastEventAt   string   `dynamodbav:"last_event_at"`
	FeedbackIDs   []string `dynamodbav:"feedback_ids,stringset"`
	Events        int      `dynamodbav:"events"`
	SoftBounces   int      `dynamodbav:"soft_bounces"`
	SoftExpiresAt int64    `dynamodbav:"expires_at"`
}

// Suppress records f, a hard bounce or a complaint, on f.Address: one
// UpdateItem. The first event's detail and time stay; later ones add
// their reason and count. It reports whether f was new (false for a
// feedback id recorded already).
func (s *Store) Suppress(ctx context.Context, f Feedback) (bool, error) {
	return s.recordFeedback(ctx, suppressionKey(f.Address), f,
		"SET #addr = :addr, #detail = if_not_exists(#detail, :detail), #first = if_not_exists(#first, :at),"+
			" #last = :at ADD #reasons :reason, #events :one, #fids :fid",
		map[string]string{"#detail": "detail", "#first": "suppressed_at", "#reasons": "reasons", "#events": "events"},
		map[string]types.AttributeValue{
			":detail": &types.AttributeValueMemberS{Value: nonEmpty(f.Detail)},
			":reason": &types.AttributeValueMemberSS{Value: []string{nonEmpty(f.Reason)}},
		})
}

// CountSoftBounce adds f, a soft bounce, to f.Address's count: one
// UpdateItem. It reports whether f was new.
func (s *Store) CountSoftBounce(ctx context.Context, f Feedback) (bool, error) {
	return s.recordFeedback(ctx, softBounceKey(f.Address), f,
		"SET #addr = :addr, #last = :at, #exp = :exp ADD #n :one, #fids :fid",
		map[string]string{"#exp": AttrTTL, "#n": "soft_bounces"},
		map[string]types.AttributeValue{
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.now().Add(SoftBounceMemory).Unix(), 10)},
		})
}

func (s *Store) recordFeedback(ctx context.Context, k key, f Feedback, update string, names map[string]string, vals map[string]types.AttributeValue) (bool, error) {
	names["#addr"], names["#last"], names["#fids"] = "address", "last_event_at", "feedback_ids"
	at := f.At
	if at.IsZero() { // SES gave no time: when it is recorded
		at = s.now()
	}
	vals[":addr"] = &types.AttributeValueMemberS{Value: f.Address}
	vals[":at"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}
	vals[":fid"] = &types.AttributeValueMemberSS{Value: []string{nonEmpty(f.FeedbackID)}}
	vals[":fidv"] = &types.AttributeValueMemberS{Value: nonEmpty(f.FeedbackID)}
	vals[":one"] = &types.AttributeValueMemberN{Value: "1"}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       k.av(),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_not_exists(#fids) OR NOT contains(#fids, :fidv)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: vals,
	})
	if err == nil {
		return true, nil
	}
	if len(failedConditions(err)) > 0 {
		return false, nil // this event, recorded already
	}
	return false, unavailable(err)
}

// nonEmpty is v, or "-" for a value SES left out: DynamoDB refuses an
// empty string in a set and an attribute is clearer with a mark.
func nonEmpty(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// IsSuppressed reports whether address is suppressed: one eventually
// consistent GetItem (a suppression recorded a second ago may be missed
// once; SES's own configuration-set suppression is the second layer).
func (s *Store) IsSuppressed(ctx context.Context, address string) (bool, error) {
	var it struct {
		Events int `dynamodbav:"events"`
	}
	return s.get(ctx, suppressionKey(address), &it, eventual)
}

// Suppression reads address's suppression and soft bounce items, for the
// tests and tools: one strongly consistent BatchGetItem.
func (s *Store) Suppression(ctx context.Context, address string) (sup Suppressed, suppressed bool, err error) {
	got, err := s.batchGet(ctx, []key{suppressionKey(address), softBounceKey(address)})
	if err != nil {
		return sup, false, err
	}
	if it, ok := got[suppressionKey(address)]; ok {
		v, err := unmarshalAll[Suppressed]([]item{it})
		if err != nil {
			return sup, false, err
		}
		sup, suppressed = v[0], true
	}
	if it, ok := got[softBounceKey(address)]; ok {
		v, err := unmarshalAll[Suppressed]([]item{it})
		if err != nil {
			return sup, false, err
		}
		sup.Address, sup.SoftBounces, sup.SoftExpiresAt = v[0].Address, v[0].SoftBounces, v[0].SoftExpiresAt
		if !suppressed {
			sup.LastEventAt, sup.FeedbackIDs = v[0].LastEventAt, v[0].FeedbackIDs
		}
	}
	return sup, suppressed, nil
}
