package ddbmeter

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sized is an item of about n bytes: attribute "pk" (2) and "b" (1)
// holding n-3 bytes.
func sized(n int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "x"},
		"b":  &types.AttributeValueMemberS{Value: strings.Repeat("y", n-4)},
	}
}

func TestItemSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string", map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "héllo"}}, 4 + 6},
		{"number", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "12345"}}, 1 + 4},
		{"negative decimal", map[string]types.AttributeValue{"n": &types.AttributeValueMemberN{Value: "-1.5"}}, 1 + 2},
		{"bool and null", map[string]types.AttributeValue{"a": &types.AttributeValueMemberBOOL{Value: true}, "b": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"map", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberS{Value: "vv"}}}}, 1 + 3 + 1 + 1 + 2},
		{"list", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "ab"}, &types.AttributeValueMemberN{Value: "7"}}}}, 1 + 3 + (1 + 2) + (1 + 2)},
		{"string set", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}}, 2 + 3},
		{"sized", sized(1000), 1000},
	} {
		if got := ItemSize(tc.item); got != tc.want {
			t.Errorf("%s: size %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestReadsChargeAsDynamoDB(t *testing.T) {
	t.Parallel()
	strong, eventual := aws.Bool(true), aws.Bool(false)
	for _, tc := range []struct {
		name      string
		in, out   any
		items     int64
		milliRCUs int64
	}{
		{"GetItem of a missing item, eventually consistent", &dynamodb.GetItemInput{}, &dynamodb.GetItemOutput{}, 0, 500},
		{"GetItem of 5 KB, strongly consistent", &dynamodb.GetItemInput{ConsistentRead: strong}, &dynamodb.GetItemOutput{Item: sized(5000)}, 1, 2000},
		{"GetItem of 4 KB, eventually consistent", &dynamodb.GetItemInput{ConsistentRead: eventual}, &dynamodb.GetItemOutput{Item: sized(4096)}, 1, 500},
		{"Query of 3 × 2 KB is rounded once", &dynamodb.QueryInput{}, &dynamodb.QueryOutput{Count: 3, Items: []map[string]types.AttributeValue{sized(2000), sized(2000), sized(2000)}}, 3, 1000},
		{"Query that finds nothing", &dynamodb.QueryInput{ConsistentRead: strong}, &dynamodb.QueryOutput{}, 0, 1000},
		{"BatchGetItem rounds each item", &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {ConsistentRead: strong}}},
			&dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"t": {sized(100), sized(100)}}}, 2, 2000},
		{"BatchGetItem eventually consistent", &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {}}},
			&dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{"t": {sized(100), sized(5000)}}}, 2, 1500},
		{"TransactGetItems costs twice", &dynamodb.TransactGetItemsInput{},
			&dynamodb.TransactGetItemsOutput{Responses: []types.ItemResponse{{Item: sized(100)}, {}}}, 1, 4000},
		{"a write reads nothing", &dynamodb.PutItemInput{}, &dynamodb.PutItemOutput{}, 0, 0},
	} {
		items, milli := reads(tc.in, tc.out)
		if items != tc.items || milli != tc.milliRCUs {
			t.Errorf("%s: %d items, %d milli-units; want %d, %d", tc.name, items, milli, tc.items, tc.milliRCUs)
		}
	}
}
