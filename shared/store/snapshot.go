package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reference data is stored as snapshots. A load writes the whole new
// snapshot under keys of its own version (every reference key's
// partition prefixed REF#<version>#), then makes it current by one
// conditional write of the pointer item REF / CURRENT. Readers resolve the
// pointer, then read that version's keys only, so they see all of one
// load or all of the other, whatever the size of the data (no transaction
// could hold 10,000 designs), and nothing of a removed item survives a
// reload: its key does not exist in the new version.
//
// The version is a hash of the data, so loading the same data again
// finds its version current and writes nothing: loading is idempotent. A
// version stays readable for referenceGrace after it stopped being
// current, which covers every instance still holding the old pointer
// (ReferenceTTL), then the next load deletes it.
const (
	refPK         = "REF"
	refCurrentSK  = "CURRENT"
	refVersionPre = "VERSION#"
	// DefaultReferenceTTL is how long an instance trusts the pointer it
	// read (Options.ReferenceTTL): a load reaches every instance within
	// it.
	DefaultReferenceTTL = time.Minute
	// referenceGrace is how long a replaced version stays readable:
	// well past the longest ReferenceTTL an instance may run with.
	referenceGrace = 10 * time.Minute
)

// refPointerKey is the item that names the current version.
var refPointerKey = key{refPK, refCurrentSK}

// refVersionKey is a version's manifest: when it was loaded and retired,
// and the partitions it wrote, so that it can be deleted.
func refVersionKey(v string) key { return key{refPK, refVersionPre + v} }

// at is k as stored in version v.
func (k key) at(v string) key { return key{"REF#" + v + "#" + k.PK, k.SK} }

// refPointerItem is the pointer.
type refPointerItem struct {
	Version  string `dynamodbav:"version"`
	Previous string `dynamodbav:"previous,omitempty"`
}

// refManifest describes one stored version.
type refManifest struct {
	Version    string   `dynamodbav:"version"`
	LoadedAt   int64    `dynamodbav:"loaded_at"`
	RetiredAt  int64    `dynamodbav:"retired_at,omitempty"` // unix seconds; 0 while current
	Partitions []string `dynamodbav:"partitions"`
}

// refPointer is an instance's copy of the pointer: which version, read
// when. Reference reads take the version from it, so a warm instance
// makes no request for it.
type refPointer struct {
	ttl     time.Duration
	mu      sync.Mutex
	version string
	readAt  time.Time
	known   bool
	// reading is closed when the pointer read in flight ends; nil when
	// none is. A read started ahead of the first request (WarmUp) and
	// that request's own reference read would otherwise both read it.
	reading chan struct{}
	waiting int // callers waiting for it (the tests wait for one)
}

// noReference is the version of a table no reference data was loaded
// into: its keys hold nothing, so every list is empty and every lookup a
// 404.
const noReference = "none"

// referenceVersion is the current version, from this instance's copy of
// the pointer while it is younger than the TTL, else from one eventually
// consistent GetItem (a pointer a moment stale is as good as one a TTL
// old).
func (s *Store) referenceVersion(ctx context.Context) (string, error) {
	v, release, err := s.trustedOrClaim(ctx)
	if err != nil || release == nil {
		return v, err
	}
	defer release()
	var ptr refPointerItem
	found, err := s.get(ctx, refPointerKey, &ptr, eventual)
	if err != nil {
		return "", err
	}
	s.rememberVersion(pointerVersion(found, ptr))
	return pointerVersion(found, ptr), nil
}

// trustedOrClaim is the pointer's version while the instance trusts its
// copy; else the claim to read the pointer (release, which the reader
// calls once it is done). Readers that claim take turns: one waits for
// the read in flight, then uses what it left, or claims in turn when that
// read failed. A waiter gives up with its own ctx (a 503).
func (s *Store) trustedOrClaim(ctx context.Context) (version string, release func(), err error) {
	for {
		if v, ok := s.trustedVersion(); ok {
			return v, nil, nil
		}
		if release, err := s.claimPointerRead(ctx); err != nil || release != nil {
			return "", release, err
		}
	}
}

// claimPointerRead makes the caller the instance's one claimed reader of
// the pointer: release ends its claim. While another caller holds it,
// claimPointerRead waits for that read to end and returns a nil release.
func (s *Store) claimPointerRead(ctx context.Context) (release func(), err error) {
	p := s.ref
	p.mu.Lock()
	if wait := p.reading; wait != nil {
		p.waiting++
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.waiting--
			p.mu.Unlock()
		}()
		select {
		case <-wait:
			return nil, nil
		case <-ctx.Done():
			return nil, unavailable(ctx.Err())
		}
	}
	done := make(chan struct{})
	p.reading = done
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.reading = nil
		p.mu.Unlock()
		close(done)
	}, nil
}

// WarmUp reads the reference pointer, as a cold instance's first reference
// read would: lambdafn starts it during init, so that read overlaps the
// fetching of the first event, and that event's own reference read joins
// it (trustedOrClaim). A failure is left to the request, which reads
// again.
func (s *Store) WarmUp(ctx context.Context) { _, _ = s.referenceVersion(ctx) }

// trustedVersion is the instance's copy of the pointer, if it is younger
// than the TTL: then a reference read needs no request for it.
func (s *Store) trustedVersion() (string, bool) {
	p := s.ref
	now := s.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known && now.Sub(p.readAt) < p.ttl && !now.Before(p.readAt) {
		return p.version, true
	}
	return "", false
}

// pointerVersion is the version a pointer read names: noReference when
// there is no pointer.
func pointerVersion(found bool, ptr refPointerItem) string {
	if found && ptr.Version != "" {
		return ptr.Version
	}
	return noReference
}

// adoptPointer remembers the pointer item read along with another item
// (UserOrganization), so the reference read that follows needs no request
// of its own.
func (s *Store) adoptPointer(it item, found bool) error {
	var ptr refPointerItem
	if found {
		if err := attributevalue.UnmarshalMap(it, &ptr); err != nil {
			return unavailable(err)
		}
	}
	s.rememberVersion(pointerVersion(found, ptr))
	return nil
}

// ReferenceTTL is how long the store trusts the reference pointer it read
// (Options.ReferenceTTL): how long an instance may keep what it read of
// the reference data.
func (s *Store) ReferenceTTL() time.Duration { return s.ref.ttl }

func (s *Store) rememberVersion(v string) {
	p := s.ref
	p.mu.Lock()
	p.version, p.readAt, p.known = v, s.now(), true
	p.mu.Unlock()
}

// ErrReferenceChanged is SaveReference's answer when another load made
// its own version current while this one was writing: nothing of this
// load is current. Load again.
var ErrReferenceChanged = errors.New("store: another load changed the reference data meanwhile")

// snapshotVersion names the data of items: a hash of their keys and
// values, so that the same data always gets the same version.
func snapshotVersion(items []item) (string, error) {
	h := sha256.New()
	keys := make([]string, 0, len(items))
	byKey := make(map[string]item, len(items))
	for _, it := range items {
		k := keyOf(it)
		ks := k.PK + "\x00" + k.SK
		keys = append(keys, ks)
		byKey[ks] = it
	}
	slices.Sort(keys)
	for _, ks := range keys {
		b, err := json.Marshal(canonicalAV(&types.AttributeValueMemberM{Value: byKey[ks]}))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", ks, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// canonicalAV is v as plain values with sorted map keys (json.Marshal
// sorts map keys), for hashing.
func canonicalAV(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S" + v.Value
	case *types.AttributeValueMemberN:
		return "N" + v.Value
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberNULL:
		return nil
	case *types.AttributeValueMemberB:
		return "B" + hex.EncodeToString(v.Value)
	case *types.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, e := range v.Value {
			out[i] = canonicalAV(e)
		}
		return out
	case *types.AttributeValueMemberM:
		out := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			out[k] = canonicalAV(e)
		}
		return out
	case *types.AttributeValueMemberSS:
		s := slices.Sorted(slices.Values(v.Value))
		return map[string]any{"SS": s}
	case *types.AttributeValueMemberNS:
		s := slices.Sorted(slices.Values(v.Value))
		return map[string]any{"NS": s}
	}
	return fmt.Sprintf("%T", v)
}

// saveSnapshot writes items (keys as the readers name them, without a
// version) as a new version and makes it current; see the top of this
// file. It returns the version current after it.
func (s *Store) saveSnapshot(ctx context.Context, items []item) (string, error) {
	v, err := snapshotVersion(items)
	if err != nil {
		return "", err
	}
	var ptr refPointerItem
	found, err := s.get(ctx, refPointerKey, &ptr, strong)
	if err != nil {
		return "", err
	}
	now := s.now()
	if found && ptr.Version == v {
		// This data is current already; only what older loads left may
		// need deleting.
		s.rememberVersion(v)
		return v, s.deleteOldVersions(ctx, v, now)
	}
	partitions := map[string]bool{}
	stored := make([]item, 0, len(items)+1)
	for _, it := range items {
		k := keyOf(it).at(v)
		out := make(item, len(it))
		for name, val := range it {
			out[name] = val
		}
		out[AttrPK] = &types.AttributeValueMemberS{Value: k.PK}
		out[AttrSK] = &types.AttributeValueMemberS{Value: k.SK}
		partitions[k.PK] = true
		stored = append(stored, out)
	}
	manifest, err := marshal(refVersionKey(v), refManifest{Version: v, LoadedAt: now.Unix(),
		Partitions: slices.Sorted(func(yield func(string) bool) {
			for p := range partitions {
				if !yield(p) {
					return
				}
			}
		})})
	if err != nil {
		return "", err
	}
	// The manifest first: should the load stop half way, the next one
	// finds what it wrote and deletes it.
	if err := s.batchPut(ctx, append([]item{manifest}, stored...)); err != nil {
		return "", err
	}
	if err := s.flipPointer(ctx, found, ptr.Version, v); err != nil {
		return "", err
	}
	s.rememberVersion(v)
	if found && ptr.Version != "" {
		if err := s.retireVersion(ctx, ptr.Version, now); err != nil {
			return v, err
		}
	}
	return v, s.deleteOldVersions(ctx, v, now)
}

// flipPointer makes v current, provided the pointer still names old (or,
// with had false, does not exist): of two loads at once, one wins and the
// other gets ErrReferenceChanged. The condition also accepts the pointer
// naming v already, so the SDK repeating a write whose answer was lost
// gets the success it had.
func (s *Store) flipPointer(ctx context.Context, had bool, old, v string) error {
	it, err := marshal(refPointerKey, refPointerItem{Version: v, Previous: old})
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: it}
	if had {
		in.ConditionExpression = aws.String("#v IN (:old, :new)")
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(#v) OR #v = :new")
	}
	in.ExpressionAttributeNames = map[string]string{"#v": "version"}
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":new": &types.AttributeValueMemberS{Value: v}}
	if had {
		in.ExpressionAttributeValues[":old"] = &types.AttributeValueMemberS{Value: old}
	}
	_, err = s.db.PutItem(ctx, in)
	return onFailed(err, ErrReferenceChanged)
}

// retireVersion stamps when v stopped being current, which starts its
// grace.
func (s *Store) retireVersion(ctx context.Context, v string, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       refVersionKey(v).av(),
		UpdateExpression:          aws.String("SET #r = :now"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#r": "retired_at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	// A version loaded before manifests existed has none: nothing to stamp.
	return onFailed(err, nil)
}

// deleteOldVersions deletes every stored version but current whose grace
// is over, and any version a load left half written (never current) that
// is older than the grace: each version's partitions, then its manifest.
func (s *Store) deleteOldVersions(ctx context.Context, current string, now time.Time) error {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: refPK},
			":p":  &types.AttributeValueMemberS{Value: refVersionPre},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	ms, err := unmarshalAll[refManifest](items)
	if err != nil {
		return err
	}
	for _, m := range ms {
		since := m.RetiredAt
		if since == 0 {
			since = m.LoadedAt // never current: a load that stopped
		}
		if m.Version == current || now.Sub(time.Unix(since, 0)) < referenceGrace {
			continue
		}
		var dels []types.WriteRequest
		for _, p := range m.Partitions {
			if !strings.HasPrefix(p, "REF#"+m.Version+"#") {
				continue // never outside its own version
			}
			keys, err := s.queryAll(ctx, &dynamodb.QueryInput{
				KeyConditionExpression:    aws.String("#pk = :pk"),
				ProjectionExpression:      aws.String("#pk, #sk"),
				ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: p}},
			})
			if err != nil {
				return err
			}
			for _, it := range keys {
				dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: keyOf(it).av()}})
			}
		}
		dels = append(dels, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: refVersionKey(m.Version).av()}})
		if err := s.batchWrite(ctx, dels); err != nil {
			return err
		}
	}
	return nil
}
