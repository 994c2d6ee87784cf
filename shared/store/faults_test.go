package store_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/dev/apitest"
	"github.com/pufinid/pufinid-api/shared/dev/ddbfault"
	"github.com/pufinid/pufinid-api/shared/dev/fixtures"
	"github.com/pufinid/pufinid-api/shared/pufinid"
	"github.com/pufinid/pufinid-api/shared/store"
)

// step is one store operation of faultScript, with the answer it must give.
type step struct {
	name string
	run  func(ctx context.Context, env *apitest.Env) error
	// want checks a non-503 answer; nil wants success.
	want func(error) bool
	// partial is set for the operations that are more than one write, so
	// that a 503 may leave part of their work done (a client repeats them).
	partial bool
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func isCode(c apierror.Code) func(error) bool {
	return func(err error) bool { return apierror.Is(err, c) }
}

// faultScript is every kind of call the store makes, in an order whose
// answers are known: reference data, a signup and a refused one, email
// tokens used and refused, logins failed and succeeded, refresh tokens,
// the email budget, profile changes, revocation, deletion.
func faultScript(t *testing.T) []step {
	demo, err := fixtures.Demo()
	if err != nil {
		t.Fatal(err)
	}
	u := pufinid.User{ID: "u1", Email: "ada@example.com", Username: new("ada"), PasswordHash: "h1", FirstName: new("Ada")}
	acc := []pufinid.Acceptance{{Slug: "privacy", VersionNumber: 2}}
	var attempt *store.LoginAttempt
	now := func(env *apitest.Env) time.Time { return env.Clock.Now() }
	return []step{
		{name: "load reference data", partial: true, run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.SaveReference(ctx, demo)
		}},
		{name: "signup", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.CreateUser(ctx, u, acc, store.WithEmailToken(store.PurposeConfirm, emailToken("c1", now(env).Add(time.Hour))))
		}},
		{name: "signup with the same email", want: isCode(apierror.Invalid), run: func(ctx context.Context, env *apitest.Env) error {
			dup := u
			dup.ID, dup.Username = "u2", nil
			return env.Store.CreateUser(ctx, dup, nil)
		}},
		{name: "read the account", run: func(ctx context.Context, env *apitest.Env) error {
			a, err := env.Store.Account(ctx, u.ID)
			if err == nil && len(a.Acceptances) != 1 {
				return fmt.Errorf("acceptances %v", a.Acceptances)
			}
			return err
		}},
		{name: "read terms and FAQ", run: func(ctx context.Context, env *apitest.Env) error {
			terms, err := env.Store.Terms(ctx)
			if err != nil {
				return err
			}
			topics, err := env.Store.FAQTopics(ctx)
			if err == nil && (len(terms) != 4 || len(topics) != 4) {
				return fmt.Errorf("%d terms, %d topics", len(terms), len(topics))
			}
			return err
		}},
		{name: "accept a term", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.AcceptTerm(ctx, u.ID, pufinid.Acceptance{Slug: "terms-of-service", VersionNumber: 1})
		}},
		{name: "confirm with a wrong token", want: is(store.ErrEmailTokenInvalid), run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ConfirmEmail(ctx, u.ID, "wrong", now(env))
		}},
		{name: "confirm", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ConfirmEmail(ctx, u.ID, "c1", now(env))
		}},
		{name: "confirm again with the used token", want: is(store.ErrEmailTokenInvalid), run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ConfirmEmail(ctx, u.ID, "c1", now(env))
		}},
		{name: "email budget: the first email", run: func(ctx context.Context, env *apitest.Env) error {
			ok, err := env.Store.AllowEmail(ctx, u.Email, store.PurposeReset, now(env))
			if err == nil && !ok {
				return errors.New("refused")
			}
			return err
		}},
		{name: "email budget: one too soon", run: func(ctx context.Context, env *apitest.Env) error {
			ok, err := env.Store.AllowEmail(ctx, u.Email, store.PurposeReset, now(env))
			if err == nil && ok {
				return errors.New("allowed")
			}
			return err
		}},
		{name: "email budget: after the gap", run: func(ctx context.Context, env *apitest.Env) error {
			ok, err := env.Store.AllowEmail(ctx, u.Email, store.PurposeReset, now(env).Add(2*store.MailGap))
			if err == nil && !ok {
				return errors.New("refused")
			}
			return err
		}},
		{name: "issue a reset token", run: func(ctx context.Context, env *apitest.Env) error {
			err := env.Store.IssueEmailToken(ctx, u.ID, store.PurposeReset, emailToken("r1", now(env).Add(time.Hour)))
			if errors.Is(err, store.ErrNotIssued) {
				return errors.New("not issued")
			}
			return err
		}},
		{name: "read the user and token", run: func(ctx context.Context, env *apitest.Env) error {
			_, tok, err := env.Store.UserAndEmailToken(ctx, u.ID, store.PurposeReset)
			if err == nil && tok.Hash != "r1" {
				return fmt.Errorf("token %+v", tok)
			}
			return err
		}},
		{name: "reset the password", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ResetPassword(ctx, u.ID, "r1", "h2", now(env))
		}},
		{name: "look a login up", run: func(ctx context.Context, env *apitest.Env) error {
			var err error
			attempt, err = env.Store.LoginLookup(ctx, "ada", "192.0.2.1")
			if err == nil && (!attempt.Found || attempt.User.PasswordHash != "h2") {
				return fmt.Errorf("attempt %+v", attempt)
			}
			return err
		}},
		// Three conditional writes, one per counter; a 503 after the first
		// gives back what was taken (a window left open with no reservation,
		// or, when the give-back fails too, a reservation that stands as a
		// failure: the safe side). Repeated, it takes one check.
		{name: "reserve a password check", partial: true, run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.Reserve(ctx, attempt.Check())
		}},
		{name: "look the login up again", run: func(ctx context.Context, env *apitest.Env) error {
			var err error
			attempt, err = env.Store.LoginLookup(ctx, "ada", "192.0.2.1")
			return err
		}},
		{name: "a successful login", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.LoginSucceeded(ctx, attempt, refreshToken(env, u.ID, "jti-1", time.Hour), "")
		}},
		{name: "record a second refresh token", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, "jti-2", time.Hour))
		}},
		{name: "revoke it", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.RevokeRefreshToken(ctx, u.ID, "jti-2")
		}},
		{name: "revoke it again", want: isCode(apierror.NotFound), run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.RevokeRefreshToken(ctx, u.ID, "jti-2")
		}},
		{name: "the first refresh token is live", run: func(ctx context.Context, env *apitest.Env) error {
			_, err := env.Store.RefreshToken(ctx, u.ID, "jti-1")
			return err
		}},
		{name: "the revoked one is not", want: isCode(apierror.NotFound), run: func(ctx context.Context, env *apitest.Env) error {
			_, err := env.Store.RefreshToken(ctx, u.ID, "jti-2")
			return err
		}},
		{name: "change the profile", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.UpdateProfile(ctx, u.ID, map[string]*string{"phone": new("123"), "age": nil})
		}},
		{name: "change the password", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ChangePassword(ctx, u.ID, "h2", "h3")
		}},
		{name: "change it from a stale hash", want: is(store.ErrUserChanged), run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.ChangePassword(ctx, u.ID, "h2", "h4")
		}},
		{name: "the password change revoked the first refresh token", want: isCode(apierror.NotFound), run: func(ctx context.Context, env *apitest.Env) error {
			_, err := env.Store.RefreshToken(ctx, u.ID, "jti-1")
			return err
		}},
		{name: "record a refresh token after the change", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, "jti-3", time.Hour))
		}},
		{name: "and another, into the map", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, "jti-4", time.Hour))
		}},
		{name: "a second user", run: func(ctx context.Context, env *apitest.Env) error {
			return env.Store.CreateUser(ctx, pufinid.User{ID: "u3", Email: "bob@example.com", PasswordHash: "hb"}, acc)
		}},
		{name: "delete the first user", run: func(ctx context.Context, env *apitest.Env) error {
			uu := u
			uu.PasswordHash = "h3"
			return env.Store.DeleteUser(ctx, uu)
		}},
		{name: "the deleted user's email is free", run: func(ctx context.Context, env *apitest.Env) error {
			_, found, err := env.Store.EmailOwner(ctx, u.Email)
			if err == nil && found {
				return errors.New("still claimed")
			}
			return err
		}},
	}
}

// randomMarks are the values the store writes that differ from run to run
// (ids it makes to recognise its own repeated writes); revokeIDs are the
// negative numbers that mark a refresh token revoked, the only negative
// numbers of the table; reservationIDs are the password check counters'
// sets of such ids, compared by their size.
var (
	randomMarks    = regexp.MustCompile(`"(last_call)":"[^"]*"`)
	revokeIDs      = regexp.MustCompile(`:-[0-9.e+]+`)
	reservationIDs = regexp.MustCompile(`"ids":\[[^\]]*\]`)
)

func normalized(t *testing.T, env *apitest.Env) []string {
	t.Helper()
	items := mustItems(t, env.Inspect)
	for i, it := range items {
		items[i] = randomMarks.ReplaceAllString(it, `"$1":"*"`)
		items[i] = revokeIDs.ReplaceAllString(items[i], ":-1")
		items[i] = reservationIDs.ReplaceAllStringFunc(items[i], func(ids string) string {
			return fmt.Sprintf(`"ids":%d`, strings.Count(ids, `"`)/2-1)
		})
	}
	slices.Sort(items)
	return items
}

// runScript runs every step of script on env: a 503 must change nothing
// (or, for a partial step, be finished by repeating it), and is repeated
// as a client would; any other answer must be the step's.
func runScript(t *testing.T, env *apitest.Env, script []step) (unavailable int) {
	t.Helper()
	ctx := context.Background()
	for _, s := range script {
		for try := 0; ; try++ {
			before := normalized(t, env)
			err := s.run(ctx, env)
			if apierror.Is(err, apierror.Unavailable) {
				unavailable++
				if try == 20 {
					t.Fatalf("%s: still unavailable after %d tries: %v", s.name, try, err)
				}
				if after := normalized(t, env); !s.partial && !slices.Equal(before, after) {
					t.Fatalf("%s: a 503 (%v) changed the table:\nbefore\n%s\nafter\n%s", s.name, err,
						strings.Join(before, "\n"), strings.Join(after, "\n"))
				}
				continue
			}
			if s.want == nil && err != nil || s.want != nil && !s.want(err) {
				t.Fatalf("%s: %v", s.name, err)
			}
			break
		}
	}
	return unavailable
}

// Every store operation gives the answer it gives without faults, and
// leaves the table as it would, whatever DynamoDB's transient answers: the
// store and the SDK retry them, a 503 happens only once retries run out
// and then has written nothing, and the repeat a client makes after a 503
// gets the right answer.
func TestStoreOperationsRideOutTransientFaults(t *testing.T) {
	t.Parallel()
	clean := apitest.New(t)
	if clean.Faults != nil {
		t.Skip("compares with a run without faults")
	}
	if n := runScript(t, clean, faultScript(t)); n != 0 {
		t.Fatalf("%d answers 503 without faults", n)
	}
	want := normalized(t, clean)

	for i, kind := range ddbfault.Kinds {
		for j, tc := range []struct {
			name string
			rate float64
			max  int
		}{
			// Retries succeed: at most 2 faults a call, fewer than the
			// SDK's 5 attempts.
			{"retried", 0.5, 2},
			// No cap: retries run out now and then, and the script repeats
			// the step as a client would.
			{"unbounded", 0.7, 0},
		} {
			if kind == ddbfault.LostAnswer && tc.max == 0 {
				// A write whose every answer is lost has committed, though
				// its caller got a 503: on DynamoDB too, so that 503 is not
				// "nothing written". Bounded, it is covered above.
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", kind, tc.name), func(t *testing.T) {
				t.Parallel()
				env := apitest.NewFaulty(t, ddbfault.Spec{Rate: tc.rate, MaxPerCall: tc.max, Seed: uint64(100*i + j), Kinds: []ddbfault.Kind{kind}})
				unavailable := runScript(t, env, faultScript(t))
				if got := normalized(t, env); !slices.Equal(got, want) {
					t.Fatalf("table differs from the run without faults:\ngot\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				st := env.Faults.Stats()
				if st.Injected[kind] == 0 {
					t.Fatalf("no %s fault was injected: %+v", kind, st)
				}
				t.Logf("%s: %d calls, %d attempts, %d faults injected, %d answers 503", kind, st.Calls, st.Attempts, st.Total(), unavailable)
			})
		}
	}
}

// When DynamoDB keeps answering an error, every operation ends in a 503
// (after its retries) and writes nothing.
func TestPersistentFaultsAnswerUnavailableAndWriteNothing(t *testing.T) {
	t.Parallel()
	for _, kind := range []ddbfault.Kind{ddbfault.Conflict, ddbfault.Throttling, ddbfault.Provisioned, ddbfault.Internal} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env := apitest.NewFaulty(t, ddbfault.Spec{Rate: 1, Seed: 1, Kinds: []ddbfault.Kind{kind}})
			u := pufinid.User{ID: "u1", Email: "ada@example.com", PasswordHash: "h1"}
			// The user exists (written past the faults), so that each write
			// below would change something.
			if err := env.Inspect.CreateUser(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
			before := normalized(t, env)
			writes := map[string]error{
				"signup":        env.Store.CreateUser(ctx, pufinid.User{ID: "u2", Email: "bob@example.com"}, nil),
				"accept":        env.Store.AcceptTerm(ctx, u.ID, pufinid.Acceptance{Slug: "privacy", VersionNumber: 1}),
				"refresh token": env.Store.CreateRefreshToken(ctx, refreshToken(env, u.ID, "j", time.Hour)),
				"profile":       env.Store.UpdateProfile(ctx, u.ID, map[string]*string{"phone": new("1")}),
				"password":      env.Store.ChangePassword(ctx, u.ID, "h1", "h2"),
				"delete":        env.Store.DeleteUser(ctx, u),
			}
			for name, err := range writes {
				if !apierror.Is(err, apierror.Unavailable) {
					t.Errorf("%s: %v, want unavailable", name, err)
				}
			}
			if after := normalized(t, env); !slices.Equal(before, after) {
				t.Fatalf("the table changed:\n%s", strings.Join(after, "\n"))
			}
		})
	}
}
