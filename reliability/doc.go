// Package reliability holds the tests that show lading keeps working under
// faults, bad input and load, and that it leaks nothing: the engine killed
// mid-build, cancellation, many builds at once and in a row, secrets, proxy
// credentials and CA bundles, symlinks in host directories, engine
// addresses over plaintext TCP and mutual TLS.
//
// The package has no code of its own; its tests run against the real
// engine of the test environment (hack/testenv.sh), and some start their
// own buildkitd (a local engine in temporary directories, or a TLS one on
// loopback) which they stop again by pid. docs/reliability.md lists every
// case, with the test that proves it, including those that live next to
// the code in engine/, integration/ and sdk/.
//
//	bash hack/testenv.sh up && eval "$(bash hack/testenv.sh env)"
//	go test -race -count=1 ./reliability/
package reliability
