package secretkeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pufinid/pufinid-api/shared/token"
)

// Automatic rotation: Secrets Manager invokes the secret's rotation
// function (the token function itself, the only one allowed to read the
// private keys) on the secret's schedule with each of its four steps in
// turn, for one new version of the secret (ClientRequestToken):
//
//	createSecret  the next set, from the current one, as version AWSPENDING
//	setSecret     the pending set's public keys published in the table
//	testSecret    the pending set signs, and the published keys verify it
//	finishSecret  AWSCURRENT moved to the pending version
//
// One rotation is one step of the procedure cmd/keys runs by hand
// (README, "Signing keys"): it retires previous keys that stopped signing
// RetireAfter ago, promotes the next key (published at the rotation
// before, long past every verifier's cache) and publishes a new next key.
// So a key signs from the rotation after the one that added it, and no
// token is refused before it expires. The first rotation, of a new
// stack's empty set, makes its first key, current at once. Every step can
// be repeated: Secrets Manager retries a failed one.

// RotationEvent is what Secrets Manager invokes the rotation function with.
type RotationEvent struct {
	SecretID           string `json:"SecretId"`
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// RotationAPI is the part of Secrets Manager a rotation calls.
type RotationAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// PublicKeys is where the public set goes: the table (store.Store).
type PublicKeys interface {
	PublishPublicKeys(ctx context.Context, jwks []byte) error
	// PublishedPublicKeys reads the set as last written (strongly
	// consistent): testSecret checks what setSecret has just written.
	PublishedPublicKeys(ctx context.Context) ([]byte, bool, error)
}

// DefaultRetireAfter is how long after it stopped signing a previous key
// is retired: longer than the longest refresh lifetime an organization may
// set (pufinid.MaxRefresh, 29 days; a day by default), as a test holds.
const DefaultRetireAfter = 30 * 24 * time.Hour

// Rotation rotates the signing keys' secret.
type Rotation struct {
	Secrets     RotationAPI
	Keys        PublicKeys
	Now         func() time.Time
	Rand        io.Reader
	RetireAfter time.Duration
	// SecretID is the secret this function holds: a rotation event for
	// another is refused.
	SecretID string

	once sync.Once
	open func() (RotationAPI, error) // builds Secrets, if nil
}

// NewRotation is the rotation of the secret getenv names, publishing to
// keys. It makes no network call, and builds its client on the first
// rotation: most instances serve tokens and never rotate.
func NewRotation(getenv func(string) string, o Options, keys PublicKeys, rand io.Reader) (*Rotation, error) {
	id := getenv(EnvSecret)
	if id == "" {
		return nil, fmt.Errorf("secretkeys: %s is not set", EnvSecret)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	r := &Rotation{Keys: keys, Now: now, Rand: rand, RetireAfter: DefaultRetireAfter, SecretID: id}
	r.open = func() (RotationAPI, error) {
		client, _, err := newClient(getenv, o)
		return client, err
	}
	return r, nil
}

// The stages Secrets Manager's rotation moves.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
)

// ErrNotRotating is an event for a version that is not being rotated in.
var ErrNotRotating = errors.New("secretkeys: the version is not pending rotation")

// Rotate runs one step of a rotation.
func (r *Rotation) Rotate(ctx context.Context, ev RotationEvent) error {
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return errors.New("secretkeys: a rotation event names a secret and a version")
	}
	var openErr error
	r.once.Do(func() {
		if r.Secrets == nil && r.open != nil {
			r.Secrets, openErr = r.open()
		}
	})
	if openErr != nil {
		return openErr
	}
	desc, err := r.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return fmt.Errorf("secretkeys: describe: %w", err)
	}
	if r.SecretID != "" && r.SecretID != aws.ToString(desc.ARN) && r.SecretID != aws.ToString(desc.Name) {
		return fmt.Errorf("secretkeys: %s is not this function's secret", ev.SecretID)
	}
	stages, ok := desc.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("%w: %s has no version %s", ErrNotRotating, ev.SecretID, ev.ClientRequestToken)
	}
	if has(stages, stageCurrent) {
		return nil // rotated in already: a repeated step
	}
	if !has(stages, stagePending) {
		return fmt.Errorf("%w: version %s is %v", ErrNotRotating, ev.ClientRequestToken, stages)
	}
	switch ev.Step {
	case "createSecret":
		return r.create(ctx, ev)
	case "setSecret":
		set, err := r.pending(ctx, ev)
		if err != nil {
			return err
		}
		jwks, err := set.JWKS()
		if err != nil {
			return err
		}
		return r.Keys.PublishPublicKeys(ctx, jwks)
	case "testSecret":
		return r.test(ctx, ev)
	case "finishSecret":
		current := ""
		for v, st := range desc.VersionIdsToStages {
			if has(st, stageCurrent) {
				current = v
			}
		}
		_, err := r.Secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(ev.SecretID), VersionStage: aws.String(stageCurrent),
			MoveToVersionId: aws.String(ev.ClientRequestToken), RemoveFromVersionId: aws.String(current),
		})
		return err
	}
	return fmt.Errorf("secretkeys: unknown rotation step %q", ev.Step)
}

// create puts the next set as the pending version, unless it is there.
func (r *Rotation) create(ctx context.Context, ev RotationEvent) error {
	if _, err := r.pending(ctx, ev); err == nil {
		return nil
	} else if !notFound(err) {
		return err
	}
	// The current set, as it is now: not through a cache (a rotation that
	// worked from a stale set could drop a key that signs).
	set, err := r.read(ctx, ev.SecretID, aws.String(stageCurrent), nil)
	if err != nil {
		return err
	}
	next, err := r.Next(set)
	if err != nil {
		return err
	}
	doc, err := next.MarshalPrivate()
	if err != nil {
		return err
	}
	_, err = r.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(ev.SecretID), ClientRequestToken: aws.String(ev.ClientRequestToken),
		SecretString: aws.String(string(doc)), VersionStages: []string{stagePending},
	})
	return err
}

// Next is the set one rotation after set: previous keys retired, the next
// key promoted (when it has been published long enough), a new next key.
// An empty set gets its first key, current at once.
func (r *Rotation) Next(set token.KeySet) (token.KeySet, error) {
	now := r.Now()
	if len(set.Keys) == 0 {
		return token.FirstKeySet(r.Rand, now)
	}
	set, _ = set.Retire(now, r.RetireAfter)
	if promoted, err := set.Promote(now, token.DefaultCacheTTL); err == nil {
		set = promoted
	} else if !errors.Is(err, token.ErrNoNext) && !errors.Is(err, token.ErrTooSoon) {
		return token.KeySet{}, err
	}
	if _, pending := inState(set, token.KeyNext); pending {
		return set, nil // promoted too soon after the last rotation: it stays next
	}
	k, err := token.NewKey(r.Rand, now)
	if err != nil {
		return token.KeySet{}, err
	}
	return set.AddNext(k)
}

func inState(s token.KeySet, st token.KeyState) (token.Key, bool) {
	for _, k := range s.Keys {
		if k.State == st {
			return k, true
		}
	}
	return token.Key{}, false
}

// test checks the pending set: its current key signs a token the
// published public set verifies.
func (r *Rotation) test(ctx context.Context, ev RotationEvent) error {
	set, err := r.pending(ctx, ev)
	if err != nil {
		return err
	}
	doc, found, err := r.Keys.PublishedPublicKeys(ctx)
	if err != nil {
		return err
	}
	if !found {
		return errors.New("secretkeys: no public key set is published")
	}
	public, err := token.ParseKeySet(doc)
	if err != nil {
		return err
	}
	now := r.Now()
	probe := token.NewIssuer(token.StaticKeys(set), func() time.Time { return now })
	tok, _, err := probe.Mint(ctx, token.Access, "rotation-test", "", time.Minute)
	if err != nil {
		return fmt.Errorf("secretkeys: the pending set does not sign: %w", err)
	}
	verifier := token.NewIssuer(token.StaticKeys(public), func() time.Time { return now })
	if _, err := verifier.Parse(ctx, tok, token.Access); err != nil {
		return fmt.Errorf("secretkeys: the published keys do not verify the pending set's token: %w", err)
	}
	return nil
}

func (r *Rotation) pending(ctx context.Context, ev RotationEvent) (token.KeySet, error) {
	return r.read(ctx, ev.SecretID, aws.String(stagePending), aws.String(ev.ClientRequestToken))
}

func (r *Rotation) read(ctx context.Context, id string, stage, version *string) (token.KeySet, error) {
	out, err := r.Secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: stage, VersionId: version})
	if err != nil {
		return token.KeySet{}, err
	}
	return token.ParseKeySet([]byte(aws.ToString(out.SecretString)))
}

func notFound(err error) bool {
	var nf *smtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func has(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
