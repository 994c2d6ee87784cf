package store

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// Terms returns every version of every term: one Query of the TERMS partition.
func (s *Store) Terms(ctx context.Context) ([]pufinid.Term, error) {
	items, err := s.partition(ctx, termsPK)
	if err != nil {
		return nil, err
	}
	return unmarshalAll[pufinid.Term](items)
}

// TermVersions returns every version of one slug: one Query with begins_with.
func (s *Store) TermVersions(ctx context.Context, slug string) ([]pufinid.Term, error) {
	if strings.Contains(slug, "#") {
		return nil, nil
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: termsPK},
			":prefix": &types.AttributeValueMemberS{Value: termSlugPrefix(slug)},
		},
	})
	if err != nil {
		return nil, err
	}
	return unmarshalAll[pufinid.Term](items)
}

// FAQTopics returns every topic, ordered by sort_order then id, each with
// its questions in the same order: one Query of the FAQ partition.
func (s *Store) FAQTopics(ctx context.Context) ([]pufinid.FAQTopic, error) {
	items, err := s.partition(ctx, faqPK)
	if err != nil {
		return nil, err
	}
	topics, err := unmarshalAll[pufinid.FAQTopic](items)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(topics, func(a, b pufinid.FAQTopic) int {
		return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.ID, b.ID))
	})
	for i := range topics {
		topics[i].Questions = sortQuestions(topics[i].Questions)
	}
	return topics, nil
}

// FAQTopic returns one topic: one GetItem. A missing topic is a 404.
func (s *Store) FAQTopic(ctx context.Context, id int) (pufinid.FAQTopic, error) {
	var t pufinid.FAQTopic
	found, err := s.get(ctx, faqTopicKey(id), &t, eventual)
	if err != nil {
		return t, err
	}
	if !found {
		return t, errNotFound()
	}
	t.Questions = sortQuestions(t.Questions)
	return t, nil
}

// sortQuestions orders qs by sort_order then id; a topic without questions
// gets an empty list, never null.
func sortQuestions(qs []pufinid.FAQQuestion) []pufinid.FAQQuestion {
	if qs == nil {
		return []pufinid.FAQQuestion{}
	}
	slices.SortFunc(qs, func(a, b pufinid.FAQQuestion) int {
		return cmp.Or(cmp.Compare(a.SortOrder, b.SortOrder), cmp.Compare(a.ID, b.ID))
	})
	return qs
}

// PufDesigns returns an organization's designs ordered by name then id: one
// Query of the organization's design partition.
func (s *Store) PufDesigns(ctx context.Context, org string) ([]pufinid.PufDesign, error) {
	items, err := s.partition(ctx, pufDesignPK(org))
	if err != nil {
		return nil, err
	}
	ds, err := unmarshalAll[pufinid.PufDesign](items)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ds, func(a, b pufinid.PufDesign) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return ds, nil
}

// PufDesign returns one design of org: one GetItem. Another organization's
// design is not found, by construction of the key.
func (s *Store) PufDesign(ctx context.Context, org, id string) (pufinid.PufDesign, error) {
	var d pufinid.PufDesign
	found, err := s.get(ctx, pufDesignKey(org, id), &d, eventual)
	if err != nil {
		return d, err
	}
	if !found {
		return d, errNotFound()
	}
	return d, nil
}

// AppProfile returns a client's profile overlaid by group g's and then by
// QR code id's, each overlay only if it exists: one BatchGetItem. An unknown
// client is a 404.
func (s *Store) AppProfile(ctx context.Context, client, g, id string) (pufinid.AppProfile, error) {
	keys := []key{appProfileBaseKey(client)}
	if g != "" {
		keys = append(keys, appProfileGroupKey(client, g))
	}
	if id != "" {
		keys = append(keys, appProfileCodeKey(client, id))
	}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return pufinid.AppProfile{}, err
	}
	var profile pufinid.AppProfile
	for i, k := range keys {
		it, ok := got[k]
		if !ok {
			if i == 0 {
				return profile, errNotFound()
			}
			continue
		}
		p, err := unmarshalAll[pufinid.AppProfile]([]item{it})
		if err != nil {
			return profile, err
		}
		if i == 0 {
			profile = pufinid.AppProfile{}.Overlay(p[0])
		} else {
			profile = profile.Overlay(p[0])
		}
	}
	return profile, nil
}

// OrganizationByCode finds the organization a signup joins: nil or empty
// code is the Demo organization. One GetItem; unknown code is a 404.
func (s *Store) OrganizationByCode(ctx context.Context, code *string) (pufinid.Organization, error) {
	if code != nil && *code == "" {
		code = nil
	}
	var o pufinid.Organization
	found, err := s.get(ctx, orgCodeKey(code), &o, eventual)
	if err != nil {
		return o, err
	}
	if !found {
		return o, errNotFound()
	}
	return o, nil
}

// batchGet reads up to 100 keys with one BatchGetItem, strongly
// consistent, re-asking after a jittered pause for the keys DynamoDB
// leaves unprocessed (it does, under throttling, without an error).
func (s *Store) batchGet(ctx context.Context, keys []key) (map[key]item, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = k.av()
	}
	out := map[key]item{}
	pending := &types.KeysAndAttributes{Keys: req, ConsistentRead: aws.Bool(true)}
	for attempt := 0; pending != nil && len(pending.Keys) > 0; attempt++ {
		if attempt == maxStoreAttempts {
			return nil, unavailable(errBatchUnprocessed)
		}
		if attempt > 0 {
			if err := pause(ctx, attempt); err != nil {
				return nil, unavailable(err)
			}
		}
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{s.table: *pending},
		})
		if err != nil {
			return nil, unavailable(err)
		}
		for _, it := range res.Responses[s.table] {
			out[keyOf(it)] = it
		}
		next, ok := res.UnprocessedKeys[s.table]
		if !ok {
			break
		}
		pending = &next
	}
	return out, nil
}

func keyOf(it item) key {
	var k key
	if v, ok := it[AttrPK].(*types.AttributeValueMemberS); ok {
		k.PK = v.Value
	}
	if v, ok := it[AttrSK].(*types.AttributeValueMemberS); ok {
		k.SK = v.Value
	}
	return k
}
