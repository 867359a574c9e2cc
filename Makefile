# lading — developer and CI entry points.
#
#   make test          the full suite against the real test environment (what CI runs)
#   make unit          daemon-free tests only (sdk, internal)
#   make testenv-up    start registry + buildkitd and seed stand-in images
#   make testenv-down  stop them
#   make bench         run the benchmarks program (./bench)

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

TESTENV := hack/testenv.sh

.PHONY: test unit testenv-up testenv-down testenv-status bench fmt-check vet

test: testenv-up
	@eval "$$(bash $(TESTENV) env)" && export LADING_REQUIRE_ENGINE=1 && set -euo pipefail && \
	echo "== gofmt" && \
	unformatted="$$(git ls-files -z --cached --others --exclude-standard -- '*.go' | xargs -0 -r gofmt -l)" && \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi && \
	echo "== go vet" && go vet ./... && \
	echo "== go test (BUILDKIT_HOST=$$BUILDKIT_HOST LADING_TEST_REGISTRY=$$LADING_TEST_REGISTRY)" && \
	go test -race -count=1 -timeout 45m ./...

unit:
	go test ./sdk/... ./internal/...

testenv-up:
	bash $(TESTENV) up

testenv-down:
	bash $(TESTENV) down

testenv-status:
	bash $(TESTENV) status

bench:
	go run ./bench
