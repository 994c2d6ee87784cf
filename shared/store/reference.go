package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

type item = map[string]types.AttributeValue

// marshal lays v out under k. Every item the store writes is made here,
// and none holds an empty map or list: an empty collection is left out (a
// missing attribute decodes to a nil map or slice, which every reader
// treats as empty). The table stores the same data either way, and the
// embedded store (minidyn v0.8.2) cannot keep them: its rollback of a
// cancelled transaction copies the whole table and turns every empty M or
// L into a value of no type, after which each Query of the table fails.
func marshal(k key, v any) (item, error) {
	it, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	dropEmptyCollections(it)
	it[AttrPK] = &types.AttributeValueMemberS{Value: k.PK}
	it[AttrSK] = &types.AttributeValueMemberS{Value: k.SK}
	return it, nil
}

// dropEmptyCollections removes the empty maps and lists of m, at any depth;
// inside a list, where leaving one out would move the others, an empty
// collection becomes NULL, which decodes the same.
func dropEmptyCollections(m map[string]types.AttributeValue) {
	for name, v := range m {
		if emptyCollection(v) {
			delete(m, name)
		}
	}
}

func emptyCollection(v types.AttributeValue) bool {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		dropEmptyCollections(v.Value)
		return len(v.Value) == 0
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			if emptyCollection(e) {
				v.Value[i] = &types.AttributeValueMemberNULL{Value: true}
			}
		}
		return len(v.Value) == 0
	}
	return false
}

func (k key) av() item {
	return item{
		AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// SaveReference makes ref the reference data: all of it becomes current at
// once, as one new snapshot (snapshot.go), in place of whatever was loaded
// before. Saving the same data again writes nothing. Besides each item by
// key, the FAQ topics and each organization's PUF designs are stored in
// their order, one item per position, so that a page reads only its own
// items.
func (s *Store) SaveReference(ctx context.Context, ref pufinid.Reference) error {
	var items []item
	add := func(k key, v any, extra ...any) error {
		it, err := marshal(k, v)
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(extra); i += 2 {
			it[extra[i].(string)] = &types.AttributeValueMemberN{Value: fmt.Sprint(extra[i+1])}
		}
		items = append(items, it)
		return nil
	}
	for _, o := range ref.Organizations {
		if err := add(orgCodeKey(o.Code), o); err != nil {
			return err
		}
	}
	for _, t := range ref.Terms {
		if err := add(key{termsPK, termSK(t.Slug, t.VersionNumber)}, t); err != nil {
			return err
		}
	}
	topics := slices.Clone(ref.FAQTopics)
	for i := range topics {
		topics[i].Questions = sortQuestions(slices.Clone(topics[i].Questions))
	}
	slices.SortFunc(topics, compareTopics)
	for i, t := range topics {
		if err := add(faqTopicKey(t.ID), t); err != nil {
			return err
		}
		if err := add(listPosKey(faqPK, i), t, attrListCount, len(topics)); err != nil {
			return err
		}
	}
	if err := add(listCountKey(faqPK), struct{}{}, attrListCount, len(topics)); err != nil {
		return err
	}
	byOrg := map[string][]pufinid.PufDesign{}
	for _, d := range ref.PufDesigns {
		byOrg[d.Organization] = append(byOrg[d.Organization], d)
	}
	for org, ds := range byOrg {
		slices.SortFunc(ds, compareDesigns)
		for i, d := range ds {
			if err := add(pufDesignKey(org, d.ID), d); err != nil {
				return err
			}
			if err := add(listPosKey(pufDesignPK(org), i), d, attrListCount, len(ds)); err != nil {
				return err
			}
		}
		if err := add(listCountKey(pufDesignPK(org)), struct{}{}, attrListCount, len(ds)); err != nil {
			return err
		}
	}
	for _, a := range ref.AppProfiles {
		if err := add(appProfileBaseKey(a.ClientID), a.Base); err != nil {
			return err
		}
		for g, p := range a.Groups {
			if err := add(appProfileGroupKey(a.ClientID, g), p); err != nil {
				return err
			}
		}
		for id, p := range a.Codes {
			if err := add(appProfileCodeKey(a.ClientID, id), p); err != nil {
				return err
			}
		}
	}
	_, err := s.saveSnapshot(ctx, items)
	return err
}

// attrListCount is the length of the list a position item belongs to.
const attrListCount = "list_count"

// compareTopics orders FAQ topics as the API lists them: by sort_order,
// then id.
func compareTopics(a, b pufinid.FAQTopic) int {
	return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.ID, b.ID))
}

// compareDesigns orders PUF designs as the API lists them: by name, then
// id.
func compareDesigns(a, b pufinid.PufDesign) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
}

// batchPut writes items 25 at a time, resending what DynamoDB leaves
// unprocessed with a growing pause.
func (s *Store) batchPut(ctx context.Context, items []item) error {
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	return s.batchWrite(ctx, reqs)
}

// batchWrite sends puts and deletes 25 at a time (BatchWriteItem's limit),
// resending what DynamoDB leaves unprocessed after a jittered, growing
// pause. Each request is a whole put or delete, so resending is safe.
func (s *Store) batchWrite(ctx context.Context, all []types.WriteRequest) error {
	for chunk := range slices.Chunk(all, 25) {
		reqs := chunk
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt == maxStoreAttempts {
				return unavailable(errBatchWriteUnprocessed)
			}
			if attempt > 0 {
				if err := pause(ctx, attempt); err != nil {
					return unavailable(err)
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: reqs},
			})
			if err != nil {
				return unavailable(err)
			}
			reqs = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

// queryAll runs a Query to the end of its results. Reference partitions are
// far under DynamoDB's 1 MB page, so this is one request in practice.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]item, error) {
	in.TableName = aws.String(s.table)
	var out []item
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// partition returns every item of pk.
func (s *Store) partition(ctx context.Context, pk string, consistent bool) ([]item, error) {
	return s.queryAll(ctx, &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(consistent),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
}

// Read consistency of get. A read that decides a security question (is
// this token revoked, used, whose is this address) is strong: an eventually
// consistent one may miss a write acknowledged a moment ago. Reference
// data, written only by the fixture loader, is read eventually consistent,
// at half the read units.
const (
	eventual = false
	strong   = true
)

// get reads one item into v; found is false when there is none.
func (s *Store) get(ctx context.Context, k key, v any, consistent bool) (found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k.av(), ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return false, unavailable(err)
	}
	if out.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", k.PK, k.SK, err)
	}
	return true, nil
}

func unmarshalAll[T any](items []item) ([]T, error) {
	out := make([]T, len(items))
	for i, it := range items {
		if err := attributevalue.UnmarshalMap(it, &out[i]); err != nil {
			return nil, fmt.Errorf("decode item: %w", err)
		}
	}
	return out, nil
}
