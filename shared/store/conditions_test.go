package store

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/apierror"
)

// cancelled is a transaction DynamoDB cancelled with these reasons.
func cancelled(codes ...string) error {
	tce := &types.TransactionCanceledException{}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return tce
}

func TestOnFailedMapsTheFirstFailedItem(t *testing.T) {
	t.Parallel()
	errA, errB := errors.New("a"), errors.New("b")
	outage := errors.New("connection reset")
	tests := []struct {
		name string
		err  error
		want error // nil: success; errUnavailable: the 503
	}{
		{"success", nil, nil},
		{"a single write's condition", &types.ConditionalCheckFailedException{}, errA},
		{"the first item", cancelled("ConditionalCheckFailed", "None"), errA},
		{"the second item", cancelled("None", "ConditionalCheckFailed"), errB},
		{"both: the first counts", cancelled("ConditionalCheckFailed", "ConditionalCheckFailed"), errA},
		{"an item with no outcome", cancelled("None", "None", "ConditionalCheckFailed"), errUnavailable},
		{"contention, no condition", cancelled("None", "TransactionConflict"), errUnavailable},
		{"an outage", outage, errUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := onFailed(tt.err, errA, errB)
			switch {
			case tt.want == errUnavailable:
				if !apierror.Is(got, apierror.Unavailable) || !errors.Is(got, tt.err) {
					t.Errorf("got %v, want the 503 carrying %v", got, tt.err)
				}
			case got != tt.want:
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// errUnavailable stands for "the 503" in the table above.
var errUnavailable = errors.New("unavailable")

func TestOnFailedNilOutcomeIsSuccess(t *testing.T) {
	t.Parallel()
	if err := onFailed(cancelled("None", "ConditionalCheckFailed"), errNotFound(), nil); err != nil {
		t.Errorf("got %v, want nil: the second item's failure means the write holds already", err)
	}
}

func TestFailedConditionsNamesEveryFailedItem(t *testing.T) {
	t.Parallel()
	got := failedConditions(cancelled("None", "ConditionalCheckFailed", "None", "ConditionalCheckFailed"))
	if len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("got %v, want [1 3]", got)
	}
	if got := failedConditions(errors.New("x")); len(got) != 0 {
		t.Errorf("an error that is no condition: %v", got)
	}
}

func TestNotFoundIsBothThe404AndTheSentinel(t *testing.T) {
	t.Parallel()
	err := errNotFound()
	if !apierror.Is(err, apierror.NotFound) || !errors.Is(err, ErrNotFound) || err.(*apierror.Error).Message != "Not found." {
		t.Errorf("got %#v, want DRF's 404 wrapping ErrNotFound", err)
	}
}

func TestProfileExists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cond      expr
		text      string
		names     int
		hasValues bool
	}{
		{"alone", profileExists(), "attribute_exists(#pk)", 1, false},
		{"and more", profileExists(expr{text: "#v = :f", names: map[string]string{"#v": "is_verified"},
			values: map[string]types.AttributeValue{":f": &types.AttributeValueMemberBOOL{}}}),
			"attribute_exists(#pk) AND #v = :f", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{table: "t"}
			cc := s.profileCheck("u1", tt.cond).ConditionCheck
			if aws.ToString(cc.ConditionExpression) != tt.text || len(cc.ExpressionAttributeNames) != tt.names ||
				cc.ExpressionAttributeNames["#pk"] != AttrPK || (cc.ExpressionAttributeValues != nil) != tt.hasValues {
				t.Errorf("got %q %v %v", aws.ToString(cc.ConditionExpression), cc.ExpressionAttributeNames, cc.ExpressionAttributeValues)
			}
			if cc.Key[AttrSK].(*types.AttributeValueMemberS).Value != profileSK {
				t.Errorf("the check is on %v, not the profile", cc.Key)
			}
		})
	}
}
