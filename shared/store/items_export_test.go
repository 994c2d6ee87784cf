package store

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Items returns every item of the table as JSON (keys sorted), the list
// sorted, so tests can compare whole tables. It Scans, which no request
// path may, and so lives in a test file.
func (s *Store) Items(ctx context.Context) ([]string, error) {
	var out []string
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return nil, err
			}
			b, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out, nil
}

// RawItems returns every item of the table as DynamoDB's typed JSON
// ({"S": ...}, {"M": {...}}, and {"?": null} for a value of no type), the
// list sorted: unlike Items, it shows an empty map or list as what it is,
// and a value that lost its type as such.
func (s *Store) RawItems(ctx context.Context) ([]string, error) {
	var out []string
	p := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			b, err := json.Marshal(typedMap(it))
			if err != nil {
				return nil, err
			}
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out, nil
}

func typedMap(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = typed(v)
	}
	return out
}

func typed(v types.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value}
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": v.Value}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": typedMap(v.Value)}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = typed(e)
		}
		return map[string]any{"L": l}
	}
	return map[string]any{"?": nil}
}

// PutRaw writes it as it is, bypassing the store's item rules: for tests
// that need items as an older version of the store wrote them.
func (s *Store) PutRaw(ctx context.Context, it map[string]types.AttributeValue) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it})
	return err
}

// DeleteRaw deletes the item at pk, sk.
func (s *Store) DeleteRaw(ctx context.Context, pk, sk string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key{pk, sk}.av()})
	return err
}

// RefreshTokenEntries returns the user's map of refresh tokens as the
// profile holds it (live and dead entries), nil when there is none.
func (s *Store) RefreshTokenEntries(ctx context.Context, userID string) (map[string]int64, error) {
	var cur sessions
	_, err := s.get(ctx, userProfileKey(userID), &cur, strong)
	return cur.Tokens, err
}

// PointerWaiters is how many callers wait for the pointer read in flight.
func (s *Store) PointerWaiters() int {
	s.ref.mu.Lock()
	defer s.ref.mu.Unlock()
	return s.ref.waiting
}

// TermsWaiters is how many callers wait for a read of the terms in flight.
func (s *Store) TermsWaiters() int {
	s.termsFill.mu.Lock()
	defer s.termsFill.mu.Unlock()
	return s.termsFill.waiting
}
