package store

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
