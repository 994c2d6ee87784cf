package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The single table's definition. template.yaml, the LocalStack init script
// and the embedded store are all checked against (or built from) these.
const (
	AttrPK  = "pk"         // partition key, S
	AttrSK  = "sk"         // sort key, S
	AttrTTL = "expires_at" // TTL attribute: epoch seconds; DynamoDB deletes late, code checks expiry itself
)

// TableDefinition is the table as CreateTable takes it: key schema, no
// secondary indexes (every access pattern is a key lookup or a Query on one
// partition), on-demand billing.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
	}
}
