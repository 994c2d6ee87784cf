package store

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/apierror"
	"github.com/pufinid/pufinid-api/shared/awsenv"
)

// Store is the single-table model. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time
	ref   *refPointer // this instance's copy of the reference pointer
	// terms is the instance's copy of one version's terms (Terms).
	terms     atomic.Pointer[versionTerms]
	termsFill termsFill
}

// Options say where the table is.
type Options struct {
	Table    string
	Endpoint string // empty: AWS's endpoint for the region; else LocalStack, minidyn...
	Region   string // empty: from the environment (AWS_REGION in Lambda)
	// Credentials replace the environment's (AWS_ACCESS_KEY_ID...) when
	// there is no Endpoint: tools pass the SDK's default chain here.
	Credentials aws.CredentialsProvider
	MaxAttempts int              // SDK attempts per call; 0 keeps the SDK default (3)
	Now         func() time.Time // clock; time.Now if nil
	// Getenv is where AWS_REGION and Lambda's credentials are read from;
	// os.Getenv if nil.
	Getenv func(string) string
	// APIOptions are added to the DynamoDB client's middleware stack, after
	// the store's own: how tools inject faults into, or check, the real
	// SDK calls the store makes.
	APIOptions []func(*middleware.Stack) error
	// ReferenceTTL is how long the store trusts the reference pointer it
	// read (snapshot.go); 0 means DefaultReferenceTTL.
	ReferenceTTL time.Duration
}

// Open builds the DynamoDB client. It makes no network call: credentials and
// the endpoint are resolved on the first request, so Lambda init stays cheap.
// The configuration comes from shared/awsenv (the Lambda environment), not
// from the SDK's config package, whose credential chain would cost every
// function's cold start; a tool using AWS from a developer's machine passes
// the default chain's credentials in Options.Credentials.
func Open(ctx context.Context, o Options) (*Store, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg := awsenv.Config(getenv, awsenv.Options{
		Endpoint:    o.Endpoint,
		Region:      o.Region,
		Credentials: o.Credentials,
		MaxAttempts: o.MaxAttempts,
	})
	client := dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		do.Retryer = newRetryer(o.MaxAttempts)
		if o.Endpoint != "" {
			do.BaseEndpoint = aws.String(o.Endpoint)
			// Local stores do not send DynamoDB's X-Amz-Crc32 header.
			do.DisableValidateResponseChecksum = true
		}
		do.APIOptions = append(do.APIOptions, countRetries)
		do.APIOptions = append(do.APIOptions, o.APIOptions...)
	})
	st := New(client, o.Table, o.Now)
	if o.ReferenceTTL > 0 {
		st.ref.ttl = o.ReferenceTTL
	}
	return st, nil
}

// New wraps an existing client.
func New(db *dynamodb.Client, table string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, table: table, now: now, ref: &refPointer{ttl: DefaultReferenceTTL}}
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// CreateTable creates the table from TableDefinition (local stores and tests).
func (s *Store) CreateTable(ctx context.Context) error {
	_, err := s.db.CreateTable(ctx, TableDefinition(s.table))
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	return err
}

// unavailable turns any failure to reach or use DynamoDB into the contract's
// 503. Callers handle the conditional failures they expect before this.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return apierror.UnavailableErr(err)
}

var (
	errBatchUnprocessed      = errors.New("batch get: keys left unprocessed")
	errBatchWriteUnprocessed = errors.New("batch write: items left unprocessed")
)
