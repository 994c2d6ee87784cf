package store

import (
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// Password checks (a login, change-password's old password, the password
// of a DELETE) are capped in the table, not in Lambda memory, and each
// check is reserved with a conditional write before the password is
// looked at, so parallel requests buy nothing: a request that cannot
// reserve gets 429 unchecked. Three counters cover a check:
//
//   - the account (or unknown login name) from this source address:
//     SourceFailureLimit failures in CheckWindow, then that source gets 429
//     for that account, and only that source;
//   - the account across all sources: AccountCheckLimit checks (right or
//     wrong) per window, then 429 for everyone; a window that reaches the
//     cap makes the next one, if it opens within a window's length of its
//     end, twice as long (up to MaxCheckWindow): growing backoff;
//   - the source across all accounts: SourceIPFailureLimit failures.
//
// A reservation counts as a failure until the check succeeds, when the
// source's two counters give it back (the account's keeps it). A success
// does not wipe the source's earlier failures: they age out with their
// window, so a right password among parallel wrong ones buys no more
// wrong ones. A counter holds the ids of its
// reservations, a string set, not a number: adding an id twice changes
// nothing, so a write whose answer was lost can be repeated (by the SDK)
// without counting twice, and the repeat recognises its own reservation.
const (
	CheckWindow          = 15 * time.Minute
	MaxCheckWindow       = 4 * time.Hour
	SourceFailureLimit   = 5  // per account (or unknown name) and source address
	AccountCheckLimit    = 20 // per account (or unknown name), all sources
	SourceIPFailureLimit = 50 // per source address, all accounts
)

// reserveAttempts bounds the reads and writes of one reservation: each
// repeat follows a window that another request opened or closed meanwhile,
// which happens at most once or twice per counter.
const reserveAttempts = 6

// window is one counter item. expires_at (the table's TTL attribute)
// identifies the window: it is set when the window opens and conditions
// name it. A fixed window ends at expires_at; a growing one ends at until
// and is kept for one more length, so the next window can see it was
// capped.
type window struct {
	IDs       []string `dynamodbav:"ids,stringset,omitempty"` // the window's reservations
	ExpiresAt int64    `dynamodbav:"expires_at"`
	Until     int64    `dynamodbav:"until,omitempty"`
	Length    int64    `dynamodbav:"length,omitempty"` // seconds
	present   bool
}

// windowMark is in every window's set from its opening, so the set never
// empties when reservations are given back (DynamoDB removes an empty set,
// and a condition on the size of a missing attribute cannot be written).
const windowMark = "-"

// count is how many reservations the window holds.
func (w window) count() int { return max(len(w.IDs)-1, 0) }

func (w window) holds(id string) bool { return slices.Contains(w.IDs, id) }

func (w window) end() int64 {
	if w.Until != 0 {
		return w.Until
	}
	return w.ExpiresAt
}

// live reports whether the window is open at now: expiry is checked here,
// never left to TTL deletion, which runs late.
// A counter written before reservations were sets has no mark: it is
// treated as closed, and replaced by a new window.
func (w window) live(now time.Time) bool {
	return w.present && now.Unix() < w.end() && slices.Contains(w.IDs, windowMark)
}

// capped reports whether the window refuses a reservation at now, and for
// how long.
func (w window) capped(now time.Time, limit int) (time.Duration, bool) {
	if !w.live(now) || w.count() < limit {
		return 0, false
	}
	return time.Unix(w.end(), 0).Sub(now), true
}

// inFlight is how long a reservation may stand for a check still running
// (a check takes well under a second; a function's timeout is 10 s).
const inFlight = 10 * time.Second

// reservationID is a new reservation's id: when it was made (Unix
// milliseconds, in hex) and 12 random characters.
func reservationID(now time.Time) string {
	return strconv.FormatInt(now.UnixMilli(), 16) + "." + rand.Text()[:12]
}

// recent reports whether the window holds a reservation made less than
// inFlight ago: maybe a check still running, which may yet be given back.
func (w window) recent(now time.Time) bool {
	for _, id := range w.IDs {
		ms, _, ok := strings.Cut(id, ".")
		if !ok {
			continue
		}
		if t, err := strconv.ParseInt(ms, 16, 64); err == nil && now.Sub(time.UnixMilli(t)) < inFlight {
			return true
		}
	}
	return false
}

// capped reports whether the counter refuses a reservation at now, and
// the Retry-After to give. A source's counter full of recent reservations
// may be full of checks still running, which give their reservation back
// if right (parallel logins of one user from one address): it says to
// retry in a second, not at the window's end. The account's counter keeps
// every check, so its wait is always the window's.
func (c *counter) capped(now time.Time) (time.Duration, bool) {
	wait, capped := c.seen.capped(now, c.limit)
	if capped && !c.grows && c.seen.recent(now) {
		wait = time.Second
	}
	return wait, capped
}

// counter is one of a check's counters: what was last read of it, and the
// window a reservation was made in.
type counter struct {
	k     key
	limit int
	grows bool
	seen  window
	held  int64 // expires_at of the window reserved in; 0 when none
}

func (c *counter) read(got map[key]item) error {
	it, ok := got[c.k]
	if !ok {
		c.seen = window{}
		return nil
	}
	w, err := unmarshalAll[window]([]item{it})
	if err != nil {
		return err
	}
	c.seen = w[0]
	c.seen.present = true
	return nil
}

// PasswordCheck is the reservation of one password check.
type PasswordCheck struct {
	id                string // the reservation's id in each counter
	pair, account, ip counter
}

func newPasswordCheck(subject key, ip string, now time.Time) PasswordCheck {
	return PasswordCheck{
		id:      reservationID(now),
		pair:    counter{k: key{subject.PK, checkPairPrefix + ip}, limit: SourceFailureLimit},
		account: counter{k: key{subject.PK, checkAccountSK}, limit: AccountCheckLimit, grows: true},
		ip:      counter{k: loginFailIPKey(ip), limit: SourceIPFailureLimit},
	}
}

func (c *PasswordCheck) keys() []key { return []key{c.pair.k, c.account.k, c.ip.k} }

func (c *PasswordCheck) read(got map[key]item) error {
	for _, ctr := range []*counter{&c.pair, &c.account, &c.ip} {
		if err := ctr.read(got); err != nil {
			return err
		}
	}
	return nil
}

// PasswordCheckFor reads the counters of a check of userID's password from
// the source address ip, in one BatchGetItem; Reserve comes next.
func (s *Store) PasswordCheckFor(ctx context.Context, userID, ip string) (*PasswordCheck, error) {
	c := newPasswordCheck(key{PK: userPK(userID)}, ip, s.now())
	got, err := s.batchGet(ctx, c.keys())
	if err != nil {
		return nil, err
	}
	if err := c.read(got); err != nil {
		return nil, err
	}
	return &c, nil
}

// Reserve takes one check from each counter, in order: the source's
// counter for this account, the source's own, then the account's; a
// counter at its cap stops it with a 429 error (apierror.Throttled) and
// gives back what the earlier ones took. One UpdateItem per counter when
// nothing races.
func (s *Store) Reserve(ctx context.Context, c *PasswordCheck) error {
	order := []*counter{&c.pair, &c.ip, &c.account}
	// A counter already seen at its cap refuses before anything is
	// written: a refused attempt leaves no trace, in the account's
	// partition or elsewhere.
	now := s.now()
	for _, ctr := range order {
		if wait, capped := ctr.capped(now); capped {
			return apierror.ThrottledErr(wait)
		}
	}
	for i, ctr := range order {
		if err := s.reserve(ctx, ctr, c.id); err != nil {
			for _, taken := range order[:i] {
				s.giveBack(ctx, taken, c.id)
			}
			return err
		}
	}
	return nil
}

func (s *Store) reserve(ctx context.Context, c *counter, id string) error {
	for range reserveAttempts {
		now := s.now()
		if c.seen.holds(id) {
			// A repeat of a write whose answer was lost: it is ours.
			c.held = c.seen.ExpiresAt
			return nil
		}
		if wait, capped := c.capped(now); capped {
			return apierror.ThrottledErr(wait)
		}
		in, held := s.reservation(c, id, now)
		_, err := s.db.UpdateItem(ctx, in)
		if err == nil {
			c.held = held
			return nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return unavailable(err)
		}
		// Another request moved the counter first: see where it is now.
		if len(ccf.Item) > 0 { // none when the item is gone (or the store does not return it)
			if err := c.read(map[key]item{c.k: ccf.Item}); err != nil {
				return err
			}
			continue
		}
		var w window
		found, err := s.get(ctx, c.k, &w, strong)
		if err != nil {
			return err
		}
		c.seen = w
		c.seen.present = found
	}
	return unavailable(errors.New("store: password check counter kept moving"))
}

// reservation is the UpdateItem that takes one check from c as last seen:
// an ADD to an open window below its cap, or a new window holding 1.
// Either is conditional on the counter still being in the window seen, so
// two requests cannot both open a window at 1, and no ADD passes the cap.
func (s *Store) reservation(c *counter, id string, now time.Time) (*dynamodb.UpdateItemInput, int64) {
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 c.k.av(),
		ExpressionAttributeNames:            map[string]string{"#ids": "ids", "#exp": AttrTTL},
		ExpressionAttributeValues:           map[string]types.AttributeValue{},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if c.seen.live(now) {
		in.UpdateExpression = aws.String("ADD #ids :id")
		in.ExpressionAttributeValues[":id"] = &types.AttributeValueMemberSS{Value: []string{id}}
		in.ConditionExpression = aws.String("#exp = :seen AND size(#ids) <= :limit")
		in.ExpressionAttributeValues[":seen"] = number(c.seen.ExpiresAt)
		in.ExpressionAttributeValues[":limit"] = number(int64(c.limit)) // the mark and limit-1 reservations
		return in, c.seen.ExpiresAt
	}
	length := int64(CheckWindow / time.Second)
	var until, expires int64
	if c.grows {
		if c.seen.present && c.seen.count() >= c.limit && now.Unix() < c.seen.ExpiresAt {
			length = min(2*max(c.seen.Length, length), int64(MaxCheckWindow/time.Second))
		}
		until = now.Unix() + length
		expires = until + length
		in.UpdateExpression = aws.String("SET #ids = :opened, #exp = :exp, #until = :until, #len = :len")
		in.ExpressionAttributeNames["#until"] = "until"
		in.ExpressionAttributeNames["#len"] = "length"
		in.ExpressionAttributeValues[":until"] = number(until)
		in.ExpressionAttributeValues[":len"] = number(length)
	} else {
		expires = now.Unix() + length
		in.UpdateExpression = aws.String("SET #ids = :opened, #exp = :exp")
	}
	in.ExpressionAttributeValues[":exp"] = number(expires)
	in.ExpressionAttributeValues[":opened"] = &types.AttributeValueMemberSS{Value: []string{windowMark, id}}
	if c.seen.present {
		in.ConditionExpression = aws.String("#exp = :seen")
		in.ExpressionAttributeValues[":seen"] = number(c.seen.ExpiresAt)
	} else {
		free := keyFree()
		in.ConditionExpression = aws.String(free.text)
		maps.Copy(in.ExpressionAttributeNames, free.names)
	}
	return in, expires
}

// giveBack returns a reservation to its window, if that window is still
// the counter's. It is best effort: a reservation not given back counts as
// a failure, the safe side.
func (s *Store) giveBack(ctx context.Context, c *counter, id string) {
	if it, ok := s.giveBackItem(c, id); ok {
		c.held = 0
		_, _ = s.db.UpdateItem(ctx, updateItem(it.Update))
	}
}

// giveBackItem is giveBack as a transaction item: the id leaves the set
// (removing an id twice changes nothing), on condition that the window
// reserved in is still there. ok is false when nothing is held.
func (s *Store) giveBackItem(c *counter, id string) (types.TransactWriteItem, bool) {
	if c.held == 0 {
		return types.TransactWriteItem{}, false
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       c.k.av(),
		UpdateExpression:          aws.String("DELETE #ids :id"),
		ConditionExpression:       aws.String("#exp = :held"),
		ExpressionAttributeNames:  map[string]string{"#ids": "ids", "#exp": AttrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberSS{Value: []string{id}}, ":held": number(c.held)},
	}}, true
}

// CheckSucceeded records that a reserved check found the right password:
// its reservations on the source's two counters are given back. The
// account's counter keeps the check (it caps checks, not failures), and
// the source's earlier failures stay until their window closes, so a right
// password among parallel wrong ones buys no more wrong ones.
func (s *Store) CheckSucceeded(ctx context.Context, c *PasswordCheck) {
	s.giveBack(ctx, &c.pair, c.id)
	s.giveBack(ctx, &c.ip, c.id)
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
