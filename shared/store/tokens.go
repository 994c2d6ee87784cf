package store

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// RefreshToken is the table's record of one issued refresh token. The JWT
// proves what it claims; this record says the token has not been revoked
// and carries the access lifetime to mint with, so a refresh needs no read
// of the profile.
type RefreshToken struct {
	UserID         string
	JTI            string
	ExpiresAt      time.Time     // the token's own expiry; refreshing never moves it
	AccessLifetime time.Duration // of the access tokens it mints (the organization's)
}

// refreshTokenItem is how a RefreshToken is stored; expires_at is the TTL
// attribute, so DynamoDB drops the record some time after the token dies.
type refreshTokenItem struct {
	UserID         string `dynamodbav:"user_id"`
	JTI            string `dynamodbav:"jti"`
	ExpiresAt      int64  `dynamodbav:"expires_at"`
	AccessLifetime int64  `dynamodbav:"access_lifetime"` // seconds
	// RevokedBy marks a revoked token with the id of the revoke that did
	// it; the item stays until its TTL so that revoking is safe to repeat.
	RevokedBy string `dynamodbav:"revoked_by,omitempty"`
}

func (rt RefreshToken) item() item {
	return mustMarshal(refreshTokenKey(rt.UserID, rt.JTI), refreshTokenItem{
		UserID: rt.UserID, JTI: rt.JTI, ExpiresAt: rt.ExpiresAt.Unix(),
		AccessLifetime: int64(rt.AccessLifetime / time.Second),
	})
}

// putRefreshToken is the transaction item that records rt.
func (s *Store) putRefreshToken(rt RefreshToken) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: rt.item()}}
}

// CreateRefreshToken records rt, provided its user still exists: one
// TransactWriteItems of a ConditionCheck on the profile and the Put, so a
// token is never recorded for a deleted user. A missing user is a 404.
func (s *Store) CreateRefreshToken(ctx context.Context, rt RefreshToken) error {
	err := s.transact(ctx, []types.TransactWriteItem{
		s.profileCheck(rt.UserID, profileExists()),
		s.putRefreshToken(rt),
	})
	return onFailed(err, errNotFound())
}

// RefreshToken reads the record of a refresh token: one strongly consistent
// GetItem. A revoked token (no record) or an expired one is a 404: expiry is
// checked here because DynamoDB's TTL deletes items up to days late.
func (s *Store) RefreshToken(ctx context.Context, userID, jti string) (RefreshToken, error) {
	var it refreshTokenItem
	found, err := s.get(ctx, refreshTokenKey(userID, jti), &it, strong)
	if err != nil {
		return RefreshToken{}, err
	}
	if !found || it.RevokedBy != "" || !s.now().Before(time.Unix(it.ExpiresAt, 0)) {
		return RefreshToken{}, errNotFound()
	}
	return RefreshToken{UserID: it.UserID, JTI: it.JTI, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(),
		AccessLifetime: time.Duration(it.AccessLifetime) * time.Second}, nil
}

// RevokeRefreshToken marks the record of a refresh token revoked: one
// conditional UpdateItem. Of parallel revokes of one token exactly one
// succeeds; a token already revoked (or never recorded) is a 404. The mark
// carries this revoke's own id, and the condition lets that id through, so
// the SDK repeating a revoke whose answer was lost gets the success it had
// (a delete could not tell that repeat from a second revoke). The marked
// record goes with its TTL, or with revoking all of the user's tokens.
func (s *Store) RevokeRefreshToken(ctx context.Context, userID, jti string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      refreshTokenKey(userID, jti).av(),
		UpdateExpression:         aws.String("SET #rb = :rid"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND (attribute_not_exists(#rb) OR #rb = :rid)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#rb": "revoked_by"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rid": &types.AttributeValueMemberS{Value: rand.Text()},
		},
	})
	return onFailed(err, errNotFound())
}

// RevokeAllRefreshTokens deletes every refresh token of a user (after a
// password change or reset): a Query of the user's RTOKEN# items, keys only,
// then batch deletes. A token being created at the same moment may survive;
// logins guard against that themselves (see LoginSucceeded's password
// condition).
func (s *Store) RevokeAllRefreshTokens(ctx context.Context, userID string) error {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ProjectionExpression:     aws.String("#pk, #sk"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: userPK(userID)},
			":p":  &types.AttributeValueMemberS{Value: refreshTokenPrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: keyOf(it).av()}}
	}
	return s.batchWrite(ctx, reqs)
}
