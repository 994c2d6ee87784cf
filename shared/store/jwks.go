package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The public signing keys (shared/token's key set, as RFC 7517's JWKS) are
// one item, KEYS / JWKS: every function that verifies tokens reads it, and
// the JWKS route serves it. The issuing function's private keys are not in
// the table (AWS Secrets Manager holds them); whoever changes them
// publishes the public set here (cmd/keys, the local server).

// KeySetPartition is the partition key of the public key set's item: only
// the token function may write it (template.yaml denies it to every other
// role that writes the table, by dynamodb:LeadingKeys), since whoever
// writes it chooses the keys every function trusts.
const KeySetPartition = "KEYS"

var jwksKey = key{KeySetPartition, "JWKS"}

type jwksItem struct {
	JWKS string `dynamodbav:"jwks"`
}

// PublicKeys reads the published public key set, eventually consistent (a
// reader caches it for token.DefaultCacheTTL anyway). found is false when
// none was published. A cold instance reads it first of all, so when the
// reference pointer is due too, both come in one BatchGetItem: the
// request's reference reads then find the pointer read, one round trip
// fewer on a cold start.
func (s *Store) PublicKeys(ctx context.Context) (jwks []byte, found bool, err error) {
	var it jwksItem
	// Claimed, so that a reference read meanwhile waits for this pointer
	// rather than reading it too; a claim already held is waited for, and
	// a trusted pointer needs no read.
	_, release, err := s.trustedOrClaim(ctx)
	if err != nil {
		return nil, false, err
	}
	if release == nil {
		found, err = s.get(ctx, jwksKey, &it, eventual)
	} else {
		defer release()
		var got map[key]item
		if got, err = s.batchGetWith(ctx, []key{jwksKey, refPointerKey}, eventual); err != nil {
			return nil, false, err
		}
		ptr, ptrFound := got[refPointerKey]
		if err = s.adoptPointer(ptr, ptrFound); err != nil {
			return nil, false, err
		}
		var raw item
		if raw, found = got[jwksKey]; found {
			err = attributevalue.UnmarshalMap(raw, &it)
		}
	}
	if err != nil || !found {
		return nil, false, err
	}
	return []byte(it.JWKS), true, nil
}

// PublishedPublicKeys reads the public key set as last written: a strongly
// consistent GetItem, for the rotation's testSecret step, which checks the
// set setSecret has just written (an eventually consistent read may still
// return the one before, or none on a new stack).
func (s *Store) PublishedPublicKeys(ctx context.Context) (jwks []byte, found bool, err error) {
	var it jwksItem
	if found, err = s.get(ctx, jwksKey, &it, strong); err != nil || !found {
		return nil, false, err
	}
	return []byte(it.JWKS), true, nil
}

// PublishPublicKeys writes the public key set. One PutItem: the set is
// read whole, so a reader sees the old one or the new one.
func (s *Store) PublishPublicKeys(ctx context.Context, jwks []byte) error {
	item := jwksKey.av()
	item["jwks"] = &types.AttributeValueMemberS{Value: string(jwks)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return unavailable(err)
}
