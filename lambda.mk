# Lambda packaging, included by the Makefile.
#
#   make build                       every function's bootstrap, as `sam build` makes it,
#                                    into .aws-sam/build/<LogicalId>/bootstrap (no SAM needed)
#   make build-TermsFunction         one function; `sam build` calls this with ARTIFACTS_DIR set
#   make replay [UPDATE=1]           replay events/ in-process and through the Lambda Runtime
#                                    Interface Emulator; UPDATE=1 rewrites the expectations
#   make bench-lambda                binary size, cold start, warm latency and peak RSS of
#                                    every function against a hello-world aws-lambda-go function
#   make localstack-up | localstack-seed | localstack-down   LocalStack (needs Docker and
#                                    LOCALSTACK_AUTH_TOKEN)
#   make invoke-FaqFunction EVENT=events/faq/list.json   `sam build FaqFunction`, then
#                                    `sam local invoke` of the event against LocalStack
#   make start-api                   `sam build`, then `sam local start-api` on
#                                    127.0.0.1:3000 against LocalStack
# Both need Docker and the SAM CLI, and LocalStack up: they pass
# --config-env local, so the template's parameters, the env-vars file
# (localstack/sam-env.json), the Docker network and the region are
# samconfig.toml's [local.*] sections, one place for the two commands.
# ENV_VARS=file replaces the env-vars file.

# The functions of template.yaml, by logical id. A function's code is
# ./functions/<dir>, <dir> being the logical id without "Function", in lower
# case (PufDesignsFunction: ./functions/pufdesigns); shared/dev/lambdarun.Dir is
# the same rule in Go, and its tests check the functions read below and the
# rule against template.yaml as goformation reads it (`make lambda-functions`
# prints them), so a resource the sed below missed fails there.
GO ?= go

# The functions are template.yaml's resources named <Name>Function (at two
# spaces of indent, as the template declares its resources): the template
# is the one list, so a new function needs no edit here.
LAMBDA_FUNCTIONS := $(sort $(shell sed -n 's/^  \([A-Za-z0-9][A-Za-z0-9]*Function\):[[:space:]]*$$/\1/p' template.yaml))
lambda_dir = ./functions/$(shell printf '%s' '$(1)' | tr '[:upper:]' '[:lower:]')

# What Lambda runs: a static linux/arm64 binary named bootstrap for the
# provided.al2023 runtime, without the RPC mode that only go1.x used.
LAMBDA_GOARCH ?= arm64
LAMBDA_BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
lambda_build = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build $(LAMBDA_BUILD_FLAGS) -o $(1)/bootstrap $(2)

# AWS's Lambda Runtime Interface Emulator, built from the Go module proxy
# into bin/ (gitignored; never committed). The version is the one the
# proxy serves as latest, pinned so every machine runs the same emulator.
RIE_VERSION ?= v0.0.0-20261030222936-bef5c4ba774d
RIE := bin/rie-$(RIE_VERSION)/aws-lambda-rie

LOCALSTACK_COMPOSE := docker compose -f localstack/docker-compose.yml
LOCALSTACK_ENDPOINT ?= http://127.0.0.1:4566
LOCALSTACK_TABLE ?= pufinid
LOCALSTACK_REGION ?= us-east-1
# samconfig.toml's environment for sam local.
SAM_LOCAL_ENV ?= local

.PHONY: build lambda-bootstrap replay bench-lambda rie rie-path lambda-functions localstack-up localstack-seed localstack-down start-api

build: $(addprefix build-,$(LAMBDA_FUNCTIONS)) ## every function as sam build builds it

# `sam build` runs `make build-<LogicalId>` in a copy of CodeUri (the
# module root) with ARTIFACTS_DIR set; without it the binary goes where
# `sam build` would put it.
build-%Function: ## one function, for sam build
	$(call lambda_build,$(or $(ARTIFACTS_DIR),.aws-sam/build/$*Function),$(call lambda_dir,$*))

# Any package built like a function (the benchmark's hello-world function):
# make lambda-bootstrap LAMBDA_PKG=./cmd/benchlambda/hello ARTIFACTS_DIR=dir
lambda-bootstrap: ## any package built like a function (LAMBDA_PKG, ARTIFACTS_DIR)
	@test -n "$(LAMBDA_PKG)" -a -n "$(ARTIFACTS_DIR)" || { echo 'usage: make lambda-bootstrap LAMBDA_PKG=./path ARTIFACTS_DIR=dir'; exit 2; }
	$(call lambda_build,$(ARTIFACTS_DIR),$(LAMBDA_PKG))

lambda-functions: ## list the functions and their directories
	@$(foreach f,$(LAMBDA_FUNCTIONS),echo '$(f) $(call lambda_dir,$(patsubst %Function,%,$(f)))';)

$(RIE):
	GOBIN=$(CURDIR)/$(dir $(RIE)) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

rie: $(RIE) ## install the Lambda Runtime Interface Emulator

# For the Go tests: builds the emulator if needed, then prints its path.
rie-path: $(RIE)
	@echo $(CURDIR)/$(RIE)

replay: $(RIE) ## replay events/ in process and under the emulator
	$(GO) run ./cmd/replay -rie $(CURDIR)/$(RIE) $(if $(UPDATE),-update)

bench-lambda: $(RIE) ## cold start and size of every function against hello-world
	$(GO) run ./cmd/benchlambda -rie $(CURDIR)/$(RIE)

invoke-%: ## sam local invoke a function with EVENT against LocalStack (needs Docker)
	@test -n "$(EVENT)" || { echo 'usage: make invoke-$* EVENT=events/<group>/<name>.json'; exit 2; }
	sam build $* && sam local invoke $* --config-env $(SAM_LOCAL_ENV) --event $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

start-api: ## sam local start-api on 127.0.0.1:3000 against LocalStack (needs Docker)
	sam build && sam local start-api --config-env $(SAM_LOCAL_ENV) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

localstack-up: ## start LocalStack with the table (needs Docker)
	@test -n "$$LOCALSTACK_AUTH_TOKEN" || { echo 'LOCALSTACK_AUTH_TOKEN is not set: LocalStack image needs it'; exit 2; }
	$(LOCALSTACK_COMPOSE) up --detach --wait

# The table exists already (created by localstack/init/ready.d); this loads
# the demo fixture, or FIXTURES=path.json.
# The signing keys' secret in LocalStack, which the token function's
# env-vars file names (localstack/sam-env.json).
LOCALSTACK_SIGNING_SECRET ?= pufinid-signing-keys

localstack-seed: ## load the demo fixture and make the first signing key in LocalStack
	DYNAMODB_ENDPOINT=$(LOCALSTACK_ENDPOINT) TABLE_NAME=$(LOCALSTACK_TABLE) AWS_REGION=$(LOCALSTACK_REGION) \
		$(GO) run ./cmd/seed $(if $(FIXTURES),-fixtures $(FIXTURES))
	DYNAMODB_ENDPOINT=$(LOCALSTACK_ENDPOINT) TABLE_NAME=$(LOCALSTACK_TABLE) AWS_REGION=$(LOCALSTACK_REGION) \
		SECRETS_MANAGER_ENDPOINT=$(LOCALSTACK_ENDPOINT) SIGNING_KEYS_SECRET=$(LOCALSTACK_SIGNING_SECRET) \
		$(GO) run ./cmd/keys -action show | grep -q '^current' || \
	DYNAMODB_ENDPOINT=$(LOCALSTACK_ENDPOINT) TABLE_NAME=$(LOCALSTACK_TABLE) AWS_REGION=$(LOCALSTACK_REGION) \
		SECRETS_MANAGER_ENDPOINT=$(LOCALSTACK_ENDPOINT) SIGNING_KEYS_SECRET=$(LOCALSTACK_SIGNING_SECRET) \
		$(GO) run ./cmd/keys -action init

localstack-down: ## stop LocalStack
	$(LOCALSTACK_COMPOSE) down --volumes
