package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// DynamoDB gives a cancelled transaction one reason per item, every failed
// condition among them; minidyn gives only the first. So this answers the
// signup's transaction as DynamoDB does when both the email and the
// username are taken (profile: None; email claim and username claim:
// ConditionalCheckFailed), and the signup must report both fields.
func TestSignupReportsEveryTakenFieldDynamoDBNames(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	bothTaken := ddbfault.Answer(400, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",`+
		`"message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ConditionalCheckFailed]",`+
		`"CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},`+
		`{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}`)
	st, err := store.Open(context.Background(), store.Options{Table: env.Store.Table(), Endpoint: env.DB.URL,
		APIOptions: []func(*middleware.Stack) error{bothTaken}})
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateUser(context.Background(), pufinid.User{ID: "u1", Email: "ada@example.com", Username: new("ada")}, nil)
	var ae *apierror.Error
	if !errors.As(err, &ae) || ae.Code != apierror.Invalid || len(ae.Fields["email"]) != 1 || len(ae.Fields["username"]) != 1 {
		t.Fatalf("got %v, want errors on both email and username", err)
	}
}
