# The front door. `make run` serves the API locally; `make test` runs every test.
# Lambda build, replay and benchmark targets are in lambda.mk.

PORT ?= 3000
FIXTURES ?=
GO ?= go

.PHONY: run test lint

run:
	$(GO) run ./cmd/local -port $(PORT) $(if $(FIXTURES),-fixtures $(FIXTURES))

# `make test` runs every test, then each fuzz target briefly (FUZZTIME each).
# It installs the SES v2 emulator the mailer tests use when npm is present.
FUZZTIME ?= 2s

test: node_modules
	$(GO) test -shuffle=on ./...
	$(MAKE) --no-print-directory fuzz

# Every Go benchmark, end to end through the Lambda adapter and the embedded
# DynamoDB; ddb-req/op is DynamoDB requests per call.
BENCHTIME ?= 1s
.PHONY: bench
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Each fuzz target of every package, for FUZZTIME (go test -fuzz takes one
# target at a time). Minimizing is capped because some targets hash passwords.
.PHONY: fuzz
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for t in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$dir $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$dir; \
		done; \
	done

node_modules: package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the SES emulator tests will skip (they fail under CI=true)"; fi

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) mod tidy -diff

# `make seed` loads a fixture (default: the demo fixture) into TABLE_NAME at
# DYNAMODB_ENDPOINT (unset: AWS, with the usual AWS credentials);
# CREATE_TABLE=1 creates the table first, e.g. in LocalStack:
#   make seed DYNAMODB_ENDPOINT=http://localhost:4566 TABLE_NAME=pufinid CREATE_TABLE=1
.PHONY: seed
seed:
	TABLE_NAME='$(TABLE_NAME)' DYNAMODB_ENDPOINT='$(DYNAMODB_ENDPOINT)' \
		$(GO) run ./cmd/seed $(if $(FIXTURES),-fixtures $(FIXTURES)) $(if $(CREATE_TABLE),-create-table)

# The mailer tests send through aws-ses-v2-local, an Amazon SES v2 emulator
# pinned in package.json: install it once with `make tools` (.ci/run does it
# too). Without it the SES tests skip locally and fail under CI=true.
.PHONY: tools
tools:
	npm ci --no-audit --no-fund

-include lambda.mk
