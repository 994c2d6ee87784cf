package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// EmailClaimMigration is what MigrateEmailClaims did.
type EmailClaimMigration struct {
	Claims    int      // email claims read
	Moved     int      // claims rewritten at their canonical key
	Conflicts []string // user ids whose canonical key another account holds: left as they were
}

// MigrateEmailClaims moves every email claim written before the canonical
// form (keyed by strings.ToLower of the address) to the key of its
// address's canonical form, each in one transaction: a conditional put of
// the canonical claim and the delete of the old one, on condition that it
// is still that account's. Lookups find unmoved claims too, but only when
// typed as before (a lowercase of the same spelling), and signups of
// another spelling of such an address are not refused: the migration
// closes both. It is idempotent; only addresses that are not ASCII (the
// only ones whose two keys differ) are moved. Two accounts whose addresses
// have one canonical form (possible only before) are reported, not merged.
// It reads the whole table once (a Scan), so it is a one-off job
// (cmd/seed -migrate-email-claims), never part of a request.
func (s *Store) MigrateEmailClaims(ctx context.Context) (EmailClaimMigration, error) {
	var m EmailClaimMigration
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		FilterExpression:          aws.String("begins_with(#pk, :email) AND #sk = :claim"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":email": &types.AttributeValueMemberS{Value: "EMAIL#"}, ":claim": &types.AttributeValueMemberS{Value: "CLAIM"}},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return m, unavailable(err)
		}
		for _, it := range page.Items {
			m.Claims++
			moved, conflict, err := s.migrateEmailClaim(ctx, it)
			if err != nil {
				return m, err
			}
			if moved {
				m.Moved++
			}
			if conflict != "" {
				m.Conflicts = append(m.Conflicts, conflict)
			}
		}
	}
	return m, nil
}

func (s *Store) migrateEmailClaim(ctx context.Context, it item) (moved bool, conflict string, err error) {
	old := keyOf(it)
	cs, err := unmarshalAll[claim]([]item{it})
	if err != nil {
		return false, "", err
	}
	c := cs[0]
	if c.Email == "" {
		var u pufinid.User
		found, err := s.get(ctx, userProfileKey(c.UserID), &u, strong)
		if err != nil || !found {
			return false, "", err // an orphan claim: nothing to move it for
		}
		c.Email = u.Email
	}
	k := emailClaimKey(c.Email)
	if k == old {
		return false, "", nil
	}
	err = s.transact(ctx, []types.TransactWriteItem{
		s.putNew(mustMarshal(k, c)),
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: old.av(),
			ConditionExpression:       aws.String("#uid = :uid"),
			ExpressionAttributeNames:  map[string]string{"#uid": "user_id"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":uid": &types.AttributeValueMemberS{Value: c.UserID}},
		}},
	})
	switch err := onFailed(err, errClaimHeld, errClaimGone); err {
	case nil:
		return true, "", nil
	case errClaimHeld:
		return false, c.UserID, nil
	case errClaimGone:
		return false, "", nil // the old claim went meanwhile (the account was deleted)
	default:
		return false, "", err
	}
}

// The failed conditions of moving a claim.
var (
	errClaimHeld = errors.New("store: another account holds the canonical claim")
	errClaimGone = errors.New("store: the claim to move is gone")
)

func (m EmailClaimMigration) String() string {
	return fmt.Sprintf("%d email claims, %d moved to their canonical key, %d left because another account holds it %v",
		m.Claims, m.Moved, len(m.Conflicts), m.Conflicts)
}
