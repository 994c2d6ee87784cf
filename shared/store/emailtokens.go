package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// EmailPurpose says what an emailed token is for; a user holds at most one
// token per purpose.
type EmailPurpose string

// The two purposes.
const (
	PurposeConfirm EmailPurpose = "CONFIRM" // confirm the email address
	PurposeReset   EmailPurpose = "RESET"   // reset the password
)

// EmailToken is the stored half of a single-use token sent by email: the
// SHA-256 of the secret (never the secret) and when it stops working.
type EmailToken struct {
	Hash string `dynamodbav:"hash"` // hex SHA-256 of the secret the email carries
	// ExpiresAt is epoch seconds and the table's TTL attribute. DynamoDB
	// deletes expired items up to days late, so every use also checks it.
	ExpiresAt int64 `dynamodbav:"expires_at"`
}

// Expired reports whether t no longer works at now.
func (t EmailToken) Expired(now time.Time) bool { return now.Unix() >= t.ExpiresAt }

// CreateOption adds an item to CreateUser's transaction.
type CreateOption func(*createTx)

type createTx struct {
	table, userID string
	items         []types.TransactWriteItem
}

// WithEmailToken writes t as the new user's token for p in the same
// transaction as the user, so a user never exists without the token their
// signup email carries, and a failed signup leaves no token behind.
func WithEmailToken(p EmailPurpose, t EmailToken) CreateOption {
	return func(c *createTx) {
		c.items = append(c.items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(c.table), Item: mustMarshal(emailTokenKey(c.userID, p), t)}})
	}
}

// IssueEmailToken stores t as userID's token for p, replacing any older
// one, provided the user exists and, for PurposeConfirm, has not confirmed
// their email yet: one TransactWriteItems (a condition on the profile and
// the put). When the condition fails the answer is ErrNotIssued, and
// nothing is written. For an address without an account callers pass a
// userID nobody has, so that route does exactly the same DynamoDB work.
func (s *Store) IssueEmailToken(ctx context.Context, userID string, p EmailPurpose, t EmailToken) error {
	cond := profileExists()
	if p == PurposeConfirm {
		cond = profileExists(expr{text: "#v = :false", names: map[string]string{"#v": "is_verified"},
			values: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}}})
	}
	err := s.transact(ctx, []types.TransactWriteItem{
		s.profileCheck(userID, cond),
		{Put: &types.Put{TableName: aws.String(s.table), Item: mustMarshal(emailTokenKey(userID, p), t)}},
	})
	return onFailed(err, ErrNotIssued)
}

// UserAndEmailToken reads a user and their token for p: one BatchGetItem.
// A missing user is a 404; a missing token is the zero EmailToken.
func (s *Store) UserAndEmailToken(ctx context.Context, userID string, p EmailPurpose) (pufinid.User, EmailToken, error) {
	pk, tk := userProfileKey(userID), emailTokenKey(userID, p)
	got, err := s.batchGet(ctx, []key{pk, tk})
	if err != nil {
		return pufinid.User{}, EmailToken{}, err
	}
	it, ok := got[pk]
	if !ok {
		return pufinid.User{}, EmailToken{}, errNotFound()
	}
	u, err := unmarshalAll[pufinid.User]([]item{it})
	if err != nil {
		return pufinid.User{}, EmailToken{}, err
	}
	var t EmailToken
	if it, ok := got[tk]; ok {
		ts, err := unmarshalAll[EmailToken]([]item{it})
		if err != nil {
			return pufinid.User{}, EmailToken{}, err
		}
		t = ts[0]
	}
	return u[0], t, nil
}

// ConfirmEmail uses userID's confirmation token whose hash is hash and
// marks the user verified, in one transaction: the token is deleted on
// condition that it still has that hash and has not expired at now, so of
// any number of parallel confirmations with one token exactly one succeeds.
// Any other outcome is ErrEmailTokenInvalid and changes nothing.
func (s *Store) ConfirmEmail(ctx context.Context, userID, hash string, now time.Time) error {
	return s.useEmailToken(ctx, userID, PurposeConfirm, hash, now, expr{text: "SET #v = :true",
		names:  map[string]string{"#v": "is_verified"},
		values: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}}})
}

// ResetPassword uses userID's reset token whose hash is hash (as
// ConfirmEmail does) and, in the same transaction, stores passwordHash and
// ends every session of the user (the profile's map of refresh tokens
// goes: revokeAllTokens), whatever the number of tokens. The reset link
// proved the user reads mail at the address, so the address counts as
// confirmed too.
func (s *Store) ResetPassword(ctx context.Context, userID, hash, passwordHash string, now time.Time) error {
	names := revokeAllNames()
	names["#ph"], names["#v"] = "password_hash", "is_verified"
	return s.useEmailToken(ctx, userID, PurposeReset, hash, now, expr{text: "SET #ph = :ph, #v = :true " + revokeAllTokens,
		names: names,
		values: map[string]types.AttributeValue{
			":ph":   &types.AttributeValueMemberS{Value: passwordHash},
			":true": &types.AttributeValueMemberBOOL{Value: true},
		}})
}

// useEmailToken deletes the token (conditionally) and applies update to the
// profile (on condition that it exists) in one transaction.
func (s *Store) useEmailToken(ctx context.Context, userID string, p EmailPurpose, hash string, now time.Time, update expr) error {
	err := s.transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                aws.String(s.table),
			Key:                      emailTokenKey(userID, p).av(),
			ConditionExpression:      aws.String("#h = :h AND #exp > :now"),
			ExpressionAttributeNames: map[string]string{"#h": "hash", "#exp": AttrTTL},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":h":   &types.AttributeValueMemberS{Value: hash},
				":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			},
		}},
		{Update: s.profileUpdate(userID, update, profileExists())},
	})
	return onFailed(err, ErrEmailTokenInvalid, ErrEmailTokenInvalid)
}
