package store

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// maxLoginLen bounds a login that can name an account: no email is longer
// (usernames are shorter). A longer login is looked up as unknown, which
// also keeps keys far below DynamoDB's limit.
const maxLoginLen = 254

// LoginAttempt is what a login needs to decide: the account the login names,
// if any, and the counters that cap its password check.
type LoginAttempt struct {
	User  pufinid.User // zero unless Found
	Found bool

	check PasswordCheck
}

// Check is the attempt's password check, to Reserve before the password is
// looked at.
func (a *LoginAttempt) Check() *PasswordCheck { return &a.check }

// LoginLookup reads what a login needs in two BatchGetItems: first the
// claim on the login (the email claim if it holds "@", usernames cannot)
// with the source address's counter; then the account's profile with its
// counters, or, for a login that names no account, that name's counters,
// so both cases make the same requests.
func (s *Store) LoginLookup(ctx context.Context, login, ip string) (*LoginAttempt, error) {
	ipKey := loginFailIPKey(ip)
	keys := []key{ipKey}
	var claimKeys []key
	if utf8.RuneCountInString(login) <= maxLoginLen {
		if strings.Contains(login, "@") {
			claimKeys = emailClaimKeys(login)
		} else {
			claimKeys = []key{usernameClaimKey(login)}
		}
		keys = append(keys, claimKeys...)
	}
	first, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	var (
		userID string
		verify bool // an email claim without its address: check the profile's
	)
	byEmail := strings.Contains(login, "@")
	for _, k := range claimKeys {
		if it, ok := first[k]; ok {
			c, err := unmarshalAll[claim]([]item{it})
			if err != nil {
				return nil, err
			}
			if byEmail && c[0].Email != "" && !sameAddress(c[0].Email, login) {
				continue // another address's claim, made before the canonical form (see EmailOwner)
			}
			userID, verify = c[0].UserID, byEmail && c[0].Email == ""
			break
		}
	}

	a := &LoginAttempt{}
	if userID == "" {
		a.check = newPasswordCheck(loginFailNameKey(login), ip, s.now())
		keys = []key{a.check.pair.k, a.check.account.k}
	} else {
		a.check = newPasswordCheck(key{PK: userPK(userID)}, ip, s.now())
		keys = []key{userProfileKey(userID), a.check.pair.k, a.check.account.k}
	}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	if it, ok := first[ipKey]; ok {
		got[ipKey] = it
	}
	if err := a.check.read(got); err != nil {
		return nil, err
	}
	if it, ok := got[userProfileKey(userID)]; ok && userID != "" {
		u, err := unmarshalAll[pufinid.User]([]item{it})
		if err != nil {
			return nil, err
		}
		a.User, a.Found = u[0], true
	}
	if a.Found && verify && !sameAddress(a.User.Email, login) {
		// A legacy claim without its address, on another address's key:
		// this login names no account. Its counters are the name's.
		a = &LoginAttempt{check: newPasswordCheck(loginFailNameKey(login), ip, s.now())}
		got, err = s.batchGet(ctx, []key{a.check.pair.k, a.check.account.k})
		if err != nil {
			return nil, err
		}
		if it, ok := first[ipKey]; ok {
			got[ipKey] = it
		}
		if err := a.check.read(got); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// LoginSucceeded finishes a login whose password matched, in one
// TransactWriteItems: it records the refresh token rt, stores newHash as
// the password hash when it is not "" (a rehash under stronger parameters),
// and gives back the check's reservations on the source's two counters
// (the account's keeps it: it caps checks). All of
// it is conditional on the profile still holding the hash the password was
// checked against, so a login racing a password change or reset cannot
// leave a refresh token the change did not revoke, and a rehash cannot
// overwrite a new password.
func (s *Store) LoginSucceeded(ctx context.Context, a *LoginAttempt, rt RefreshToken, newHash string) error {
	cond := profileExists(expr{text: "#h = :h", names: map[string]string{"#h": "password_hash"},
		values: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: a.User.PasswordHash}}})
	profile := s.profileCheck(a.User.ID, cond)
	if newHash != "" {
		profile = types.TransactWriteItem{Update: s.profileUpdate(a.User.ID, expr{text: "SET #h = :new",
			values: map[string]types.AttributeValue{":new": &types.AttributeValueMemberS{Value: newHash}}}, cond)}
	}
	items := []types.TransactWriteItem{profile, s.putRefreshToken(rt)}
	givesBack := 0
	for _, c := range []*counter{&a.check.pair, &a.check.ip} {
		if it, ok := s.giveBackItem(c, a.check.id); ok {
			items = append(items, it)
			givesBack++
		}
	}
	for {
		err := s.transact(ctx, items)
		failed := failedConditions(err)
		if len(failed) > 0 && failed[0] >= 2 && givesBack > 0 {
			// A source window closed (and went) since the reservation: there
			// is nothing to give back to it.
			kept := items[:2]
			for i, it := range items[2:] {
				if !slices.Contains(failed, 2+i) {
					kept = append(kept, it)
				}
			}
			if len(kept) < len(items) {
				items, givesBack = kept, len(kept)-2
				continue
			}
		}
		if err := onFailed(err, ErrLoginStale); err != nil {
			return err
		}
		a.check.pair.held, a.check.ip.held = 0, 0
		return nil
	}
}
