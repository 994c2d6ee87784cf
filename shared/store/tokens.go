package store

import (
	"context"
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
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                aws.String(s.table),
			Key:                      userProfileKey(rt.UserID).av(),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		s.putRefreshToken(rt),
	}})
	if reasons, ok := cancellationReasons(err); ok && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return errNotFound()
	}
	return unavailable(err)
}

// RefreshToken reads the record of a refresh token: one strongly consistent
// GetItem. A revoked token (no record) or an expired one is a 404: expiry is
// checked here because DynamoDB's TTL deletes items up to days late.
func (s *Store) RefreshToken(ctx context.Context, userID, jti string) (RefreshToken, error) {
	var it refreshTokenItem
	found, err := s.get(ctx, refreshTokenKey(userID, jti), &it)
	if err != nil {
		return RefreshToken{}, err
	}
	if !found || !s.now().Before(time.Unix(it.ExpiresAt, 0)) {
		return RefreshToken{}, errNotFound()
	}
	return RefreshToken{UserID: it.UserID, JTI: it.JTI, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(),
		AccessLifetime: time.Duration(it.AccessLifetime) * time.Second}, nil
}

// RevokeRefreshToken deletes the record of a refresh token: one conditional
// DeleteItem. Of parallel revokes of one token exactly one succeeds; a token
// already revoked (or never recorded) is a 404.
func (s *Store) RevokeRefreshToken(ctx context.Context, userID, jti string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      refreshTokenKey(userID, jti).av(),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if isConditionFailed(err) {
		return errNotFound()
	}
	return unavailable(err)
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
