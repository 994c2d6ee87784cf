package store

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// Field messages for uniqueness, as Django words them.
const (
	MsgEmailTaken    = "user with this email already exists."
	MsgUsernameTaken = "A user with that username already exists."
)

// claim is a uniqueness item: it exists while a user holds the value.
type claim struct {
	UserID string `dynamodbav:"user_id"`
}

// CreateUser writes the user, the claims on its email and username, and its
// term acceptances in one transaction. The claims are conditional puts, so
// of any number of parallel signups with one email exactly one succeeds; a
// taken email or username is a 400 on that field and nothing is written.
func (s *Store) CreateUser(ctx context.Context, u pufinid.User, accepted []pufinid.Acceptance, extra ...types.TransactWriteItem) error {
	profile, err := marshal(userProfileKey(u.ID), u)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		s.putNew(profile),
		s.putNew(mustMarshal(emailClaimKey(u.Email), claim{u.ID})),
	}
	fields := []string{"", "email"}
	if u.Username != nil {
		items = append(items, s.putNew(mustMarshal(usernameClaimKey(*u.Username), claim{u.ID})))
		fields = append(fields, "username")
	}
	for _, a := range accepted {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: mustMarshal(acceptanceKey(u.ID, a.Slug), a)}})
	}
	items = append(items, extra...)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	if reasons, ok := cancellationReasons(err); ok {
		errs := apierror.FieldErrors{}
		for i, r := range reasons {
			if aws.ToString(r.Code) != "ConditionalCheckFailed" || i >= len(fields) {
				continue
			}
			switch fields[i] {
			case "email":
				errs.Add("email", MsgEmailTaken)
			case "username":
				errs.Add("username", MsgUsernameTaken)
			}
		}
		if e := errs.Err(); e != nil {
			return e
		}
	}
	return unavailable(err)
}

// Account reads a user and the terms they accepted: one Query of the
// user's partition, limited to the PROFILE items. A missing user is a 404.
func (s *Store) Account(ctx context.Context, userID string) (pufinid.Account, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: userPK(userID)},
			":p":  &types.AttributeValueMemberS{Value: profileSK},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return pufinid.Account{}, err
	}
	var acct pufinid.Account
	found := false
	for _, it := range items {
		k := keyOf(it)
		switch {
		case k.SK == profileSK:
			u, err := unmarshalAll[pufinid.User]([]item{it})
			if err != nil {
				return acct, err
			}
			acct.User, found = u[0], true
		case strings.HasPrefix(k.SK, acceptancePrefix):
			a, err := unmarshalAll[pufinid.Acceptance]([]item{it})
			if err != nil {
				return acct, err
			}
			acct.Acceptances = append(acct.Acceptances, a[0])
		}
	}
	if !found {
		return pufinid.Account{}, errNotFound()
	}
	return acct, nil
}

// AcceptTerm records a's acceptance for the user, replacing an older
// version's, provided the user still exists (a condition on the profile in
// the same transaction, so a deleted user leaves no orphan acceptance).
func (s *Store) AcceptTerm(ctx context.Context, userID string, a pufinid.Acceptance) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                aws.String(s.table),
			Key:                      userProfileKey(userID).av(),
			ConditionExpression:      aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: mustMarshal(acceptanceKey(userID, a.Slug), a)}},
	}})
	if reasons, ok := cancellationReasons(err); ok && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return errNotFound()
	}
	return unavailable(err)
}

// putNew is a Put that fails if the key exists.
func (s *Store) putNew(it item) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     it,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	}}
}

func mustMarshal(k key, v any) item {
	it, err := marshal(k, v)
	if err != nil {
		panic("store: marshal " + k.PK + ": " + err.Error()) // only plain structs are marshalled
	}
	return it
}

// cancellationReasons returns a cancelled transaction's per-item reasons.
func cancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 {
		return tce.CancellationReasons, true
	}
	return nil, false
}
