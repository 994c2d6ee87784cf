# The front door. `make run` serves the API locally; `make test` runs every test.
# Lambda build, replay and benchmark targets are in lambda.mk.

PORT ?= 3000
FIXTURES ?=
# Generated reference data on top of the fixture, to see what a page costs
# with many: `make run DESIGNS=10000 FAQ_TOPICS=2000`.
DESIGNS ?=
FAQ_TOPICS ?=
# Origins browsers may call `make run` from (empty: the default, any port
# of localhost and 127.0.0.1).
CORS_ORIGINS ?=
# The embedded DynamoDB's port (empty: any free port; the log names it).
DYNAMODB_PORT ?=
GO ?= go

.PHONY: help run test lint

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The first build compiles the AWS SDK and every group: 1 to 5 minutes on
# 2 cores with empty caches, seconds afterwards; it says so rather than
# sit silent.
run: ## serve every route on 127.0.0.1:PORT (3000) with an embedded store and demo data
	@test -x bin/local -a -z "$$(find cmd shared functions docs third_party go.mod go.sum -newer bin/local -print -quit 2>/dev/null)" || \
		echo "compiling the local server (the first time takes 1-5 minutes; later runs start in seconds)..."
	@$(GO) build -o bin/local ./cmd/local
	bin/local -port $(PORT) $(if $(FIXTURES),-fixtures $(FIXTURES)) $(if $(DYNAMODB_PORT),-dynamodb-port $(DYNAMODB_PORT)) \
		$(if $(DESIGNS),-designs $(DESIGNS)) $(if $(FAQ_TOPICS),-faq-topics $(FAQ_TOPICS)) $(if $(CORS_ORIGINS),-cors-origins '$(CORS_ORIGINS)')

# `make test` runs every test, then each fuzz target briefly (FUZZTIME each:
# a count of inputs, not a duration, because Go 1.26's fuzz coordinator can
# report a spurious "context deadline exceeded" failure when a duration
# runs out on a busy machine; golang/go#75804, fixed in Go 1.27).
# It installs the SES v2 emulator the mailer tests use when npm is present.
FUZZTIME ?= 500x

# Tests that share nothing run in parallel (t.Parallel), TEST_PARALLEL at
# a time per package: more than the cores, since most of them wait on the
# embedded store or on retry backoff. Timing tests stay serial, and Go
# runs a package's serial tests before its parallel ones.
TEST_PARALLEL ?= 8

test: node_modules ## every test, then each fuzz target briefly (the command CI runs)
	$(GO) test -shuffle=on -parallel $(TEST_PARALLEL) ./...
	$(MAKE) --no-print-directory test-minidyn
	$(MAKE) --no-print-directory test-race
	$(MAKE) --no-print-directory fuzz

# The race detector where it is affordable: the fault injector, the
# embedded store and its dropped connections, the harness, the outbox, the
# fixture loader, the HTTP middleware, tokens, SES, the store (34 s: its
# tests run in parallel, most of that is retry backoff) and the four light
# handler packages, whose tests run in parallel on shared state (the
# embedded store); then the soak (8 clients at once against one server for
# 5 s), which drives every handler and the store concurrently. Not tokenapi
# or usersapi: their argon2id hashing runs 3 times slower under -race (51 s
# each), and the soak runs the same code in parallel.
RACE_PKGS ?= ./shared/dev/ddbfault ./shared/dev/embeddeddb ./shared/dev/apitest ./shared/dev/outbox ./shared/dev/fixtures \
	./shared/web ./shared/token ./shared/mailer/sesmail ./shared/store ./shared/refcache \
	./functions/faq/faqapi ./functions/appsprofile/appsprofileapi ./functions/pufdesigns/pufdesignsapi ./functions/terms/termsapi
.PHONY: test-race
test-race: ## the race detector on the packages where it is affordable, and a brief soak
	$(GO) test -race -count=1 -parallel $(TEST_PARALLEL) $(RACE_PKGS)
	$(GO) test -race -count=1 ./cmd/local -run '^TestSoak$$' -args -soak.duration=5s

# The patched minidyn in third_party/ is a module of its own: its tests
# (minidyn's, and those of the patch) run here. Its tests build SDK clients
# on plain http.Clients, which an AWS_CA_BUNDLE in the environment refuses.
.PHONY: test-minidyn
test-minidyn: ## the tests of the patched minidyn in third_party/
	cd third_party/minidyn && env -u AWS_CA_BUNDLE $(GO) test -count=1 ./core ./server ./types ./interpreter/...

# The whole suite once more with DynamoDB's transient answers injected into
# every store client of the tests (shared/dev/ddbfault): conflicts, throttling,
# internal errors, unprocessed batches, short Query pages and lost answers,
# FAULTS of the attempts, at most 2 per call (so retries can always win).
FAULTS ?= rate=0.05,seed=1
.PHONY: test-faults
test-faults: ## the whole suite with DynamoDB's transient answers injected
	PUFINID_DYNAMODB_FAULTS='$(FAULTS)' $(GO) test -count=1 -shuffle=on -parallel $(TEST_PARALLEL) ./...

# How latency grows as the embedded store fills (functions/users/usersapi
# TestGrowth): GET me and a login's transaction after GROWTH_SIZES requests
# that each leave an item, then with GROWTH_DESIGNS reference items more.
GROWTH_SIZES ?= 1000,4000,10000,50000
GROWTH_DESIGNS ?= 10000
.PHONY: bench-growth
bench-growth: ## how latency grows as the embedded store fills
	$(GO) test ./functions/users/usersapi -run '^TestGrowth$$' -count=1 -v -timeout 0 \
		-args -growth -growth.sizes=$(GROWTH_SIZES) -growth.designs=$(GROWTH_DESIGNS)

# Every Go benchmark, end to end through the Lambda adapter and the embedded
# DynamoDB; dynamodb-req/op is DynamoDB requests per call, items/op the
# items they read and rcu/op the read units DynamoDB would charge
# (shared/dev/ddbmeter). Among them, BenchmarkReadsBySize (cmd/local) is
# every read route of reference data at 100 to 50,000 PUF designs and FAQ
# topics: about 4 minutes of the run.
BENCHTIME ?= 1s
.PHONY: bench bench-sizes
bench: ## every Go benchmark, with DynamoDB requests, items and read units per call
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 0 ./...

# Only the reference reads by size; BENCH_SIZES picks the sizes.
BENCH_SIZES ?= 100,1000,10000,50000
bench-sizes: ## each read route of reference data at BENCH_SIZES designs and topics
	BENCH_SIZES=$(BENCH_SIZES) $(GO) test ./cmd/local -run '^$$' -bench ReadsBySize -benchmem -benchtime $(BENCHTIME) -timeout 0

# `make soak` runs the soak test (shared/dev/soak through cmd/local's TestSoak)
# for SOAK_DURATION (0: until SOAK_REQUESTS API requests), against the
# embedded store or, with DYNAMODB_ENDPOINT (and TABLE_NAME) set, that one;
# PUFINID_DYNAMODB_FAULTS turns DynamoDB fault injection on. SOAK_SEED=0
# picks a new seed (printed); a failure prints the command that replays it.
SOAK_DURATION ?= 10m
SOAK_REQUESTS ?= 0
SOAK_CLIENTS ?= 16
SOAK_SEED ?= 0
SOAK_CLOCK ?= fake
# Operations whose failures are known, unbuilt parts of the contract,
# logged but not failing (comma-separated; none today).
SOAK_KNOWN_GAPS ?=
.PHONY: soak
soak: ## the long-lived model-based test, for SOAK_DURATION
	DYNAMODB_ENDPOINT='$(DYNAMODB_ENDPOINT)' TABLE_NAME='$(TABLE_NAME)' PUFINID_DYNAMODB_FAULTS='$(PUFINID_DYNAMODB_FAULTS)' \
		$(GO) test ./cmd/local -run '^TestSoak$$' -count=1 -timeout 0 -v -args \
		-soak.duration=$(SOAK_DURATION) -soak.requests=$(SOAK_REQUESTS) -soak.clients=$(SOAK_CLIENTS) \
		-soak.seed=$(SOAK_SEED) -soak.clock=$(SOAK_CLOCK) -soak.known-gaps=$(SOAK_KNOWN_GAPS)

# Each fuzz target of every package, for FUZZTIME (go test -fuzz takes one
# target at a time). Minimizing is capped because some targets hash passwords.
.PHONY: fuzz
fuzz: ## each fuzz target for FUZZTIME inputs
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for t in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$dir $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$dir; \
		done; \
	done

node_modules: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the SES emulator tests will skip (they fail under CI=true)"; fi

# Spectral (pinned in package.json) lints docs/openapi.yaml with its
# OpenAPI rules and the OWASP API Security rules (.spectral.yaml, which
# says why each waived rule is waived); a warning fails too. It needs
# node_modules (`npm ci`, as .ci/run does): without it the step is skipped
# with a note, except under CI=true, where it fails.
SPECTRAL ?= npx --no-install spectral
# staticcheck, from the Go module proxy at this version (2026.2.2).
STATICCHECK_VERSION ?= v0.8.2
lint: ## gofmt, go vet, go mod tidy, staticcheck, and Spectral on the OpenAPI document
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@if [ -x node_modules/.bin/spectral ]; then \
		echo "$(SPECTRAL) lint docs/openapi.yaml --ruleset .spectral.yaml --fail-severity=warn"; \
		$(SPECTRAL) lint docs/openapi.yaml --ruleset .spectral.yaml --fail-severity=warn; \
	elif [ "$$CI" = true ]; then echo "node_modules/.bin/spectral not found: run npm ci"; exit 1; \
	else echo "node_modules/.bin/spectral not found (npm ci installs it): docs/openapi.yaml not linted"; fi

# `make seed` loads a fixture (default: the demo fixture) into TABLE_NAME at
# DYNAMODB_ENDPOINT; CREATE_TABLE=1 creates the table first, e.g. in LocalStack:
#   make seed DYNAMODB_ENDPOINT=http://localhost:4566 TABLE_NAME=pufinid CREATE_TABLE=1
# It refuses a table that is not local (DYNAMODB_ENDPOINT unset, which means
# AWS with the usual AWS credentials, or on a host other than loopback and
# pufinid-localstack) unless FORCE=1: a mistyped variable should not
# overwrite a deployment's reference data.
#   make seed TABLE_NAME=pufinid-api-dev-Table-XXXX FORCE=1
# MIGRATE_EMAIL_CLAIMS=1 loads nothing and moves email claims made before
# the canonical form to their canonical keys (once, on a table from before;
# FORCE=1 too, for a deployed one).
.PHONY: seed
seed: ## load a fixture into TABLE_NAME at DYNAMODB_ENDPOINT (AWS only with FORCE=1)
	TABLE_NAME='$(TABLE_NAME)' DYNAMODB_ENDPOINT='$(DYNAMODB_ENDPOINT)' \
		$(GO) run ./cmd/seed $(if $(FIXTURES),-fixtures $(FIXTURES)) $(if $(CREATE_TABLE),-create-table) \
		$(if $(MIGRATE_EMAIL_CLAIMS),-migrate-email-claims) $(if $(FORCE),-force)

# `make keys ACTION=...` runs a step of the signing keys' rotation (cmd/keys:
# show, init, add, promote, retire) on the deployment SIGNING_KEYS_SECRET
# and TABLE_NAME name (the stack's SigningKeys and TableName outputs), with
# the usual AWS credentials; README "Signing keys" gives the procedure.
ACTION ?= show
MAX_REFRESH ?=
.PHONY: keys
keys: ## a step of the signing keys' rotation (ACTION=show|init|add|promote|retire)
	SIGNING_KEYS_SECRET='$(SIGNING_KEYS_SECRET)' TABLE_NAME='$(TABLE_NAME)' DYNAMODB_ENDPOINT='$(DYNAMODB_ENDPOINT)' \
		SECRETS_MANAGER_ENDPOINT='$(SECRETS_MANAGER_ENDPOINT)' \
		$(GO) run ./cmd/keys -action $(ACTION) $(if $(MAX_REFRESH),-max-refresh $(MAX_REFRESH))

# The mailer tests send through aws-ses-v2-local, an Amazon SES v2 emulator
# pinned in package.json: install it once with `make tools` (.ci/run does it
# too). Without it the SES tests skip locally and fail under CI=true.
.PHONY: tools
tools: ## install the pinned npm tools (SES emulator, Spectral, Redoc)
	npm ci --no-audit --no-fund

-include lambda.mk
