// Package testenv gives integration tests the real test environment that
// hack/testenv.sh starts: a buildkitd (BUILDKIT_HOST) whose docker.io mirror is
// a local registry (LADING_TEST_REGISTRY, 127.0.0.1:5000) serving stand-ins
// for debian, golang, maven and tomcat images.
//
// An integration test starts with
//
//	env := testenv.Require(t)
//
// Without the environment the test is skipped, unless it runs in CI (CI set)
// or with LADING_REQUIRE_ENGINE=1 (as `make test` does), where a missing or
// unresponsive engine fails the test instead: CI must never go green by
// skipping every integration test.
//
// Run `make test`, or `hack/testenv.sh up` followed by
// `eval "$(hack/testenv.sh env)"`, to get the environment locally.
package testenv
