// Package integration tests every sdk feature end to end on a real
// BuildKit daemon and a real registry: the test environment started by
// `make test` (hack/testenv.sh). Nothing here mocks the daemon.
package integration
