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
	// tokens is the account's map of refresh tokens as read, which the
	// login's own token is added to (tokenUpdate).
	tokens map[string]int64
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
		cur, err := decodeSessions(it)
		if err != nil {
			return nil, err
		}
		a.User, a.Found, a.tokens = u[0], true, cur.Tokens
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
// TransactWriteItems: it records the refresh token rt in the profile
// (tokenUpdate: bounded to MaxRefreshTokens, the oldest revoked), stores
// newHash as the password hash when it is not "" (a rehash under stronger
// parameters), and gives back the check's reservations on the source's
// two counters (the account's keeps it: it caps checks). The profile's
// update is conditional on the profile still holding the hash the
// password was checked against, so a login racing a password change or
// reset cannot leave a refresh token the change did not revoke (the
// change removes the map in the same write as it sets the hash), and a
// rehash cannot overwrite a new password.
//
// When the profile's condition fails, its ALL_OLD answer tells why: a
// profile gone or with another hash is ErrLoginStale; a map changed by a
// parallel login or revoke is read from the answer and the transaction
// computed again (at most maxTokenWrites in all, then a 503).
func (s *Store) LoginSucceeded(ctx context.Context, a *LoginAttempt, rt RefreshToken, newHash string) error {
	hashIs := expr{text: "#h = :h", names: map[string]string{"#h": "password_hash"},
		values: map[string]types.AttributeValue{":h": &types.AttributeValueMemberS{Value: a.User.PasswordHash}}}
	var also []expr
	if newHash != "" {
		also = append(also, expr{text: "#h = :newh", names: map[string]string{"#h": "password_hash"},
			values: map[string]types.AttributeValue{":newh": &types.AttributeValueMemberS{Value: newHash}}})
	}
	var givesBack []types.TransactWriteItem
	for _, c := range []*counter{&a.check.pair, &a.check.ip} {
		if it, ok := s.giveBackItem(c, a.check.id); ok {
			givesBack = append(givesBack, it)
		}
	}
	tokens := a.tokens
	for attempt := 1; ; attempt++ {
		update, cond := tokenUpdate(tokens, rt, s.now(), also...)
		profile := s.profileUpdate(a.User.ID, update, profileExists(hashIs, cond))
		profile.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		err := s.transact(ctx, append([]types.TransactWriteItem{{Update: profile}}, givesBack...))
		failed := failedConditions(err)
		if len(failed) == 0 {
			if err != nil {
				return unavailable(err)
			}
			a.check.pair.held, a.check.ip.held = 0, 0
			return nil
		}
		// A source window closed (and went) since the reservation: there
		// is nothing to give back to it.
		var kept []types.TransactWriteItem
		for i, it := range givesBack {
			if !slices.Contains(failed, 1+i) {
				kept = append(kept, it)
			}
		}
		givesBack = kept
		if failed[0] == 0 {
			cur, derr := decodeSessions(failedItem(err, 0))
			switch {
			case derr != nil:
				return derr
			case cur.holds(rt) && (cur.PasswordHash == a.User.PasswordHash || newHash != "" && cur.PasswordHash == newHash):
				// This login's own write, committed once already.
				a.check.pair.held, a.check.ip.held = 0, 0
				return nil
			case !cur.Exists || cur.PasswordHash != a.User.PasswordHash:
				return ErrLoginStale
			}
			tokens = cur.Tokens
		}
		if attempt == maxTokenWrites {
			return unavailable(err)
		}
	}
}
