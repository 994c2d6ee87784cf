package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// Reference reads resolve the current snapshot's version first
// (snapshot.go): from the instance's copy of the pointer when it is fresh,
// else with one GetItem more.

// Terms returns every version of every term: one Query of the TERMS partition
// once per version of the reference data and instance (versionTerms),
// which callers that miss the copy at the same time share (termsFill).
func (s *Store) Terms(ctx context.Context) ([]pufinid.Term, error) {
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return nil, err
	}
	for {
		if c := s.terms.Load(); c != nil && c.version == v {
			return slices.Clone(c.terms), nil
		}
		f, lead := s.termsFill.join(v)
		if lead {
			terms, err := s.readTerms(ctx, v)
			f.finish(terms, err)
			if err != nil {
				return nil, err
			}
			return slices.Clone(terms), nil
		}
		err := s.termsFill.wait(ctx, f)
		if err != nil {
			return nil, err
		}
		if f.err == nil {
			return slices.Clone(f.terms), nil
		}
		// The reader's call failed (its own deadline, say): this caller
		// reads for itself, with its own.
	}
}

// WarmUpTerms reads the terms of the current version into the instance's
// copy, for the functions whose first request most likely needs them
// (users: signup and GET/PUT/PATCH me; terms: every route). A request
// arriving meanwhile shares the read (termsFill). When that first request
// does not need them, the warm-up has cost one strongly consistent Query
// of the terms: one read unit per 4 KB of terms, once per cold start. A
// failure is left to the request to meet again and report.
func (s *Store) WarmUpTerms(ctx context.Context) { _, _ = s.Terms(ctx) }

// readTerms is the Query that fills the instance's copy of version v's
// terms. Strongly consistent, unlike other reference reads: the copy is
// kept for as long as the version is current, so a replica still missing
// part of a version just loaded must not be what it keeps (one read unit
// per version and instance instead of half).
func (s *Store) readTerms(ctx context.Context, v string) ([]pufinid.Term, error) {
	items, err := s.partition(ctx, key{PK: termsPK}.at(v).PK, strong)
	if err != nil {
		return nil, err
	}
	terms, err := unmarshalAll[pufinid.Term](items)
	if err != nil {
		return nil, err
	}
	s.terms.Store(&versionTerms{version: v, terms: terms})
	return terms, nil
}

// termsFill lets callers that find the instance's terms missing share one
// Query: the cold instance's warm-up and its first request, or concurrent
// requests after a new version, read the version once.
type termsFill struct {
	mu      sync.Mutex
	in      *termsRead // the read in flight, if any
	waiting int        // callers waiting for a read (the tests wait for one)
}

type termsRead struct {
	version string
	done    chan struct{}
	terms   []pufinid.Term
	err     error
	owner   *termsFill
}

// join returns the read of version v in flight, or starts one that the
// caller leads (lead: it must call finish).
func (t *termsFill) join(v string) (r *termsRead, lead bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.in != nil && t.in.version == v {
		return t.in, false
	}
	t.in = &termsRead{version: v, done: make(chan struct{}), owner: t}
	return t.in, true
}

// wait waits for r, or for the end of ctx (a 503).
func (t *termsFill) wait(ctx context.Context, r *termsRead) error {
	t.mu.Lock()
	t.waiting++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.waiting--
		t.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return unavailable(ctx.Err())
	case <-r.done:
		return nil
	}
}

func (r *termsRead) finish(terms []pufinid.Term, err error) {
	r.terms, r.err = terms, err
	r.owner.mu.Lock()
	if r.owner.in == r {
		r.owner.in = nil
	}
	r.owner.mu.Unlock()
	close(r.done)
}

// versionTerms are the terms of one version of the reference data. A
// version's items never change (a load writes a new version and moves the
// pointer), so the instance keeps the terms of the version its pointer
// names, and reads them again only when the pointer, trusted for the
// ReferenceTTL, names another: the staleness of every reference read,
// without the Query per request that GET /users/me, signup and the terms
// routes made. One version's terms at a time: a few kilobytes.
type versionTerms struct {
	version string
	terms   []pufinid.Term
}

// TermVersions returns every version of one slug: one Query with begins_with.
func (s *Store) TermVersions(ctx context.Context, slug string) ([]pufinid.Term, error) {
	if strings.Contains(slug, "#") {
		return nil, nil
	}
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return nil, err
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: key{PK: termsPK}.at(v).PK},
			":prefix": &types.AttributeValueMemberS{Value: termSlugPrefix(slug)},
		},
	})
	if err != nil {
		return nil, err
	}
	return unmarshalAll[pufinid.Term](items)
}

// FAQTopicsPage returns the topics at positions [offset, offset+limit) of
// the list ordered by sort_order then id, each with its questions in the
// same order, and the length of the list: one Query of those positions
// (a second request, a GetItem of the length, only for a page past the
// end). It reads limit items, however long the list.
func (s *Store) FAQTopicsPage(ctx context.Context, offset, limit int) ([]pufinid.FAQTopic, int, error) {
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	topics, count, err := listPage[pufinid.FAQTopic](ctx, s, key{PK: faqPK}.at(v).PK, offset, limit)
	for i := range topics {
		topics[i].Questions = sortQuestions(topics[i].Questions) // stored sorted; never null
	}
	return topics, count, err
}

// FAQTopics returns every topic in the list's order (tools and tests: the
// API reads pages).
func (s *Store) FAQTopics(ctx context.Context) ([]pufinid.FAQTopic, error) {
	topics, _, err := s.FAQTopicsPage(ctx, 0, maxListPos)
	return topics, err
}

// FAQTopic returns one topic: one GetItem. A missing topic is a 404.
func (s *Store) FAQTopic(ctx context.Context, id int) (pufinid.FAQTopic, error) {
	var t pufinid.FAQTopic
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return t, err
	}
	found, err := s.get(ctx, faqTopicKey(id).at(v), &t, eventual)
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

// PufDesignsPage returns the designs of org at positions [offset,
// offset+limit) of the list ordered by name then id, and the length of
// the list: as FAQTopicsPage, one Query reading limit items.
func (s *Store) PufDesignsPage(ctx context.Context, org string, offset, limit int) ([]pufinid.PufDesign, int, error) {
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	return listPage[pufinid.PufDesign](ctx, s, key{PK: pufDesignPK(org)}.at(v).PK, offset, limit)
}

// PufDesigns returns all of org's designs in the list's order (tools and
// tests: the API reads pages).
func (s *Store) PufDesigns(ctx context.Context, org string) ([]pufinid.PufDesign, error) {
	ds, _, err := s.PufDesignsPage(ctx, org, 0, maxListPos)
	return ds, err
}

// listPage reads positions [offset, offset+limit) of the list stored in
// partition pk (listPosKey) and the list's length.
func listPage[T any](ctx context.Context, s *Store, pk string, offset, limit int) ([]T, int, error) {
	if offset < 0 || limit < 1 {
		return nil, 0, fmt.Errorf("store: page at offset %d of %d items", offset, limit)
	}
	var items []item
	if offset <= maxListPos {
		last := min(offset+limit-1, maxListPos)
		var err error
		items, err = s.queryAll(ctx, &dynamodb.QueryInput{
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :first AND :last"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":    &types.AttributeValueMemberS{Value: pk},
				":first": &types.AttributeValueMemberS{Value: listPosKey(pk, offset).SK},
				":last":  &types.AttributeValueMemberS{Value: listPosKey(pk, last).SK},
			},
		})
		if err != nil {
			return nil, 0, err
		}
	}
	var count struct {
		N int `dynamodbav:"list_count"`
	}
	if len(items) > 0 {
		if err := attributevalue.UnmarshalMap(items[0], &count); err != nil {
			return nil, 0, unavailable(err)
		}
	} else if _, err := s.get(ctx, listCountKey(pk), &count, eventual); err != nil {
		return nil, 0, err
	}
	out, err := unmarshalAll[T](items)
	if err != nil {
		return nil, 0, err
	}
	if out == nil {
		out = []T{}
	}
	return out, count.N, nil
}

// PufDesign returns one design of org: one GetItem. Another organization's
// design is not found, by construction of the key.
func (s *Store) PufDesign(ctx context.Context, org, id string) (pufinid.PufDesign, error) {
	var d pufinid.PufDesign
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return d, err
	}
	found, err := s.get(ctx, pufDesignKey(org, id).at(v), &d, eventual)
	if err != nil {
		return d, err
	}
	if !found {
		return d, errNotFound()
	}
	return d, nil
}

// AppProfile returns a client's profile overlaid by group g's and then by
// QR code id's, each overlay only if it exists: one eventually consistent
// BatchGetItem (reference data changes only by a load). An unknown client
// is a 404.
func (s *Store) AppProfile(ctx context.Context, client, g, id string) (pufinid.AppProfile, error) {
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return pufinid.AppProfile{}, err
	}
	keys := []key{appProfileBaseKey(client).at(v)}
	if g != "" {
		keys = append(keys, appProfileGroupKey(client, g).at(v))
	}
	if id != "" {
		keys = append(keys, appProfileCodeKey(client, id).at(v))
	}
	got, err := s.batchGetWith(ctx, keys, eventual)
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
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return o, err
	}
	found, err := s.get(ctx, orgCodeKey(code).at(v), &o, eventual)
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
	return s.batchGetWith(ctx, keys, strong)
}

// batchGetWith is batchGet with the consistency given.
func (s *Store) batchGetWith(ctx context.Context, keys []key, consistent bool) (map[key]item, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = k.av()
	}
	out := map[key]item{}
	pending := &types.KeysAndAttributes{Keys: req, ConsistentRead: aws.Bool(consistent)}
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

// UserOrganization returns the id of the organization userID belongs to,
// from a strongly consistent read of the profile (a token whose user was
// deleted a moment ago finds nothing); a missing user is a 404. The caller
// (PUF designs) reads reference data next: when the instance's reference
// pointer is due for a read, the same request fetches it (a BatchGetItem
// of both items, the pointer strongly consistent too: 1 read unit instead
// of 0.5, once per ReferenceTTL per instance), so a cold instance's first
// page costs 2 requests in sequence, not 3. Otherwise it is one GetItem,
// projected to the organization.
func (s *Store) UserOrganization(ctx context.Context, userID string) (string, error) {
	var u struct {
		OrganizationID string `dynamodbav:"organization_id"`
	}
	profile := userProfileKey(userID)
	var it item
	if _, trusted := s.trustedVersion(); trusted {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.table), Key: profile.av(), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String("#o"), ExpressionAttributeNames: map[string]string{"#o": attrOrganizationID},
		})
		if err != nil {
			return "", unavailable(err)
		}
		it = out.Item
	} else {
		got, err := s.batchGet(ctx, []key{profile, refPointerKey})
		if err != nil {
			return "", err
		}
		ptr, found := got[refPointerKey]
		if err := s.adoptPointer(ptr, found); err != nil {
			return "", err
		}
		it = got[profile]
	}
	if it == nil {
		return "", errNotFound()
	}
	if err := attributevalue.UnmarshalMap(it, &u); err != nil {
		return "", unavailable(err)
	}
	return u.OrganizationID, nil
}

// attrOrganizationID is the profile's attribute of pufinid.User.OrganizationID.
const attrOrganizationID = "organization_id"
