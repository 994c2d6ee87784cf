// Package store is the API's single DynamoDB table: the only package that
// talks to DynamoDB. Keys are built in keys.go and nowhere else; the table
// itself (pk, sk, TTL attribute expires_at, no secondary index) is in
// table.go. Every SDK failure comes back as apierror.UnavailableErr (a 503);
// expected conditional failures are turned into domain errors first, all
// in one place and one style (conditions.go: a sentinel error per failed
// condition, and the one condition that a user's profile exists).
//
// Every access pattern is a key lookup or a Query of one partition, so no
// request path Scans and the table needs no index. Each read of one
// resource or one page is one request. The patterns, with the DynamoDB
// requests each makes:
//
//	pattern                         key condition / items                                                     requests
//	------------------------------  ------------------------------------------------------------------------  --------------------
//	Reference data
//	organization by code            GetItem ORGCODE#<lower-cased code> / ORGCODE (Demo: ORGCODE#)             1
//	all term versions               Query pk=TERMS                                                            1
//	versions of one term            Query pk=TERMS, begins_with(sk, TERM#<slug>#V#)                           1
//	FAQ topics page                 Query pk=FAQ (ordered and paged in memory)                                1
//	FAQ topic                       GetItem FAQ / TOPIC#<id, 10 digits>                                       1
//	organization's PUF designs      Query pk=ORG#<org id>#PUF                                                 1
//	one PUF design of an org        GetItem ORG#<org id>#PUF / PUF#<id>                                       1
//	apps profile with overlays      BatchGetItem APP#<client> / BASE, GROUP#<g>, CODE#<id>                    1
//	load reference data             BatchWriteItem of puts (full overwrites, so loading is idempotent)        1 per 25 items
//
//	Users
//	signup                          TransactWriteItems (profile, email claim, username claim, acceptances,    1
//	                                confirmation email token); profile and claims put only if new
//	user + accepted terms           Query pk=USER#<id>, begins_with(sk, PROFILE)                              1
//	accept a term                   TransactWriteItems (ConditionCheck profile exists, Put                    1
//	                                PROFILE#ACCEPT#<slug> unless a newer version is accepted)
//	account of an email address     BatchGetItem EMAIL#<canonical email> / CLAIM (holds the user id and the   1 (2 for a claim
//	                                stored address; with the legacy key EMAIL#<lower-cased email> when the  older than that)
//	                                two differ, trusted only for the same canonical address)
//	update profile                  UpdateItem USER#<id> / PROFILE, if it exists                              1
//	change password                 UpdateItem USER#<id> / PROFILE, if password_hash is the one checked       1
//	delete user                     Query pk=USER#<id> (keys only), then TransactWriteItems (profile if       2
//	                                password_hash unchanged, claims if still the user's, rest of the
//	                                partition); items past ~97 first go by BatchWriteItem                     (+1 per 25 past ~97)
//
//	Emailed tokens and email budget
//	issue email token               TransactWriteItems (ConditionCheck profile exists, and unverified for     1
//	                                CONFIRM; Put USER#<id> / ETOKEN#<purpose>)
//	user + email token              BatchGetItem USER#<id> / PROFILE, ETOKEN#<purpose>                        1
//	confirm email, reset password   TransactWriteItems (Delete ETOKEN#<purpose> if hash matches and not       1
//	                                expired; Update PROFILE if it exists)
//	email send budget               UpdateItem MAILTHROTTLE#<sha256 of email> / ROUTE#<purpose>; when no      1; 2 to open a
//	                                window is in progress, a conditional PutItem opens one; when both         window; 3 to refuse
//	                                refuse, a strong GetItem tells a spent budget from this call's own
//	                                earlier write (an answer lost, the write sent again)
//
//	Login and refresh tokens
//	login lookup                    BatchGetItem LOGINFAIL#IP#<ip> / LOGINFAIL, the email (canonical, and     2
//	                                legacy where it differs) or username claim; then BatchGetItem
//	                                USER#<id> / PROFILE, PWCHECKS, PWFAIL#SRC#<ip> (or, for a login naming
//	                                no account, the same counters under LOGINFAIL#NAME#<sha256 of login>)
//	password check counters         BatchGetItem of the three counters (change-password, DELETE)             1
//	reserve a password check        UpdateItem of each counter in turn: the source's on the account, the     3 (+1 or 2 per
//	                                source's, the account's; ADD this check's id to the window's set if      lost race; +1 or 2
//	                                under its cap, or open a new window (conditional on the window seen)     to give back on 429)
//	successful login                TransactWriteItems (ConditionCheck or rehash Update of PROFILE on         1
//	                                password_hash, Put RTOKEN#<jti>, DELETE the check's id from the
//	                                source's two counters)
//	successful password check       UpdateItem DELETE the check's id from the source's two counters          2
//	record refresh token            TransactWriteItems (ConditionCheck profile exists, Put                    1
//	                                USER#<id> / RTOKEN#<jti>)
//	refresh token still valid       GetItem USER#<id> / RTOKEN#<jti>                                          1
//	revoke one refresh token        UpdateItem USER#<id> / RTOKEN#<jti>: mark it revoked, if it exists and    1
//	                                is not revoked (or was by this same call: safe to repeat)
//	revoke all of a user's tokens   Query pk=USER#<id>, begins_with(sk, RTOKEN#) (keys only), then            1 + 1 per 25 tokens
//	                                BatchWriteItem deletes
//
// Writes are safe to repeat, because the SDK repeats a call whose answer
// it did not get, and the call may have committed: transactions carry the
// SDK's ClientRequestToken, and every other conditional write either
// accepts the state it produces itself (ChangePassword, RevokeRefreshToken)
// or recognises its own mark (AllowEmail). Contention and throttling are
// retried, the SDK's and the store's own retries bounded (retry.go), then
// a 503. Reads that decide a security question are strongly consistent;
// reference data is read eventually consistent.
//
// No item holds an empty map or list (see marshal).
//
// Email claims and mail budgets are keyed by the address's canonical form
// (shared/emailaddr); claims made before it, keyed by strings.ToLower, are
// still read (see EmailOwner) and moved by MigrateEmailClaims.
//
// A user's partition (USER#<id>) holds the profile, acceptances, emailed
// tokens, refresh tokens and password check counters, so deleting a user is one
// Query of their partition, and reading a user with their acceptances one
// Query under the PROFILE prefix.
package store
