package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/emailaddr"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// Field messages for uniqueness, as Django words them.
const (
	MsgEmailTaken    = "user with this email already exists."
	MsgUsernameTaken = "A user with that username already exists."
)

// claim is a uniqueness item: it exists while a user holds the value. An
// email claim also keeps the address as the account stores it, so that a
// lookup by any spelling of it mails the account's own address.
type claim struct {
	UserID string `dynamodbav:"user_id"`
	Email  string `dynamodbav:"email,omitempty"`
	// An email claim also copies the account's organization name and
	// theme, as the profile does: what the emails sent to the address are
	// dressed in, read with the claim that finds the account.
	OrganizationName string          `dynamodbav:"organization_name,omitempty"`
	Theme            json.RawMessage `dynamodbav:"theme,omitempty"`
}

// CreateUser writes the user, the claims on its email and username, its
// term acceptances and what opts add (WithEmailToken) in one transaction.
// The claims are conditional puts, so of any number of parallel signups
// with one email exactly one succeeds; a taken email or username is a 400
// on that field and nothing is written.
func (s *Store) CreateUser(ctx context.Context, u pufinid.User, accepted []pufinid.Acceptance, opts ...CreateOption) error {
	profile, err := marshal(userProfileKey(u.ID), u)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		s.putNew(profile),
		s.putNew(mustMarshal(emailClaimKey(u.Email), claim{UserID: u.ID, Email: u.Email, OrganizationName: u.OrganizationName, Theme: u.Theme})),
	}
	fields := []string{"", "email"}
	if emailaddr.LegacyDiffers(u.Email) {
		// Accounts made before the canonical form hold claims keyed by the
		// lowercased address: one there takes the address too.
		free := keyFree()
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: legacyEmailClaimKey(u.Email).av(),
			ConditionExpression: aws.String(free.text), ExpressionAttributeNames: free.names,
		}})
		fields = append(fields, "email")
	}
	if u.Username != nil {
		items = append(items, s.putNew(mustMarshal(usernameClaimKey(*u.Username), claim{UserID: u.ID})))
		fields = append(fields, "username")
	}
	for _, a := range accepted {
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: mustMarshal(acceptanceKey(u.ID, a.Slug), a)}})
	}
	tx := createTx{table: s.table, userID: u.ID}
	for _, o := range opts {
		o(&tx)
	}
	items = append(items, tx.items...)
	err = s.transact(ctx, items)
	// Every taken field is named (DynamoDB reports each failed item), so
	// one answer lists both a taken email and a taken username.
	errs := apierror.FieldErrors{}
	for _, i := range failedConditions(err) {
		if i >= len(fields) {
			continue
		}
		switch fields[i] {
		case "email":
			errs.Add("email", MsgEmailTaken)
		case "username":
			errs.Add("username", MsgUsernameTaken)
		}
	}
	if len(errs) > 0 {
		return &apierror.Error{Code: apierror.Invalid, Fields: errs, Err: ErrTaken}
	}
	return unavailable(err)
}

// Account reads a user and the terms they accepted: one Query of the
// user's partition, limited to the PROFILE items. A missing user is a 404.
func (s *Store) Account(ctx context.Context, userID string) (pufinid.Account, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: userPK(userID)},
			":p":  &types.AttributeValueMemberS{Value: profileSK},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return pufinid.Account{}, err
	}
	var acct pufinid.Account
	found := false
	for _, it := range items {
		k := keyOf(it)
		switch {
		case k.SK == profileSK:
			u, err := unmarshalAll[pufinid.User]([]item{it})
			if err != nil {
				return acct, err
			}
			acct.User, found = u[0], true
		case strings.HasPrefix(k.SK, acceptancePrefix):
			a, err := unmarshalAll[pufinid.Acceptance]([]item{it})
			if err != nil {
				return acct, err
			}
			acct.Acceptances = append(acct.Acceptances, a[0])
		}
	}
	if !found {
		return pufinid.Account{}, errNotFound()
	}
	return acct, nil
}

// AcceptTerm records a's acceptance for the user, replacing an older
// version's, provided the user still exists (a condition on the profile in
// the same transaction, so a deleted user leaves no orphan acceptance).
func (s *Store) AcceptTerm(ctx context.Context, userID string, a pufinid.Acceptance) error {
	err := s.transact(ctx, []types.TransactWriteItem{
		s.profileCheck(userID, profileExists()),
		{Put: &types.Put{
			TableName: aws.String(s.table),
			Item:      mustMarshal(acceptanceKey(userID, a.Slug), a),
			// A slower request must not replace the acceptance of a newer
			// version with an older one.
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #v <= :v"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#v": "version_number"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.Itoa(a.VersionNumber)}},
		}},
	})
	return onFailed(err,
		errNotFound(),
		nil, // a newer version is accepted already
	)
}

// keyFree is the condition of a write that must not replace an item: none
// has the key yet.
func keyFree() expr {
	return expr{text: "attribute_not_exists(#pk)", names: map[string]string{"#pk": AttrPK}}
}

// putNew is a Put that fails if the key exists.
func (s *Store) putNew(it item) types.TransactWriteItem {
	free := keyFree()
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     it,
		ConditionExpression:      aws.String(free.text),
		ExpressionAttributeNames: free.names,
	}}
}

func mustMarshal(k key, v any) item {
	it, err := marshal(k, v)
	if err != nil {
		panic("store: marshal " + k.PK + ": " + err.Error()) // only plain structs are marshalled
	}
	return it
}

// EmailOwner is the account that holds an email address: its id, and the
// address as the account stores it, which is the only one to send mail to
// (a lookup matches other spellings of it).
type EmailOwner struct {
	UserID  string
	Address string
	// The account's organization name and theme (its profile's copy).
	OrganizationName string
	Theme            json.RawMessage
	// Suppressed is true when Amazon SES reported a hard bounce or a
	// complaint for the address (suppression.go): nothing is sent to it.
	Suppressed bool
}

// EmailOwner finds the account whose email is email in its canonical form
// (shared/emailaddr): one strongly consistent read of the email claim (with
// the key claims had before the canonical form, for an address where it
// differs), and in the same BatchGetItem the address's suppression. found
// is false when nobody holds the address. A claim written before claims
// kept the address costs a second read, of the profile.
func (s *Store) EmailOwner(ctx context.Context, email string) (o EmailOwner, found bool, err error) {
	keys := emailClaimKeys(email)
	got, err := s.batchGet(ctx, append(slices.Clip(keys), suppressionKey(email)))
	if err != nil {
		return o, false, err
	}
	_, suppressed := got[suppressionKey(email)]
	for _, k := range keys {
		it, ok := got[k]
		if !ok {
			continue
		}
		c, err := unmarshalAll[claim]([]item{it})
		if err != nil || c[0].UserID == "" {
			return o, false, err
		}
		o = EmailOwner{UserID: c[0].UserID, Address: c[0].Email, OrganizationName: c[0].OrganizationName, Theme: c[0].Theme}
		// A claim written before claims held the address, or the
		// organization, takes them from the profile: one more read, for
		// those accounts only.
		if o.Address == "" || o.OrganizationName == "" {
			var u pufinid.User
			if found, err = s.get(ctx, userProfileKey(o.UserID), &u, strong); err != nil || !found {
				return EmailOwner{}, false, err
			}
			o.Address, o.OrganizationName, o.Theme = u.Email, u.OrganizationName, u.Theme
		}
		if sameAddress(o.Address, email) {
			o.Suppressed = suppressed
			return o, true, nil
		}
		// A claim made before the canonical form, on a key that is another
		// address's: strings.ToLower folded "İ" and the Kelvin sign into
		// ASCII, so "alİce@x" was keyed as "alice@x" (at the legacy key, or
		// at the canonical key of the other address). That account is not
		// this address's. (MigrateEmailClaims moves such claims away.)
	}
	return EmailOwner{}, false, nil
}

// sameAddress reports whether the address an account stores is the one a
// request typed: the same canonical form, or, for an address the rules of
// today refuse (an account made under looser ones), the same lowercase.
func sameAddress(stored, typed string) bool {
	if emailaddr.Valid(stored) && emailaddr.Valid(typed) {
		return emailaddr.Equal(stored, typed)
	}
	return emailaddr.Legacy(stored) == emailaddr.Legacy(typed)
}

// emailClaimKeys are the keys a claim on email may be at, in order: its
// canonical key and, for an address whose old lowercase form differs, the
// key claims had before the canonical form (which a lookup trusts only
// when the account's own address is email in canonical form).
func emailClaimKeys(email string) []key {
	keys := []key{emailClaimKey(email)}
	if emailaddr.LegacyDiffers(email) {
		keys = append(keys, legacyEmailClaimKey(email))
	}
	return keys
}

// UpdateProfile sets the fields in set, keyed by their
// pufinid.ProfileField name (a nil value stores null), on userID's
// profile, on condition that the profile exists: one UpdateItem. A missing
// user is a 404 and nothing is written (no half-created profile); a name
// that is no profile field's is refused, so no other attribute can be set.
func (s *Store) UpdateProfile(ctx context.Context, userID string, set map[string]*string) error {
	names := map[string]string{}
	vals := map[string]types.AttributeValue{}
	var sets []string
	for i, f := range pufinid.ProfileFields { // a fixed order keeps the expression stable
		v, ok := set[f.Name]
		if !ok {
			continue
		}
		n, p := fmt.Sprintf("#f%d", i), fmt.Sprintf(":v%d", i)
		names[n] = f.Name
		if v == nil {
			vals[p] = &types.AttributeValueMemberNULL{Value: true}
		} else {
			vals[p] = &types.AttributeValueMemberS{Value: *v}
		}
		sets = append(sets, n+" = "+p)
	}
	if len(sets) != len(set) {
		return fmt.Errorf("store: UpdateProfile: unknown field in %v", set)
	}
	if len(sets) == 0 {
		return nil
	}
	update := expr{text: "SET " + strings.Join(sets, ", "), names: names, values: vals}
	_, err := s.db.UpdateItem(ctx, updateItem(s.profileUpdate(userID, update, profileExists())))
	return onFailed(err, errNotFound())
}

// ChangePassword replaces userID's password hash oldHash by newHash and
// ends every session of the user (the profile's map of refresh tokens
// goes: revokeAllTokens), in one conditional UpdateItem, whatever the
// number of tokens. A password changed (or a user deleted) since the
// caller checked the old password is ErrUserChanged, and nothing is
// written. The SDK repeating a write whose answer was lost finds newHash
// in place: the failed condition's answer (ALL_OLD) shows it, and that is
// this change's own success (hashes are salted: no other request writes
// that hash). The repeat writes nothing, so a login with the new password
// in between keeps its token.
func (s *Store) ChangePassword(ctx context.Context, userID, oldHash, newHash string) error {
	names := revokeAllNames()
	names["#ph"] = "password_hash"
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      userProfileKey(userID).av(),
		UpdateExpression:         aws.String("SET #ph = :new " + revokeAllTokens),
		ConditionExpression:      aws.String("#ph = :old"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":new": &types.AttributeValueMemberS{Value: newHash},
			":old": &types.AttributeValueMemberS{Value: oldHash},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if len(failedConditions(err)) > 0 {
		if cur, derr := decodeSessions(failedItem(err, 0)); derr == nil && cur.Exists && cur.PasswordHash == newHash {
			return nil
		}
		return ErrUserChanged
	}
	return unavailable(err)
}

// maxTransactItems is DynamoDB's limit on items in one transaction.
const maxTransactItems = 100

// DeleteUser removes u and everything of theirs: the profile (and with it
// the map of their refresh tokens, so every session ends), every other
// item of the user's partition (acceptances, email tokens, login
// counters) and the claims on the email and username. The profile and the
// claims go in one transaction, conditional on the profile still having
// the password hash the caller checked (ErrUserChanged otherwise), so a
// claim is never left without its user nor a user without their claims;
// the email can sign up again at once. The other items of the partition go
// in the same transaction; a user with more than ~97 of them has the excess
// deleted just before. One Query plus one TransactWriteItems.
//
// The Query stops below RTOKEN#, where refresh tokens were kept before the
// map (keys.go sorts every other item of the partition before it): those
// items are refused already and go by their TTL, so a user's old sessions
// cost the delete nothing.
func (s *Store) DeleteUser(ctx context.Context, u pufinid.User) error {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk < :rt"),
		ProjectionExpression:     aws.String("#pk, #sk"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: userPK(u.ID)},
			":rt": &types.AttributeValueMemberS{Value: legacyRefreshTokenPrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return err
	}
	ownedBy := func(k key) types.TransactWriteItem {
		return types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       k.av(),
			ConditionExpression:       aws.String("#uid = :uid"),
			ExpressionAttributeNames:  map[string]string{"#uid": "user_id"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":uid": &types.AttributeValueMemberS{Value: u.ID}},
		}}
	}
	tx := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       userProfileKey(u.ID).av(),
			ConditionExpression:       aws.String("#ph = :ph"),
			ExpressionAttributeNames:  map[string]string{"#ph": "password_hash"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":ph": &types.AttributeValueMemberS{Value: u.PasswordHash}},
		}},
	}
	claimKeys := emailClaimKeys(u.Email)
	if len(claimKeys) == 1 {
		tx = append(tx, ownedBy(claimKeys[0]))
	} else {
		// The claim is at the canonical key or, for an account made before
		// it, at the legacy one, which may be another account's.
		got, err := s.batchGet(ctx, claimKeys)
		if err != nil {
			return err
		}
		for _, k := range claimKeys {
			if it, ok := got[k]; ok {
				if c, err := unmarshalAll[claim]([]item{it}); err == nil && c[0].UserID == u.ID {
					tx = append(tx, ownedBy(k))
				}
			}
		}
	}
	if u.Username != nil {
		tx = append(tx, ownedBy(usernameClaimKey(*u.Username)))
	}
	var rest []key
	for _, it := range items {
		if k := keyOf(it); k.SK != profileSK {
			rest = append(rest, k)
		}
	}
	if room := maxTransactItems - len(tx); len(rest) > room {
		reqs := make([]types.WriteRequest, 0, len(rest)-room)
		for _, k := range rest[room:] {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.av()}})
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return err
		}
		rest = rest[:room]
	}
	for _, k := range rest {
		tx = append(tx, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k.av()}})
	}
	err = s.transact(ctx, tx)
	return onFailed(err, ErrUserChanged)
}

// AccountAndTerms reads a user's account and every version of every term.
// The two reads do not depend on each other, so they run at once: one
// round trip, and one request once the instance keeps the terms (Terms).
// A missing user is a 404.
func (s *Store) AccountAndTerms(ctx context.Context, userID string) (pufinid.Account, []pufinid.Term, error) {
	var (
		terms []pufinid.Term
		tErr  error
		wg    sync.WaitGroup
	)
	wg.Go(func() { terms, tErr = s.Terms(ctx) })
	acct, err := s.Account(ctx, userID)
	wg.Wait()
	if err != nil {
		return pufinid.Account{}, nil, err
	}
	if tErr != nil {
		return pufinid.Account{}, nil, tErr
	}
	return acct, terms, nil
}
