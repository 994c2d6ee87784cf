package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pufinid/pufinid-api/shared/dev/ddbmeter"
	"github.com/pufinid/pufinid-api/shared/pufinid"
)

func TestDoomedEntries(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	full := map[string]int64{}
	for i := range MaxRefreshTokens {
		full[fmt.Sprintf("j%02d", i)] = now.Unix() + 100 + int64(i)
	}
	with := func(m map[string]int64, kv ...any) map[string]int64 {
		out := map[string]int64{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = int64(kv[i+1].(int))
		}
		return out
	}
	tests := []struct {
		name   string
		tokens map[string]int64
		want   []string
	}{
		{"empty", map[string]int64{}, nil},
		{"room left", map[string]int64{"a": now.Unix() + 5}, nil},
		{"expired and revoked go", map[string]int64{"a": now.Unix(), "b": -7, "c": now.Unix() + 1}, []string{"a", "b"}},
		{"full: the one that expires first", full, []string{"j00"}},
		{"full with a tie: then by jti", with(full, "j00", int(now.Unix())+101), []string{"j00"}},
		{"full and dead: only the dead", with(full, "j07", -1), []string{"j07"}},
		{"over full (written by hand): back to 49", with(full, "x1", int(now.Unix())+99, "x2", int(now.Unix())+98), []string{"x2", "x1", "j00"}},
	}
	for _, tc := range tests {
		if got := doomed(tc.tokens, "new", now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The sort keys of a user's partition other than the legacy refresh
// tokens' sort before them, so DeleteUser's Query below the prefix finds
// them all.
func TestUserItemsSortBeforeLegacyRefreshTokens(t *testing.T) {
	ks := []key{userProfileKey("u"), acceptanceKey("u", "zzz"), emailTokenKey("u", PurposeConfirm), emailTokenKey("u", PurposeReset),
		{PK: userPK("u"), SK: checkAccountSK}, {PK: userPK("u"), SK: checkPairPrefix + "255.255.255.255"}}
	for _, k := range ks {
		if k.SK >= legacyRefreshTokenPrefix {
			t.Errorf("%s sorts after %s", k.SK, legacyRefreshTokenPrefix)
		}
	}
}

// A profile with every field at its longest and a full map of refresh
// tokens (the worst case: revoke ids, 16 digits) stays under the 4 KB of
// one strongly consistent read unit, so refresh, verify and GET me read
// one unit each.
func TestAFullProfileFitsOneReadUnit(t *testing.T) {
	long := func(n int) *string { s := strings.Repeat("x", n); return &s }
	u := pufinid.User{ID: "0b7c1d2e-0000-4000-8000-000000000001", FirstName: long(100), LastName: long(100), Username: long(100),
		Email: *long(254), Phone: long(20), Postcode: long(20), Country: long(20), Gender: long(20), Age: long(20),
		OrganizationID: "0b7c1d2e-0000-4000-8000-000000000002", OrganizationName: *long(100),
		Theme:               json.RawMessage(`{"primary":"#123456","secondary":"#abcdef","logo":"https://static.example/logo.png"}`),
		AccessTokenLifetime: 300, RefreshTokenLifetime: 86400, PasswordHash: *long(97), CreatedAt: time.Now(), IsVerified: true}
	it, err := marshal(userProfileKey(u.ID), u)
	if err != nil {
		t.Fatal(err)
	}
	bare := ddbmeter.ItemSize(it)
	tokens := map[string]types.AttributeValue{}
	for i := range MaxRefreshTokens {
		tokens[fmt.Sprintf("%022d", i)] = number(-(1<<52 - int64(i)))
	}
	it[refreshTokensAttr] = &types.AttributeValueMemberM{Value: tokens}
	full := ddbmeter.ItemSize(it)
	t.Logf("profile: %d bytes bare, %d with %d refresh tokens", bare, full, MaxRefreshTokens)
	if full > 3500 {
		t.Errorf("a full profile is %d bytes: too close to one read unit (4096)", full)
	}
}
