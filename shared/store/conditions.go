package store

import (
	"errors"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// Conditional writes and what their failed conditions mean.
//
// A failed condition always comes back to the caller as an error that is
// one of the sentinels below (errors.Is), never as a boolean or a bare
// code. Where the contract has one answer for it on every route (the 404
// of a missing item, the 400 of a taken email or username), the error is
// that answer too, an *apierror.Error wrapping the sentinel, so a handler
// that needs nothing else passes it on. onFailed is the one place a
// write's failed condition is turned into its sentinel.
var (
	// ErrNotFound: the item a read or a conditional write needs does not
	// exist (for a write, nothing was written). It comes wrapped in DRF's
	// 404.
	ErrNotFound = errors.New("store: not found")
	// ErrTaken: a signup's email or username is another account's; nothing
	// was written. It comes wrapped in the 400 naming the fields.
	ErrTaken = errors.New("store: email or username taken")
	// ErrUserChanged is returned by writes conditioned on what the caller
	// read (the password hash): the user was deleted or changed their
	// password in between, and nothing was written.
	ErrUserChanged = errors.New("store: the user changed or no longer exists")
	// ErrLoginStale is LoginSucceeded's answer when the account was
	// deleted or its password changed since LoginLookup read it: the
	// password just checked no longer opens the account.
	ErrLoginStale = errors.New("store: account changed during login")
	// ErrEmailTokenInvalid is returned when a token cannot be used: none
	// was issued, it was used or replaced, its hash differs, or it has
	// expired.
	ErrEmailTokenInvalid = errors.New("store: email token invalid, used or expired")
	// ErrNotIssued is IssueEmailToken's answer when the user does not
	// exist or, for a confirmation, has confirmed already: no token was
	// written.
	ErrNotIssued = errors.New("store: email token not issued")
)

// errNotFound is DRF's 404 for a missing item, carrying ErrNotFound.
func errNotFound() error {
	e := apierror.NotFoundErr()
	e.Err = ErrNotFound
	return e
}

// conditionalCheckFailed is the reason DynamoDB gives a transaction item
// whose condition failed.
const conditionalCheckFailed = "ConditionalCheckFailed"

// cancellationReasons returns a cancelled transaction's per-item reasons.
func cancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 {
		return tce.CancellationReasons, true
	}
	return nil, false
}

// failedConditions are the items of a write whose condition failed, in
// order: their indexes in a transaction (DynamoDB gives a reason for every
// item; minidyn, "None" for all but the first that failed), or 0 for a
// single write. It is empty when err is no failed condition.
func failedConditions(err error) []int {
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return []int{0}
	}
	reasons, _ := cancellationReasons(err)
	var failed []int
	for i, r := range reasons {
		if aws.ToString(r.Code) == conditionalCheckFailed {
			failed = append(failed, i)
		}
	}
	return failed
}

// onFailed is what a write answers its caller, given err, the SDK's
// answer: nil for a success; for a failed condition, outcomes[i] for the
// first item i that failed (item 0 of a single write), where nil means
// what the write is for holds already; else, and for an item with no
// outcome, the 503 of unavailable.
func onFailed(err error, outcomes ...error) error {
	if err == nil {
		return nil
	}
	if failed := failedConditions(err); len(failed) > 0 && failed[0] < len(outcomes) {
		return outcomes[failed[0]]
	}
	return unavailable(err)
}

// expr is a condition or update expression with the attribute names and
// values it uses.
type expr struct {
	text   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// merged are the names and values of es together; values is nil when
// none has any (DynamoDB refuses an empty ExpressionAttributeValues).
func merged(es ...expr) (names map[string]string, values map[string]types.AttributeValue) {
	names = map[string]string{}
	for _, e := range es {
		maps.Copy(names, e.names)
		if len(e.values) > 0 {
			if values == nil {
				values = map[string]types.AttributeValue{}
			}
			maps.Copy(values, e.values)
		}
	}
	return names, values
}

// profileExists is the condition, on a user's profile, of every write that
// must find the user: a write for a user deleted meanwhile then changes
// nothing, and leaves no orphan item nor half a profile. and adds more to
// hold of the profile.
func profileExists(and ...expr) expr {
	c := expr{text: "attribute_exists(#pk)", names: map[string]string{"#pk": AttrPK}}
	for _, a := range and {
		c.text += " AND " + a.text
		c.names, c.values = merged(c, a)
	}
	return c
}

// profileCheck is the transaction item that holds the rest of a
// transaction to cond on userID's profile.
func (s *Store) profileCheck(userID string, cond expr) types.TransactWriteItem {
	names, values := merged(cond)
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 aws.String(s.table),
		Key:                       userProfileKey(userID).av(),
		ConditionExpression:       aws.String(cond.text),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

// profileUpdate is the update of userID's profile by update, on condition
// cond.
func (s *Store) profileUpdate(userID string, update, cond expr) *types.Update {
	names, values := merged(update, cond)
	return &types.Update{
		TableName:                 aws.String(s.table),
		Key:                       userProfileKey(userID).av(),
		UpdateExpression:          aws.String(update.text),
		ConditionExpression:       aws.String(cond.text),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}

// updateItem is u, a transaction's Update, as a request of its own.
func updateItem(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
	}
}
