# Second Me. `make run` serves the whole product locally; `make test` checks everything.
# `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
ENV      ?= dev
FUZZTIME ?= 10s

# Every functions/<name> with a main.go is a Lambda function.
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
# The Lambda build: static, linux/arm64 (Graviton), no RPC mode, no paths or symbols in the binary.
# grpcnotrace: grpc (linked through genai's Google auth, never called) then skips golang.org/x/net/trace,
# whose template execution would keep every exported method in the binary (+7.5 MB for chat); likewise
# google.golang.org/protobuf >= v1.36.12 (go.mod) no longer keeps them under Go 1.26 (protobuf#1704).
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LAMBDA_FLAGS := -tags lambda.norpc,grpcnotrace -trimpath -ldflags "-s -w"

.PHONY: help run gateway test build lint bench soak fuzz rematch screenshots clean deploy deploy-check

help: ## list the targets
	@awk -F':.*## ' '/^[a-z%-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: ## the local stack on http://127.0.0.1:8080 (PORT to change), data in ./.data; the offline model writes a word every 25 ms (OFFLINE_PACE to change)
	OFFLINE_PACE="$${OFFLINE_PACE:-25ms}" $(GO) run ./infra/local

gateway: ## the deployed shape from template.yaml: every function's bootstrap behind its Lambda Runtime API, on http://127.0.0.1:8080
	$(GO) run ./infra/gateway

test: ## go vet, then every test with dynalite, the Lambda emulator and the template checks
	infra/scripts/test.sh

build: ## every function's bootstrap for linux/arm64 into bin/<name>/bootstrap
	@for f in $(FUNCTIONS); do \
		echo "build bin/$$f/bootstrap"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f; \
	done

# SAM's makefile build method runs `make build-<LogicalId> ARTIFACTS_DIR=<dir>` for each function:
# <Name>Function is built from functions/<name> (UsersFunction -> functions/users), so a new
# function needs no edit here. Portable to bash 3.2 (macOS): tr, not $${name,,}.
build-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@name='$*'; name="$${name%Function}"; dir="functions/$$(printf '%s' "$$name" | tr '[:upper:]' '[:lower:]')"; \
	[ "$$name" != '$*' ] && [ -f "$$dir/main.go" ] || { echo "build-$*: no $$dir/main.go for $*" >&2; exit 1; }; \
	echo "build $$dir -> $(ARTIFACTS_DIR)/bootstrap"; \
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o "$(ARTIFACTS_DIR)/bootstrap" "./$$dir"

lint: ## gofmt, go vet and staticcheck (pinned as a Go tool)
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

bench: ## run every infra/bench/<topic> and write docs/benchmarks.md
	infra/scripts/bench.sh

soak: ## 10,000 chat turns from 64 clients, retries, kill -9 and SIGTERM under load on the local stack; the Soak section of docs/benchmarks.md
	$(GO) run ./infra/soak

fuzz: ## every Fuzz target for FUZZTIME each (default 10s)
	FUZZTIME=$(FUZZTIME) infra/scripts/fuzz.sh

rematch: ## the nightly rematch, once, on the local stack's store
	$(GO) run ./infra/local -rematch-once

clean: ## remove build outputs
	rm -rf bin .aws-sam coverage.out

deploy-check: ## samconfig.toml's ENV parameters against template.yaml, offline (ENV=dev|prod|all)
	$(GO) run ./infra/deploycheck -env $(ENV)

deploy: deploy-check ## deploy-check, sam build, sam deploy --config-env ENV (ENV=dev|prod, default dev; needs AWS credentials)
	sam build
	sam deploy --config-env $(ENV)

screenshots: ## the browser journey on make gateway, the first run, the Chinese client and a portrait on make run, saving every view at 390 and 1280 px into docs/screenshots
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestBrowser(JourneyGateway|FirstRunLocal|ChineseLocal|AvatarLocal)$$' ./infra/e2e/
