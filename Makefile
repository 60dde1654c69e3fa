# Build, test and run ecr-stack locally. `make help` lists the targets.

SHELL := /bin/bash
GO ?= go
# Build and test with a Go release whose standard library has no known
# vulnerabilities (govulncheck in make lint checks it); the go command fetches
# it from the module proxy on first use. GOTOOLCHAIN=local uses the installed Go.
GOTOOLCHAIN ?= go1.27.3
export GOTOOLCHAIN
GOOS ?= $(shell $(GO) env GOOS)
GOARCH ?= $(shell $(GO) env GOARCH)
FUNCTIONS := ensure-repo scan-notifier
# The flags sam build and make build share: a static, stripped binary with
# reproducible paths and without the RPC entry point that provided.al2023 does not use.
BUILD_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='
FUZZTIME ?= 2s
# Brief runs skip minimising new inputs, which would otherwise eat their time.
FUZZFLAGS ?=
# govulncheck reads a vulnerability database built from a pinned snapshot of the Go
# vulnerability reports (the golang.org/x/vulndb module), so lint needs no network;
# move VULNDB_VERSION forward to pick up newer reports.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB := build/vulndb/$(VULNDB_VERSION)

.PHONY: help build test unit lint fuzz bench demo invoke clean \
	build-EnsureRepoFunction build-ScanNotifierFunction

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: $(FUNCTIONS:%=build/%/bootstrap) ## build each function's bootstrap for this machine into build/

build/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build $(BUILD_FLAGS) -o $@ ./functions/$*

# sam build calls these with ARTIFACTS_DIR set; the template's functions run on arm64.
build-EnsureRepoFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/ensure-repo

build-ScanNotifierFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(BUILD_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/scan-notifier

test: lint unit ## lint, then every test against moto and the emulator, then each fuzz target briefly

unit:
	$(GO) test -count=1 ./...
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME) FUZZFLAGS=-fuzzminimizetime=0

lint: $(VULNDB)/index/db.json ## go vet, staticcheck, govulncheck and cfn-lint
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool govulncheck -db file://$(CURDIR)/$(VULNDB) ./...
	cfn-lint template.yaml examples/*.yaml

fuzz: ## run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=5m)
	@set -e; for pkg in $$($(GO) list ./internal/...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	  done; \
	done

bench: ## measure size, cold start, latency, API calls and rendering, and print one table
	$(GO) run ./internal/cmd/bench

demo: ## build, start moto, run both functions under the emulator, show the results
	$(GO) run ./internal/cmd/demo

invoke: ## run FUNCTION's bootstrap under the emulator with EVENT (AWS_ENDPOINT_URL honoured)
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=ensure-repo EVENT=events/..."; exit 2; }
	$(GO) run ./internal/cmd/invoke -function $(FUNCTION) -event $(EVENT) $(INVOKE_FLAGS)

$(VULNDB)/index/db.json:
	$(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION)
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) \
	  -vulns "$$($(GO) list -m -f '{{.Dir}}' golang.org/x/vulndb@$(VULNDB_VERSION))/data/osv" -out $(VULNDB).tmp
	rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

clean:
	rm -rf build .aws-sam

FORCE:
