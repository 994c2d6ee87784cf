package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// maxLoginLen bounds a login that can name an account: no email is longer
// (usernames are shorter). A longer login is looked up as unknown, which
// also keeps keys far below DynamoDB's limit.
const maxLoginLen = 254

// LoginAttempt is what a login needs to decide: the account the login names,
// if any, and the failure counters that cover the attempt.
type LoginAttempt struct {
	User  pufinid.User // zero unless Found
	Found bool

	counterKey key // the account's counter, or the unknown login name's
	counter    failWindow
	ipKey      key
	ip         failWindow
}

// LoginLookup reads what a login needs in two BatchGetItems: first the
// claim on the login (the email claim if it holds "@", usernames cannot)
// with the source IP's failure counter; then the account's profile with its
// failure counter, or, for a login that names no account, that name's
// counter, so both cases make the same requests.
func (s *Store) LoginLookup(ctx context.Context, login, ip string) (*LoginAttempt, error) {
	a := &LoginAttempt{ipKey: loginFailIPKey(ip)}
	keys := []key{a.ipKey}
	var claimKey key
	if utf8.RuneCountInString(login) <= maxLoginLen {
		if strings.Contains(login, "@") {
			claimKey = emailClaimKey(login)
		} else {
			claimKey = usernameClaimKey(login)
		}
		keys = append(keys, claimKey)
	}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	if a.ip, err = readFailWindow(got, a.ipKey); err != nil {
		return nil, err
	}
	var userID string
	if it, ok := got[claimKey]; ok {
		c, err := unmarshalAll[claim]([]item{it})
		if err != nil {
			return nil, err
		}
		userID = c[0].UserID
	}

	if userID == "" {
		a.counterKey = loginFailNameKey(login)
		got, err = s.batchGet(ctx, []key{a.counterKey})
	} else {
		a.counterKey = loginFailAccountKey(userID)
		got, err = s.batchGet(ctx, []key{userProfileKey(userID), a.counterKey})
	}
	if err != nil {
		return nil, err
	}
	if a.counter, err = readFailWindow(got, a.counterKey); err != nil {
		return nil, err
	}
	if it, ok := got[userProfileKey(userID)]; ok && userID != "" {
		u, err := unmarshalAll[pufinid.User]([]item{it})
		if err != nil {
			return nil, err
		}
		a.User, a.Found = u[0], true
	}
	return a, nil
}

// Throttled reports whether the attempt must be refused at now without
// checking its password, and for how long: the account (or unknown name)
// has LoginAccountLimit failures in its window, or the source IP has
// LoginIPLimit.
func (a *LoginAttempt) Throttled(now time.Time) (time.Duration, bool) {
	wa, accountOK := a.counter.wait(now, LoginAccountLimit)
	wi, ipOK := a.ip.wait(now, LoginIPLimit)
	if !accountOK && !ipOK {
		return 0, false
	}
	return max(wa, wi), true
}

// LoginFailed counts a failed attempt against its account (or unknown
// name) and its source IP in one TransactWriteItems. A lost race on opening
// a window is retried on a fresh read of the two counters.
func (s *Store) LoginFailed(ctx context.Context, a *LoginAttempt) error {
	account, ip := a.counter, a.ip
	for attempt := 0; ; attempt++ {
		now := s.now()
		err := s.transact(ctx, []types.TransactWriteItem{
			s.countFailure(a.counterKey, account, now),
			s.countFailure(a.ipKey, ip, now),
		})
		if err == nil {
			return nil
		}
		if !isRetryableCancel(err) || attempt == 3 {
			return unavailable(err)
		}
		if err := pause(ctx, attempt+1); err != nil {
			return unavailable(err)
		}
		got, err := s.batchGet(ctx, []key{a.counterKey, a.ipKey})
		if err != nil {
			return err
		}
		if account, err = readFailWindow(got, a.counterKey); err != nil {
			return err
		}
		if ip, err = readFailWindow(got, a.ipKey); err != nil {
			return err
		}
	}
}

// isRetryableCancel reports a transaction cancelled because another
// attempt got there first: a counter no longer as read. (A transaction on
// the same counter in flight, TransactionConflict, is already repeated by
// transact; what reaches here after that is an outage.)
func isRetryableCancel(err error) bool {
	reasons, ok := cancellationReasons(err)
	if !ok {
		return false
	}
	for _, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// ErrLoginStale is LoginSucceeded's answer when the account was deleted or
// its password changed since LoginLookup read it: the password just checked
// no longer opens the account.
var ErrLoginStale = errors.New("store: account changed during login")

// LoginSucceeded finishes a login whose password matched, in one
// TransactWriteItems: it records the refresh token rt, stores newHash as
// the password hash when it is not "" (a rehash under stronger parameters),
// and clears the account's failure counter when it holds failures. All of
// it is conditional on the profile still holding the hash the password was
// checked against, so a login racing a password change or reset cannot
// leave a refresh token the change did not revoke, and a rehash cannot
// overwrite a new password.
func (s *Store) LoginSucceeded(ctx context.Context, a *LoginAttempt, rt RefreshToken, newHash string) error {
	names := map[string]string{"#pk": AttrPK, "#h": "password_hash"}
	vals := map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: a.User.PasswordHash}}
	cond := aws.String("attribute_exists(#pk) AND #h = :h")
	profile := types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(s.table), Key: userProfileKey(a.User.ID).av(),
		ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
	}}
	if newHash != "" {
		vals[":new"] = &types.AttributeValueMemberS{Value: newHash}
		profile = types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: userProfileKey(a.User.ID).av(),
			UpdateExpression:    aws.String("SET #h = :new"),
			ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: vals,
		}}
	}
	items := []types.TransactWriteItem{profile, s.putRefreshToken(rt)}
	if a.counter.failures(s.now()) > 0 {
		items = append(items, s.clearFailures(a.counterKey))
	}
	err := s.transact(ctx, items)
	if reasons, ok := cancellationReasons(err); ok && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return ErrLoginStale
	}
	return unavailable(err)
}
