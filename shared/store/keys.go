package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pufinid/pufinid-api/shared/emailaddr"
)

// Every key of the table is built here, and nowhere else.

// key is an item's primary key.
type key struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`
}

func orgCodeKey(code *string) key {
	c := ""
	if code != nil {
		c = strings.ToLower(*code)
	}
	// The Demo organization (code null) sits at "ORGCODE#": a signup without
	// a code is the same GetItem as one with a code.
	return key{"ORGCODE#" + c, "ORGCODE"}
}

const termsPK = "TERMS"

// termSK orders versions of one slug by number; slugs hold no '#'.
func termSK(slug string, version int) string {
	return fmt.Sprintf("TERM#%s#V#%010d", slug, version)
}

func termSlugPrefix(slug string) string { return "TERM#" + slug + "#V#" }

const faqPK = "FAQ"

func faqTopicKey(id int) key { return key{faqPK, fmt.Sprintf("TOPIC#%010d", id)} }

func pufDesignPK(org string) string { return "ORG#" + org + "#PUF" }

func pufDesignKey(org, id string) key { return key{pufDesignPK(org), "PUF#" + id} }

// A list served in pages (the FAQ topics, an organization's PUF designs)
// is also stored in order, one item per position, beside the items by id:
// a page is the Query of the positions it shows. Every position item
// carries the list's length; listCountKey holds it too, for a page past
// the end.
func listPosKey(pk string, i int) key { return key{pk, fmt.Sprintf("%s%012d", listPosPrefix, i)} }

func listCountKey(pk string) key { return key{pk, "COUNT"} }

const (
	listPosPrefix = "POS#"
	// maxListPos is the last position a key can name.
	maxListPos = 999_999_999_999
)

func appProfilePK(client string) string { return "APP#" + client }

func appProfileBaseKey(client string) key { return key{appProfilePK(client), "BASE"} }

func appProfileGroupKey(client, g string) key { return key{appProfilePK(client), "GROUP#" + g} }

func appProfileCodeKey(client, id string) key { return key{appProfilePK(client), "CODE#" + id} }

func userPK(id string) string { return "USER#" + id }

// The user's partition holds the profile and, under the same "PROFILE"
// prefix, their term acceptances, so one Query reads what GET me needs.
const (
	profileSK        = "PROFILE"
	acceptancePrefix = "PROFILE#ACCEPT#"
)

func userProfileKey(id string) key { return key{userPK(id), profileSK} }

func acceptanceKey(id, slug string) key { return key{userPK(id), acceptancePrefix + slug} }

// Claims make emails and usernames unique, case-insensitively.
// emailClaimKey is the claim on an address, keyed by its canonical form
// (shared/emailaddr: NFKC and full case folding of the local part, an ASCII
// domain lowercased), the one form every lookup, claim and throttle uses.
// A string that is not a valid address (a login typed with an "@") is
// keyed as before the canonical form existed, so an account made under
// looser rules can still log in.
func emailClaimKey(email string) key { return key{"EMAIL#" + emailKeyForm(email), "CLAIM"} }

// legacyEmailClaimKey is where a claim made before the canonical form was
// keyed: strings.ToLower of the address. For an ASCII address it is
// emailClaimKey; emailaddr.LegacyDiffers tells when it is not.
func legacyEmailClaimKey(email string) key { return key{"EMAIL#" + emailaddr.Legacy(email), "CLAIM"} }

func emailKeyForm(email string) string {
	if c, err := emailaddr.Canonical(email); err == nil {
		return c
	}
	return emailaddr.Legacy(email)
}

// An address's email feedback (suppression.go) has its own partition,
// keyed by the canonical form like the address's claim, so a lookup by
// address reads it in the claim's BatchGetItem.
func suppressionPK(address string) string { return "SUPPRESSED#" + emailKeyForm(address) }

func suppressionKey(address string) key { return key{suppressionPK(address), "SUPPRESSED"} }

func softBounceKey(address string) key { return key{suppressionPK(address), "SOFTBOUNCE"} }

func usernameClaimKey(u string) key { return key{"USERNAME#" + strings.ToLower(u), "CLAIM"} }

// Email tokens live in the user's partition, one per purpose, so issuing a
// new one replaces the older one, and deleting the partition deletes them.
const emailTokenPrefix = "ETOKEN#"

func emailTokenKey(userID string, p EmailPurpose) key {
	return key{userPK(userID), emailTokenPrefix + string(p)}
}

// Mail throttles are keyed by a hash of the address's canonical form, so
// the table holds no address of someone who has no account and every
// spelling of one address shares one budget, and by purpose (one throttle
// per email-sending route).
func mailThrottleKey(email string, p EmailPurpose) key {
	sum := sha256.Sum256([]byte(emailKeyForm(email)))
	return key{"MAILTHROTTLE#" + hex.EncodeToString(sum[:]), "ROUTE#" + string(p)}
}

// Refresh tokens are a map in their user's profile (tokens.go). Before
// that, each was an item of the user's partition under this prefix; such
// items are no longer read and go by their TTL. Every other sort key of a
// user's partition sorts before it, so a Query below it (DeleteUser) skips
// them.
const legacyRefreshTokenPrefix = "RTOKEN#"

// Password check counters (passwordcheck.go): an account's live in its
// partition, so they go with the account; a login name that matches no
// account has a partition of its own, so unknown names are throttled like
// known ones and the 429 tells nothing (keyed by a hash, so the table keeps
// no mistyped login, which is sometimes a password); and one per source
// address.
const (
	loginFailSK     = "LOGINFAIL"
	checkAccountSK  = "PWCHECKS"
	checkPairPrefix = "PWFAIL#SRC#"
)

func loginFailNameKey(login string) key {
	form := strings.ToLower(login)
	if strings.Contains(login, "@") {
		form = emailKeyForm(login) // every spelling of an address is one name
	}
	sum := sha256.Sum256([]byte(form))
	return key{"LOGINFAIL#NAME#" + hex.EncodeToString(sum[:]), loginFailSK}
}

func loginFailIPKey(ip string) key { return key{"LOGINFAIL#IP#" + ip, loginFailSK} }
