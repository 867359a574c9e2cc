# lading — developer and CI entry points.
#
#   make run           the main job: build and smoke-test examples/multistage on the embedded local engine
#   make test          the full suite against the real test environment (what CI runs)
#   make unit          daemon-free tests only (sdk, internal)
#   make testenv-up    start registry + buildkitd and seed stand-in images
#   make testenv-down  stop them
#   make testenv-check smoke builds against every stand-in image
#   make bench         run the benchmarks program (./bench)

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

TESTENV := hack/testenv.sh

.PHONY: run test unit testenv-up testenv-down testenv-status testenv-check bench

# The embedded local engine pulls docker.io images through the local registry,
# which holds stand-ins of the images the example uses (no Docker Hub here),
# and reuses the buildkitd the test environment built.
run: testenv-up
	LADING_REGISTRY_MIRROR=127.0.0.1:5000 \
	LADING_BUILDKITD=$${LADING_TESTENV_CACHE:-$$HOME/.cache/lading-testenv}/bin/buildkitd \
	go run ./examples/multistage smoke

test: testenv-up
	@eval "$$(bash $(TESTENV) env)" && export LADING_REQUIRE_ENGINE=1 && set -euo pipefail && \
	echo "== gofmt" && \
	unformatted="$$(git ls-files -z --cached --others --exclude-standard -- '*.go' | xargs -0 -r gofmt -l)" && \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi && \
	echo "== go vet" && go vet ./... && \
	echo "== go test (BUILDKIT_HOST=$$BUILDKIT_HOST LADING_TEST_REGISTRY=$$LADING_TEST_REGISTRY)" && \
	go test -race -count=1 -timeout 45m ./... && \
	echo "== benchmarks, quick smoke run (no target check: small sizes are noisy)" && \
	go run ./bench -quick

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
	@eval "$$(bash $(TESTENV) env)" && go run ./bench
