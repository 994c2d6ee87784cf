package apitest

import (
	"context"
	"fmt"
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
