package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

// The store writes a profile field under its Name (UpdateProfile's update
// expression) and reads the profile back through pufinid.User's dynamodbav
// tags: the two must agree, field by field, or a PATCH would write an
// attribute no read ever sees.
func TestProfileFieldNamesAreTheUserItemsTags(t *testing.T) {
	t.Parallel()
	tags := map[uintptr]string{} // offset in User -> dynamodbav name
	ut := reflect.TypeFor[pufinid.User]()
	for i := range ut.NumField() {
		name, _, _ := strings.Cut(ut.Field(i).Tag.Get("dynamodbav"), ",")
		tags[ut.Field(i).Offset] = name
	}
	seen := map[string]bool{}
	for _, f := range pufinid.ProfileFields {
		t.Run(f.Name, func(t *testing.T) {
			var u pufinid.User
			offset := reflect.ValueOf(f.Of(&u)).Pointer() - reflect.ValueOf(&u).Pointer()
			if tag := tags[offset]; tag != f.Name {
				t.Errorf("Of returns the User field tagged dynamodbav:%q, want %q", tag, f.Name)
			}
			// The same through the marshaller the store uses.
			*f.Of(&u) = new("value of " + f.Name)
			it, err := attributevalue.MarshalMap(u)
			if err != nil {
				t.Fatal(err)
			}
			if s, ok := it[f.Name].(*types.AttributeValueMemberS); !ok || s.Value != "value of "+f.Name {
				t.Errorf("the item holds %#v at %q, want the field's value", it[f.Name], f.Name)
			}
		})
		if seen[f.Name] {
			t.Errorf("%q is listed twice", f.Name)
		}
		seen[f.Name] = true
	}
}

// Every profile field UpdateProfile sets is the one the profile then reads.
func TestUpdateProfileSetsEveryProfileField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	mustCreateUser(t, env, "u1", "a@example.com", "alice", "h1")
	set := map[string]*string{}
	for _, f := range pufinid.ProfileFields {
		set[f.Name] = new("new " + f.Name)
	}
	if err := env.Store.UpdateProfile(ctx, "u1", set); err != nil {
		t.Fatal(err)
	}
	acct, err := env.Store.Account(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pufinid.ProfileFields {
		if got := *f.Of(&acct.User); got == nil || *got != "new "+f.Name {
			t.Errorf("%s reads back as %v, want %q", f.Name, got, "new "+f.Name)
		}
	}
	if err := env.Store.UpdateProfile(ctx, "u1", map[string]*string{"password_hash": new("x")}); err == nil {
		t.Error("UpdateProfile set password_hash, which is no profile field")
	}
}
