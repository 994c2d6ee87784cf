package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// MaxRefreshTokens bounds the live refresh tokens of one user: recording
// one more revokes the live one that expires first (with one lifetime per
// account, the oldest), so a user has at most this many sessions.
const MaxRefreshTokens = 50

// maxTokenWrites bounds the writes of one token recorded. A write is
// computed again only when another one changed the map's entries first,
// and only recording a token does (a revoke changes a value, which no
// condition reads), so each repeat follows another request's success; the
// logins of one account running at once are few, under the cap of 20
// password checks per window (passwordcheck.go).
const maxTokenWrites = 24

// A user's live refresh tokens are a map in their profile item,
// refresh_tokens: jti → the token's expiry in epoch seconds, or, once
// revoked, the negative id of the revoke that did it. Keeping them in the
// profile makes ending every session one write (the map goes, in the
// write that changes the password, or with the profile when the user is
// deleted), whatever the number of tokens; the map's size is bounded by
// MaxRefreshTokens, so the profile stays far under DynamoDB's 4 KB read
// unit (an entry is about 32 bytes: a 22-character jti and a number).
//
// Entries that expired or were revoked are removed by the next token
// recorded, so they need no TTL of their own; the profile has none (it
// must not expire). No write leaves the map empty: it is created with
// its first entry, and removed as a whole rather than emptied (see
// marshal on empty collections).
//
// Refresh tokens recorded before the map, as items RTOKEN#<jti> of the
// user's partition, are no longer read: such a token is refused like a
// revoked one, once, and its holder logs in again. Their items carry the
// TTL attribute (the token's expiry), so DynamoDB deletes them; nothing
// else reads, writes or deletes them, so they cost nothing meanwhile.
const refreshTokensAttr = "refresh_tokens"

// RefreshToken is one refresh token as the table knows it. The JWT proves
// what it claims; its entry in the user's profile says it has not been
// revoked.
type RefreshToken struct {
	UserID    string
	JTI       string
	ExpiresAt time.Time // the token's own expiry; refreshing never moves it
	// AccessLifetime is the user's (their organization's at signup) for
	// the access tokens a refresh mints: reading a token fills it in from
	// the profile; recording one ignores it.
	AccessLifetime time.Duration
	// OrganizationID is the user's, for the access tokens a refresh mints;
	// filled in from the profile like AccessLifetime.
	OrganizationID string
}

// sessions is what the store reads of a profile to decide about refresh
// tokens.
type sessions struct {
	Exists              bool             `dynamodbav:"-"` // the profile exists
	Tokens              map[string]int64 `dynamodbav:"refresh_tokens"`
	PasswordHash        string           `dynamodbav:"password_hash"`
	AccessTokenLifetime int              `dynamodbav:"access_token_lifetime"`
	OrganizationID      string           `dynamodbav:"organization_id"`
}

// decodeSessions reads a profile item (nil when there is none).
func decodeSessions(it item) (sessions, error) {
	var s sessions
	if len(it) == 0 {
		return s, nil
	}
	if err := attributevalue.UnmarshalMap(it, &s); err != nil {
		return s, fmt.Errorf("decode profile sessions: %w", err)
	}
	s.Exists = true
	return s, nil
}

// holds reports whether rt's entry is in the map with its expiry: a write
// of this same token that committed already (its answer lost, the SDK sent
// it again).
func (s sessions) holds(rt RefreshToken) bool {
	exp, ok := s.Tokens[rt.JTI]
	return ok && exp == rt.ExpiresAt.Unix()
}

// tokenUpdate is what recording rt changes on a profile whose map was
// tokens when read (nil: the profile had none), with the SET actions of
// also, and the condition that the map is still what the change was
// computed from, as far as the change depends on it.
//
// With no map, the map is created with rt alone, on condition that there
// is still none. Otherwise rt's entry is added and the dead ones (expired
// or revoked) removed, with the live ones that expire first beyond
// MaxRefreshTokens-1: `SET #rt.#new = :exp REMOVE #rt.#o0, ...`, on
// condition that the map still has the size read, each removed entry is
// still there and rt's is not. The map then has exactly size+1-removed
// entries whatever other writes did in between, so parallel logins never
// take a user past MaxRefreshTokens; a login that loses the race reads
// the map again (the failed write's ALL_OLD answer) and retries.
func tokenUpdate(tokens map[string]int64, rt RefreshToken, now time.Time, also ...expr) (update, cond expr) {
	names := map[string]string{"#rt": refreshTokensAttr}
	exp := &types.AttributeValueMemberN{Value: strconv.FormatInt(rt.ExpiresAt.Unix(), 10)}
	var sets, removes []string
	for _, a := range also {
		sets = append(sets, a.text)
	}
	if tokens == nil {
		sets = append(sets, "#rt = :rtmap")
		update = expr{names: names, values: map[string]types.AttributeValue{
			":rtmap": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{rt.JTI: exp}}}}
		cond = expr{text: "attribute_not_exists(#rt)", names: names}
	} else {
		names["#new"] = rt.JTI
		sets = append(sets, "#rt.#new = :exp")
		update = expr{names: names, values: map[string]types.AttributeValue{":exp": exp}}
		cond = expr{text: "size(#rt) = :rtsize AND attribute_not_exists(#rt.#new)", names: names,
			values: map[string]types.AttributeValue{":rtsize": number(int64(len(tokens)))}}
		for i, jti := range doomed(tokens, rt.JTI, now) {
			n := "#o" + strconv.Itoa(i)
			names[n] = jti
			removes = append(removes, "#rt."+n)
			cond.text += " AND attribute_exists(#rt." + n + ")"
		}
	}
	update.text = "SET " + strings.Join(sets, ", ")
	if len(removes) > 0 {
		update.text += " REMOVE " + strings.Join(removes, ", ")
	}
	update.names, update.values = merged(append([]expr{update}, also...)...)
	return update, cond
}

// doomed are the entries of tokens that recording newJTI at now removes:
// the dead ones, and the live ones that expire first (then by jti) beyond
// MaxRefreshTokens-1, in a stable order.
func doomed(tokens map[string]int64, newJTI string, now time.Time) []string {
	type entry struct {
		jti string
		exp int64
	}
	var live []entry
	var gone []string
	for jti, e := range tokens {
		switch {
		case jti == newJTI:
			// Never: a jti is fresh and random, and a write of this token
			// that committed already is recognised before (holds).
		case e > now.Unix():
			live = append(live, entry{jti, e})
		default:
			gone = append(gone, jti)
		}
	}
	slices.Sort(gone)
	slices.SortFunc(live, func(a, b entry) int { return cmp.Or(cmp.Compare(a.exp, b.exp), strings.Compare(a.jti, b.jti)) })
	for _, e := range live[:max(len(live)-(MaxRefreshTokens-1), 0)] {
		gone = append(gone, e.jti)
	}
	return gone
}

// failedItem is the item that DynamoDB returned with a failed condition
// (ReturnValuesOnConditionCheckFailure ALL_OLD) of a single write, or of
// a transaction's item i; nil when the item does not exist.
func failedItem(err error, i int) item {
	if ccf, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return ccf.Item
	}
	if reasons, ok := cancellationReasons(err); ok && i < len(reasons) {
		return reasons[i].Item
	}
	return nil
}

// CreateRefreshToken records rt in its user's profile as a login does,
// with no password to check (LoginSucceeded is the login's), provided the
// user still exists. It has not read the map, so its first write adds rt
// on condition that the map exists and has room (roomyUpdate); when it
// has none, or none yet, the failed condition's answer brings the
// profile, and the write is computed from it (tokenUpdate), as often as
// parallel writes change the map first. A missing user is a 404 and
// nothing is written.
func (s *Store) CreateRefreshToken(ctx context.Context, rt RefreshToken) error {
	update, cond := roomyUpdate(rt)
	for attempt := 1; ; attempt++ {
		in := updateItem(s.profileUpdate(rt.UserID, update, profileExists(cond)))
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		_, err := s.db.UpdateItem(ctx, in)
		if len(failedConditions(err)) == 0 {
			return unavailable(err)
		}
		cur, derr := decodeSessions(failedItem(err, 0))
		switch {
		case derr != nil:
			return derr
		case !cur.Exists:
			return errNotFound()
		case cur.holds(rt):
			return nil // this write, committed once already
		case attempt == maxTokenWrites:
			return unavailable(err)
		}
		update, cond = tokenUpdate(cur.Tokens, rt, s.now())
	}
}

// roomyUpdate records rt in a map it has not read: `SET #rt.#new = :exp`,
// on condition that the map exists with fewer than MaxRefreshTokens
// entries, and not rt's. It removes no dead entry (the next login does,
// or the write that finds the map full).
func roomyUpdate(rt RefreshToken) (update, cond expr) {
	names := map[string]string{"#rt": refreshTokensAttr, "#new": rt.JTI}
	return expr{text: "SET #rt.#new = :exp", names: names,
			values: map[string]types.AttributeValue{":exp": number(rt.ExpiresAt.Unix())}},
		expr{text: "size(#rt) < :rtmax AND attribute_not_exists(#rt.#new)", names: names,
			values: map[string]types.AttributeValue{":rtmax": number(MaxRefreshTokens)}}
}

// RefreshToken reads whether a refresh token is live: one strongly
// consistent GetItem of its user's profile, which must exist and hold the
// jti with an expiry still ahead (checked here, against the clock, rather
// than left to any TTL). Anything else (a revoked, expired, evicted or
// unknown token, a token recorded before the map, a deleted user) is a
// 404.
func (s *Store) RefreshToken(ctx context.Context, userID, jti string) (RefreshToken, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: userProfileKey(userID).av(), ConsistentRead: aws.Bool(strong),
	})
	if err != nil {
		return RefreshToken{}, unavailable(err)
	}
	cur, err := decodeSessions(out.Item)
	if err != nil {
		return RefreshToken{}, err
	}
	exp, ok := cur.Tokens[jti]
	if !cur.Exists || !ok || exp <= s.now().Unix() {
		return RefreshToken{}, errNotFound()
	}
	life := pufinid.User{AccessTokenLifetime: cur.AccessTokenLifetime}.Lifetimes()
	return RefreshToken{UserID: userID, JTI: jti, ExpiresAt: time.Unix(exp, 0).UTC(), AccessLifetime: life.Access,
		OrganizationID: cur.OrganizationID}, nil
}

// RevokeRefreshToken revokes one refresh token: one conditional
// UpdateItem of the profile, which sets the token's entry to this
// revoke's own id (a negative number, so the entry reads as dead) on
// condition that the entry is live. Of parallel revokes of one token
// exactly one succeeds; a token already revoked, expired or unknown, or a
// user gone, is a 404. The entry keeps this revoke's id so that the SDK
// repeating a revoke whose answer was lost recognises its own write in
// the failed condition's answer, and succeeds as it had (a REMOVE could
// not tell that repeat from a second revoke). The next token recorded
// removes the dead entry.
func (s *Store) RevokeRefreshToken(ctx context.Context, userID, jti string) error {
	// A random negative number: the entry reads as dead, and tells this
	// revoke from any other (52 bits keep the number short).
	rid := -(1 + rand.Int64N(1<<52))
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      userProfileKey(userID).av(),
		UpdateExpression:         aws.String("SET #rt.#j = :rid"),
		ConditionExpression:      aws.String("#rt.#j > :now"),
		ExpressionAttributeNames: map[string]string{"#rt": refreshTokensAttr, "#j": jti},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":rid": number(rid),
			":now": number(s.now().Unix()),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	_, err := s.db.UpdateItem(ctx, in)
	if len(failedConditions(err)) > 0 {
		cur, derr := decodeSessions(failedItem(err, 0))
		if derr != nil {
			return derr
		}
		if e, ok := cur.Tokens[jti]; ok && e == rid {
			return nil
		}
		return errNotFound()
	}
	return unavailable(err)
}

// revokeAllTokens is the action of a profile update that ends every
// session of the user: the map goes, whatever it holds, in the same write
// as what ends them (a new password).
const revokeAllTokens = "REMOVE #rt"

// revokeAllNames are the names revokeAllTokens uses.
func revokeAllNames() map[string]string { return map[string]string{"#rt": refreshTokensAttr} }
