package apitest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// refuseEmptyCollections fails tb when the store sends DynamoDB an item or
// an update value holding an empty map or list at any depth. The store
// promises never to (see store.marshal): the embedded store's rollback of a
// cancelled transaction corrupts them, and every test through the harness
// checks the promise.
func refuseEmptyCollections(tb testing.TB) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("PufinRefuseEmptyCollections",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if path := emptyCollectionIn(in.Parameters); path != "" {
					tb.Errorf("the store wrote an empty map or list to DynamoDB: %T %s", in.Parameters, path)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// emptyCollectionIn returns where a write's values hold an empty M or L, or "".
func emptyCollectionIn(params any) string {
	var maps []map[string]types.AttributeValue
	switch p := params.(type) {
	case *dynamodb.PutItemInput:
		maps = append(maps, p.Item, p.ExpressionAttributeValues)
	case *dynamodb.UpdateItemInput:
		maps = append(maps, p.ExpressionAttributeValues)
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range p.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					maps = append(maps, r.PutRequest.Item)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				maps = append(maps, it.Put.Item, it.Put.ExpressionAttributeValues)
			case it.Update != nil:
				maps = append(maps, it.Update.ExpressionAttributeValues)
			}
		}
	}
	for _, m := range maps {
		if path := emptyIn(m, ""); path != "" {
			return path
		}
	}
	return ""
}

func emptyIn(m map[string]types.AttributeValue, at string) string {
	for k, v := range m {
		if path := emptyValue(v, at+"."+k); path != "" {
			return path
		}
	}
	return ""
}

func emptyValue(v types.AttributeValue, at string) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		if len(v.Value) == 0 {
			return at
		}
		return emptyIn(v.Value, at)
	case *types.AttributeValueMemberL:
		if len(v.Value) == 0 {
			return at
		}
		for i, e := range v.Value {
			if path := emptyValue(e, fmt.Sprintf("%s[%d]", at, i)); path != "" {
				return path
			}
		}
	}
	return ""
}

// refuseUnusedExpressionAttributes fails tb when a request declares an
// expression attribute name or value that none of its expressions uses:
// DynamoDB refuses such a request with a ValidationException, and the
// embedded store does not check.
func refuseUnusedExpressionAttributes(tb testing.TB) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("PufinRefuseUnusedExpressionAttributes",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if unused := unusedExpressionAttributes(in.Parameters); unused != "" {
					tb.Errorf("DynamoDB would refuse %T: %s is declared but not used", in.Parameters, unused)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// exprSet is one request's (or transaction item's) expressions with the
// names and values they may use.
type exprSet struct {
	exprs  []*string
	names  map[string]string
	values map[string]types.AttributeValue
}

func unusedExpressionAttributes(params any) string {
	var sets []exprSet
	switch p := params.(type) {
	case *dynamodb.GetItemInput:
		sets = append(sets, exprSet{[]*string{p.ProjectionExpression}, p.ExpressionAttributeNames, nil})
	case *dynamodb.QueryInput:
		sets = append(sets, exprSet{[]*string{p.KeyConditionExpression, p.FilterExpression, p.ProjectionExpression}, p.ExpressionAttributeNames, p.ExpressionAttributeValues})
	case *dynamodb.ScanInput:
		sets = append(sets, exprSet{[]*string{p.FilterExpression, p.ProjectionExpression}, p.ExpressionAttributeNames, p.ExpressionAttributeValues})
	case *dynamodb.PutItemInput:
		sets = append(sets, exprSet{[]*string{p.ConditionExpression}, p.ExpressionAttributeNames, p.ExpressionAttributeValues})
	case *dynamodb.UpdateItemInput:
		sets = append(sets, exprSet{[]*string{p.UpdateExpression, p.ConditionExpression}, p.ExpressionAttributeNames, p.ExpressionAttributeValues})
	case *dynamodb.DeleteItemInput:
		sets = append(sets, exprSet{[]*string{p.ConditionExpression}, p.ExpressionAttributeNames, p.ExpressionAttributeValues})
	case *dynamodb.BatchGetItemInput:
		for _, ka := range p.RequestItems {
			sets = append(sets, exprSet{[]*string{ka.ProjectionExpression}, ka.ExpressionAttributeNames, nil})
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				sets = append(sets, exprSet{[]*string{it.Put.ConditionExpression}, it.Put.ExpressionAttributeNames, it.Put.ExpressionAttributeValues})
			case it.Update != nil:
				sets = append(sets, exprSet{[]*string{it.Update.UpdateExpression, it.Update.ConditionExpression}, it.Update.ExpressionAttributeNames, it.Update.ExpressionAttributeValues})
			case it.Delete != nil:
				sets = append(sets, exprSet{[]*string{it.Delete.ConditionExpression}, it.Delete.ExpressionAttributeNames, it.Delete.ExpressionAttributeValues})
			case it.ConditionCheck != nil:
				sets = append(sets, exprSet{[]*string{it.ConditionCheck.ConditionExpression}, it.ConditionCheck.ExpressionAttributeNames, it.ConditionCheck.ExpressionAttributeValues})
			}
		}
	}
	for _, s := range sets {
		var all strings.Builder
		for _, e := range s.exprs {
			if e != nil {
				all.WriteString(*e)
				all.WriteByte(' ')
			}
		}
		text := all.String()
		used := func(placeholder string) bool {
			return regexp.MustCompile(regexp.QuoteMeta(placeholder) + `\b`).MatchString(text)
		}
		for k := range s.names {
			if !used(k) {
				return "expression attribute name " + k
			}
		}
		for k := range s.values {
			if !used(k) {
				return "expression attribute value " + k
			}
		}
	}
	return ""
}
