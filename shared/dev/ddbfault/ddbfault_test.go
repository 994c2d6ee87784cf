package ddbfault_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "0.05", want: "rate=0.05,seed=1,max=2,kinds=all"},
		{in: "rate=0.2,seed=9,max=0,kinds=conflict+lost", want: "rate=0.2,seed=9,max=0,kinds=conflict+lost"},
		{in: "rate=1", want: "rate=1,seed=1,max=2,kinds=all"},
		{in: "rate=1.5", bad: true},
		{in: "rate=0.1,kinds=gremlins", bad: true},
		{in: "rate=0.1,colour=red", bad: true},
		{in: "often", bad: true},
	}
	for _, tc := range cases {
		sp, err := ddbfault.ParseSpec(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: accepted as %s", tc.in, sp)
			}
			continue
		}
		if err != nil || sp.String() != tc.want {
			t.Errorf("%q: %s, %v; want %s", tc.in, sp, err, tc.want)
		}
	}
}

// client is a raw SDK client of env's table with faults as sp says, to see
// exactly what the SDK hands the store.
func client(t *testing.T, sp ddbfault.Spec, attempts int) (*dynamodb.Client, *ddbfault.Injector, string) {
	t.Helper()
	env := apitest.New(t)
	inj := ddbfault.New(sp)
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(env.DB.URL), Credentials: aws.AnonymousCredentials{},
		DisableValidateResponseChecksum: true, RetryMaxAttempts: attempts,
		APIOptions: append([]func(*middleware.Stack) error{}, inj.Install),
	})
	return c, inj, env.Store.Table()
}

func counterUpdate(table, name string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: name}, "sk": &types.AttributeValueMemberS{Value: "C"}},
		UpdateExpression:          aws.String("ADD #n :one"),
		ExpressionAttributeNames:  map[string]string{"#n": "n"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	}}
}

// The injected errors reach the caller as the SDK's own types for
// DynamoDB's answers, so the code under test handles what AWS would send.
func TestInjectedErrorsAreDynamoDBsAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	put := func(c *dynamodb.Client, table string) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberS{Value: "s"}}})
		return err
	}
	tx := func(c *dynamodb.Client, table string) error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			counterUpdate(table, "a"), counterUpdate(table, "b")}})
		return err
	}
	cases := []struct {
		kind  ddbfault.Kind
		call  func(*dynamodb.Client, string) error
		check func(error) bool
	}{
		{ddbfault.Conflict, tx, func(err error) bool {
			var tce *types.TransactionCanceledException
			if !errors.As(err, &tce) || len(tce.CancellationReasons) != 2 {
				return false
			}
			codes := aws.ToString(tce.CancellationReasons[0].Code) + "," + aws.ToString(tce.CancellationReasons[1].Code)
			return codes == "None,TransactionConflict" || codes == "TransactionConflict,None"
		}},
		{ddbfault.Conflict, put, func(err error) bool {
			var ae smithy.APIError
			return errors.As(err, &ae) && ae.ErrorCode() == "TransactionConflictException"
		}},
		{ddbfault.Throttling, put, func(err error) bool {
			var ae smithy.APIError
			return errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException"
		}},
		{ddbfault.Provisioned, put, func(err error) bool {
			var pe *types.ProvisionedThroughputExceededException
			return errors.As(err, &pe)
		}},
		{ddbfault.Internal, put, func(err error) bool {
			var ie *types.InternalServerError
			return errors.As(err, &ie)
		}},
	}
	for _, tc := range cases {
		c, inj, table := client(t, ddbfault.Spec{Rate: 1, Seed: 1, Kinds: []ddbfault.Kind{tc.kind}}, 1)
		if err := tc.call(c, table); !tc.check(err) {
			t.Errorf("%s: got %T %v", tc.kind, err, err)
		}
		if st := inj.Stats(); st.Injected[tc.kind] != 1 || st.Attempts != 1 {
			t.Errorf("%s: %+v", tc.kind, st)
		}
	}
}

// A transaction that commits but loses its answer is sent again by the SDK
// with the same ClientRequestToken, which DynamoDB (and the embedded store)
// answers with the first success, applying nothing twice. The same token
// with other parameters is refused.
func TestLostAnswerTransactionsApplyOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, inj, table := client(t, ddbfault.Spec{Rate: 1, Seed: 1, MaxPerCall: 1, Kinds: []ddbfault.Kind{ddbfault.LostAnswer}}, 3)
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{counterUpdate(table, "a")}}); err != nil {
		t.Fatal(err)
	}
	if st := inj.Stats(); st.Injected[ddbfault.LostAnswer] != 1 || st.Attempts != 2 {
		t.Fatalf("stats %+v, want one lost answer and one retry", st)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberS{Value: "C"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := out.Item["n"].(*types.AttributeValueMemberN).Value; n != "1" {
		t.Fatalf("counter %s after one transaction, want 1", n)
	}

	plain, _, _ := client(t, ddbfault.Spec{}, 1)
	tok := aws.String("token-reused-with-other-parameters")
	if _, err := plain.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: tok,
		TransactItems: []types.TransactWriteItem{counterUpdate(table, "b")}}); err != nil {
		t.Fatal(err)
	}
	_, err = plain.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: tok,
		TransactItems: []types.TransactWriteItem{counterUpdate(table, "c")}})
	var mismatch *types.IdempotentParameterMismatchException
	if !errors.As(err, &mismatch) {
		t.Fatalf("reused token with other parameters: %v", err)
	}
}
