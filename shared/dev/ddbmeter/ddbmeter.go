// Package ddbmeter measures what a real aws-sdk-go-v2 DynamoDB client asks
// of the table: the calls it makes, the items those calls read, and the
// read capacity units DynamoDB would charge for them. It is middleware on
// the client's stack, like shared/dev/ddbfault, so it sees the SDK's own
// inputs and decoded outputs; the benchmarks and the tests that pin a
// route's cost read it. No function links it.
//
// The embedded store does not report consumed capacity, so the meter
// computes it from the items returned, with DynamoDB's published rules
// (Developer Guide, "Read/write capacity mode" and "Item sizes"): a
// GetItem, and each item of a BatchGetItem, costs its size rounded up to
// 4 KB; a Query or Scan costs the total size of the items it returns,
// rounded up to 4 KB once; a transactional read costs twice; an eventually
// consistent read costs half. Item size is the sum of the attribute names'
// and values' sizes (see ItemSize).
package ddbmeter

import (
	"context"
	"math"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts one client's DynamoDB use; the zero value is ready, and it
// is safe for concurrent use.
type Meter struct {
	// Requests counts API calls, each once: the SDK's retries of a call
	// are not counted again.
	Requests atomic.Int64
	// Items counts the items read: found by GetItem, BatchGetItem and
	// TransactGetItems, returned by Query and Scan (Count).
	Items atomic.Int64
	// milliRCU is read capacity in thousandths of a unit, so that an
	// eventually consistent half unit stays exact.
	milliRCU atomic.Int64
}

// Snapshot is a Meter's figures at one moment.
type Snapshot struct {
	Requests, Items int64
	ReadUnits       float64
}

// Sub is the use between an earlier snapshot and s.
func (s Snapshot) Sub(before Snapshot) Snapshot {
	return Snapshot{Requests: s.Requests - before.Requests, Items: s.Items - before.Items, ReadUnits: s.ReadUnits - before.ReadUnits}
}

// Snapshot returns the figures so far.
func (m *Meter) Snapshot() Snapshot {
	return Snapshot{Requests: m.Requests.Load(), Items: m.Items.Load(), ReadUnits: float64(m.milliRCU.Load()) / 1000}
}

// Install adds the meter to a client's middleware stack (as
// store.Options.APIOptions or config.Env.DynamoDBMiddleware). It sits in
// the Initialize step, which runs once a call whatever the retries, and
// reads the call's final output.
func (m *Meter) Install(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("PufinDynamoDBMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			m.Requests.Add(1)
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil {
				items, milli := reads(in.Parameters, out.Result)
				m.Items.Add(items)
				m.milliRCU.Add(milli)
			}
			return out, md, err
		}), middleware.After)
}

// reads is the items a call read and their cost in thousandths of a read
// unit.
func reads(params, result any) (items, milliRCU int64) {
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		if out.Item == nil {
			// DynamoDB charges a read of a missing item as one unit (half,
			// eventually consistent) all the same.
			return 0, consistency(params, units(0))
		}
		return 1, consistency(params, units(ItemSize(out.Item)))
	case *dynamodb.BatchGetItemOutput:
		var milli int64
		in, _ := params.(*dynamodb.BatchGetItemInput)
		for table, got := range out.Responses {
			strong := in != nil && in.RequestItems[table].ConsistentRead != nil && *in.RequestItems[table].ConsistentRead
			for _, it := range got {
				items++
				milli += scale(strong, units(ItemSize(it)))
			}
		}
		return items, milli
	case *dynamodb.QueryOutput:
		return int64(out.Count), consistency(params, units(total(out.Items)))
	case *dynamodb.ScanOutput:
		return int64(out.Count), consistency(params, units(total(out.Items)))
	case *dynamodb.TransactGetItemsOutput:
		var milli int64
		for _, r := range out.Responses {
			if r.Item != nil {
				items++
			}
			milli += 2000 * units(ItemSize(r.Item))
		}
		return items, milli
	}
	return 0, 0
}

// consistency is the cost of n strongly consistent units for a read
// whose input says how consistent it is.
func consistency(params any, n int64) int64 {
	var c *bool
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		c = in.ConsistentRead
	case *dynamodb.QueryInput:
		c = in.ConsistentRead
	case *dynamodb.ScanInput:
		c = in.ConsistentRead
	}
	return scale(c != nil && *c, n)
}

// scale is n units in thousandths: whole for a strongly consistent read,
// half for an eventually consistent one.
func scale(strong bool, n int64) int64 {
	if strong {
		return 1000 * n
	}
	return 500 * n
}

// units is the read units of size bytes: per 4 KB, at least one.
func units(size int) int64 { return max(1, int64(math.Ceil(float64(size)/4096))) }

func total(items []map[string]types.AttributeValue) int {
	n := 0
	for _, it := range items {
		n += ItemSize(it)
	}
	return n
}

// ItemSize is an item's size as DynamoDB counts it: each attribute's name
// in UTF-8 bytes plus its value's size.
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

// valueSize follows the Developer Guide: strings and binaries their
// length; a number about one byte per two significant digits plus one;
// booleans and null one byte; a list or map 3 bytes, plus one per
// element, plus its elements (and a map's names); sets their elements.
func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range v.Value {
			n += 1 + len(name) + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(s string) int {
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	return (digits+1)/2 + 1
}
