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
//	Reference data (snapshot.go: every key below is read under REF#<version>#, the version current)
//	current version                 GetItem REF / CURRENT, eventually consistent; then trusted for         0 warm, 1 per instance
//	                                ReferenceTTL (a minute) by the instance                               per minute
//	organization by code            GetItem ORGCODE#<lower-cased code> / ORGCODE (Demo: ORGCODE#)             1
//	all term versions               Query pk=TERMS, strongly consistent; then kept by the instance while   0 warm, 1 per instance
//	                                its pointer names the same version (store.versionTerms)               and version
//	versions of one term            Query pk=TERMS, begins_with(sk, TERM#<slug>#V#)                           1
//	FAQ topics page                 Query pk=FAQ, sk BETWEEN POS#<offset> AND POS#<offset+limit-1>            1 (2 past the end:
//	                                (12 digits; each position item holds its topic and list_count)        GetItem FAQ / COUNT)
//	FAQ topic                       GetItem FAQ / TOPIC#<id, 10 digits>                                       1
//	organization's PUF designs page Query pk=ORG#<org id>#PUF, sk BETWEEN POS#<offset> AND POS#<last>         1 (2 past the end:
//	                                (in name, id order)                                                   GetItem ... / COUNT)
//	one PUF design of an org        GetItem ORG#<org id>#PUF / PUF#<id>                                       1
//	apps profile with overlays      BatchGetItem APP#<client> / BASE, GROUP#<g>, CODE#<id>, eventually        1
//	                                consistent
//	load reference data             GetItem of the pointer; BatchWriteItem of the new version's items and     3 + 1 per 25 items
//	                                its manifest REF / VERSION#<v>; conditional PutItem of the pointer
//	                                (names the version read, or this one: a lost answer repeats safely);
//	                                Query pk=REF, begins_with(sk, VERSION#), then for each version retired
//	                                more than 10 minutes ago a Query (keys only) of each of its partitions
//	                                and BatchWriteItem deletes
//
//	A page reads only its own items: at limit 20 and ~300-byte designs, about 6 KB, 1 read unit
//	eventually consistent, whatever the length of the list or the offset; the whole partition, as
//	before, was ~375 units at 10,000 designs. A load writes each design and topic twice (by id and by
//	position): 2 write units per design, on a load only.
//
//	Users
//	signup                          TransactWriteItems (profile, email claim, username claim, acceptances,    1
//	                                confirmation email token); profile and claims put only if new
//	user + accepted terms           Query pk=USER#<id>, begins_with(sk, PROFILE)                              1
//	caller's organization (PUF      GetItem USER#<id> / PROFILE, strongly consistent, projected; when the     1
//	designs)                        instance's reference pointer is due, BatchGetItem of it and REF /
//	                                CURRENT instead, so a cold page is 2 requests in sequence, not 3;
//	                                with the organization in the token, run alongside the page's read
//	accept a term                   TransactWriteItems (ConditionCheck profile exists, Put                    1
//	                                PROFILE#ACCEPT#<slug> unless a newer version is accepted)
//	account of an email address     BatchGetItem EMAIL#<canonical email> / CLAIM (holds the user id, the      1 (2 for a claim
//	                                stored address and the organization's name and theme for the emails;   older than that)
//	                                with the legacy key EMAIL#<lower-cased email> when the two differ,
//	                                trusted only for the same canonical address), and the address's
//	                                suppression, SUPPRESSED#<canonical email> / SUPPRESSED
//	update profile                  UpdateItem USER#<id> / PROFILE, if it exists                              1
//	change password                 UpdateItem USER#<id> / PROFILE: SET password_hash, REMOVE                  1, whatever the
//	                                refresh_tokens (every session ends), if password_hash is the one checked  refresh tokens
//	delete user                     Query pk=USER#<id>, sk < RTOKEN# (keys only), then TransactWriteItems     2, whatever the
//	                                (profile, and with it the refresh tokens, if password_hash unchanged;     refresh tokens
//	                                claims if still the user's; rest of the partition); items past ~97 first  (+1 per 25 past ~97)
//	                                go by BatchWriteItem
//
//	Emailed tokens and email budget
//	issue email token               TransactWriteItems (ConditionCheck profile exists, and unverified for     1
//	                                CONFIRM; Put USER#<id> / ETOKEN#<purpose>)
//	user + email token              BatchGetItem USER#<id> / PROFILE, ETOKEN#<purpose>                        1
//	confirm email, reset password   TransactWriteItems (Delete ETOKEN#<purpose> if hash matches and not       1
//	                                expired; Update PROFILE if it exists: a reset also sets password_hash
//	                                and REMOVEs refresh_tokens, every session)
//	email send budget               UpdateItem MAILTHROTTLE#<sha256 of email> / ROUTE#<purpose>; when no      1; 2 to open a
//	                                window is in progress, a conditional PutItem opens one; when both         window; 3 to refuse
//	                                refuse, a strong GetItem tells a spent budget from this call's own
//	                                earlier write (an answer lost, the write sent again)
//
//	Email feedback (suppression.go: what SES reports, through the email feedback function)
//	suppress an address             UpdateItem SUPPRESSED#<canonical email> / SUPPRESSED: reasons, first and   1
//	                                last SES time, count; unless its last feedback id is this event's
//	count a soft bounce             UpdateItem SUPPRESSED#<canonical email> / SOFTBOUNCE, TTL 30 days after    1
//	                                the last; unless its last feedback id is this event's
//	address suppressed (signup)     GetItem SUPPRESSED#<canonical email> / SUPPRESSED, eventually consistent   1 (the email routes: 0,
//	                                                                                                          in the claim's batch)
//
//	Signing keys (jwks.go)
//	public key set                  GetItem KEYS / JWKS, eventually consistent; then trusted for           0 warm, 1 per instance
//	                                token.DefaultCacheTTL (5 minutes) by the instance; when the            per 5 minutes
//	                                reference pointer is due too, BatchGetItem of it and REF / CURRENT
//	publish the public key set      PutItem KEYS / JWKS (cmd/keys, the local server)                          1
//
//	A cold instance starts its first read during init (lambdafn.WarmUp, Store.WarmUp and
//	token.Issuer.WarmUp): the public key set with the pointer for the functions that verify tokens,
//	the pointer for FAQ and apps profiles; the users and terms functions then read the terms
//	(Store.WarmUpTerms), as soon as the pointer names their version. Its first request joins those
//	reads instead of making its own (the key set's cache shares its read; the pointer's readers
//	take turns, trustedOrClaim, all but the PUF designs' profile-and-pointer batch, which runs
//	after the key set anyway; callers missing the terms share one Query, termsFill), so a warm-up
//	adds no request, only moves them earlier. It costs more only when an instance's first
//	invocation needs less (a signup does not verify a token; DELETE, confirm-email, resend and
//	reset need no terms; a rotation step of the token function reads the key set but not the
//	pointer): at most the warm-up's own eventually consistent BatchGetItem of two small items and,
//	for users and terms, a strongly consistent Query of the terms (1 read unit per 4 KB of
//	them), per cold start, or a read
//	again if the first request comes after the TTLs above (provisioned concurrency: an environment
//	frozen after init with the warm-up's read in flight gets that read's failure at its 1 s bound,
//	and its request reads again).
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
//	successful login                TransactWriteItems (Update of PROFILE, on password_hash and on the map    1 (+1 per parallel
//	                                refresh_tokens as the lookup read it: add the jti, REMOVE the dead ones   login that changed
//	                                and the oldest past 49, rehash if due; DELETE the check's id from the     the map first: the
//	                                source's two counters)                                                    failure's ALL_OLD)
//	successful password check       UpdateItem DELETE the check's id from the source's two counters          2
//	record refresh token            UpdateItem USER#<id> / PROFILE: add the jti if the map exists and has     1 (2 without a map
//	(tests and tools)               room; else computed as a login's, from the failure's ALL_OLD answer       yet, or a full one)
//	refresh token still valid       GetItem USER#<id> / PROFILE: the jti in refresh_tokens, unexpired         1
//	revoke one refresh token        UpdateItem USER#<id> / PROFILE: SET refresh_tokens.<jti> to this          1
//	                                revoke's negative id, if live (a repeat finds its own id: safe)
//	revoke every refresh token      part of the write that sets the password (change, reset) or deletes the   0 more
//	                                profile: refresh_tokens goes, whatever it holds
//
//	A user's live refresh tokens are the map refresh_tokens of the profile, jti → expiry (tokens.go),
//	at most MaxRefreshTokens (50): a login past it revokes the one that expires first, and parallel
//	logins cannot exceed it (each is conditional on the map's size and on the entries it removes).
//	At ~30 bytes an entry, a profile (~0.7 KB, at most ~1.2 KB) stays under ~2.8 KB with 50. Units
//	(on-demand: request units), after, and before the map: refresh and verify read 1 strongly
//	consistent unit (before: 1, of the token item); a login's transaction writes 2 units per KB of
//	the profile, 2 to 6 (before: 2 for a ConditionCheck of the profile and 2 for the token item);
//	a revoke writes 1 to 3 (before: 1); a password change writes 1 to 3 and a reset's transaction
//	2 + 2 to 6, whatever the tokens (before: the same for the password, then a keys-only Query of
//	every token item, about 1 read unit per 25, and 1 write unit per token deleted: 5,000 on one
//	partition for 5,000 tokens); a delete reads only the partition's items that are not tokens and
//	deletes none (before: read and deleted every token item). Every other write of the profile
//	(profile update, email confirmation) pays for the map too, 1 to 3 units, doubled in a
//	transaction, as does a transaction's ConditionCheck of it (accept a term, issue an email
//	token: 2 to 6); GET me's Query stays 1 read unit unless acceptances take it past 4 KB.
//
// Writes are safe to repeat, because the SDK repeats a call whose answer
// it did not get, and the call may have committed: transactions carry the
// SDK's ClientRequestToken, and every other conditional write either
// accepts the state it produces itself (ChangePassword, CreateRefreshToken,
// from the failed condition's ALL_OLD answer) or recognises its own mark
// (AllowEmail, RevokeRefreshToken). Contention and throttling are
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
// A user's partition (USER#<id>) holds the profile (with the user's refresh
// tokens), acceptances, emailed tokens and password check counters, so
// deleting a user is one Query of their partition, and reading a user with
// their acceptances one Query under the PROFILE prefix.
//
// Refresh tokens issued before the map, items RTOKEN#<jti> of the user's
// partition, are refused: once this version is deployed their holders log
// in again, once. The items keep their TTL attribute (the token's expiry),
// so DynamoDB deletes them within the longest refresh lifetime (plus
// TTL's lag); no request reads, writes or deletes them meanwhile (the
// delete's Query stops below RTOKEN#).
package store
