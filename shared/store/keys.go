package store

import (
	"fmt"
	"strings"
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
func emailClaimKey(email string) key { return key{"EMAIL#" + strings.ToLower(email), "CLAIM"} }

func usernameClaimKey(u string) key { return key{"USERNAME#" + strings.ToLower(u), "CLAIM"} }
