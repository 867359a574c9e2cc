# lading — developer and CI entry points.
#
#   make run           the main job: build and smoke-test examples/multistage on the embedded local engine
#   make test          what CI runs: gofmt, golangci-lint, go vet, the whole suite against the
#                      primary buildkitd (BuildKit version of go.mod), then the integration
#                      packages again against the oldest supported one (the line Docker Engine ships)
#   make lint          golangci-lint (pinned, built into the test environment's cache on first use)
#   make test-oldest   only the integration packages against the oldest supported buildkitd
#   make unit          daemon-free tests only (sdk, internal)
#   make testenv-up    start registry + both buildkitd and seed stand-in images
#   make testenv-down  stop them
#   make testenv-check smoke builds against every stand-in image
#   make bench         run the benchmarks program (./bench)
#
# `make -n test` prints every step's shell.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

TESTENV := hack/testenv.sh

# ENV puts the test environment's addresses (hack/testenv.sh env) into the
# recipe's shell; integration tests fail instead of skipping without them.
ENV := eval "$$(bash $(TESTENV) env)" && export LADING_REQUIRE_ENGINE=1 && set -euo pipefail

# OLDEST switches that shell to the oldest supported engine: its address, the
# version it must report, and the buildkitd tests start their own engines with.
OLDEST := export BUILDKIT_HOST="$$LADING_TEST_BUILDKIT_HOST_OLDEST" \
	LADING_TEST_BUILDKIT_VERSION="$$LADING_TEST_BUILDKIT_VERSION_OLDEST" \
	LADING_TEST_BUILDKITD="$$LADING_TEST_BUILDKITD_OLDEST"

# INTEGRATION_PKGS lists the integration-level packages: internal/testenv and
# every package whose tests import it (or a package under it).
INTEGRATION_PKGS := go list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | \
	awk -v t=github.com/ladingbuild/lading/internal/testenv \
	'{ for (i = 1; i <= NF; i++) if ($$i == t || index($$i, t "/") == 1) { print $$1; next } }'

GOTEST := go test -race -count=1

# QUICK_BENCH are the bench groups `make test` smoke-runs. runner, attest and
# service-start build cold on fresh engines (minutes each): run them with
# `go run ./bench -only GROUP -check`.
QUICK_BENCH := compile,build,context,start,parallel,process,report,explain,guard,bundle,engine-first-start

.PHONY: run test lint test-oldest unit testenv-up testenv-down testenv-status testenv-check bench

# The embedded local engine pulls docker.io images through the test
# environment's registry (whatever its port), which holds stand-ins of the
# images the example uses (no Docker Hub here), and reuses the buildkitd the
# test environment built. Only those two values are taken from the test
# environment: BUILDKIT_HOST stays as the caller has it.
run: testenv-up
	@vars="$$(eval "$$(bash $(TESTENV) env)" && \
		echo "LADING_REGISTRY_MIRROR=$$LADING_TEST_REGISTRY LADING_BUILDKITD=$$LADING_TEST_BUILDKITD")" && \
	env $$vars go run ./examples/multistage smoke

test: testenv-up
	@echo "== gofmt" && \
	unformatted="$$(git ls-files -z --cached --others --exclude-standard -- '*.go' | xargs -0 -r gofmt -l)" && \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@echo "== golangci-lint" && bash $(TESTENV) lint
	@echo "== go vet" && go vet ./...
	@$(ENV) && \
	echo "== go test ./... against BuildKit $$LADING_TEST_BUILDKIT_VERSION (BUILDKIT_HOST=$$BUILDKIT_HOST LADING_TEST_REGISTRY=$$LADING_TEST_REGISTRY)" && \
	$(GOTEST) -timeout 45m ./...
	@$(ENV) && echo "== timing budgets, without the race detector" && go test -count=1 -run 'IsFast$$' ./...
	@$(MAKE) --no-print-directory test-oldest-run
	@$(ENV) && echo "== benchmarks, quick smoke run (no target check: small sizes are noisy)" && \
	go run ./bench -quick -only $(QUICK_BENCH)

lint:
	bash $(TESTENV) lint

test-oldest: testenv-up
	@$(MAKE) --no-print-directory test-oldest-run

.PHONY: test-oldest-run
test-oldest-run:
	@$(ENV) && $(OLDEST) && pkgs="$$($(INTEGRATION_PKGS))" && \
	echo "== go test, integration packages, against BuildKit $$LADING_TEST_BUILDKIT_VERSION (BUILDKIT_HOST=$$BUILDKIT_HOST):" $$pkgs && \
	$(GOTEST) -timeout 30m $$pkgs

unit:
	go test ./sdk/... ./internal/...

testenv-up:
	bash $(TESTENV) up

testenv-down:
	bash $(TESTENV) down

testenv-status:
	bash $(TESTENV) status

testenv-check: testenv-up
	bash $(TESTENV) check

bench: testenv-up
	@$(ENV) && go run ./bench
