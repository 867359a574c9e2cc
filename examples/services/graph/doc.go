// Package graph is examples/services's build graph: a Go service whose
// integration test talks to a Redis server that runs as a service bound
// to the test step ([Test]), and [Redis], that service, on a Debian image
// with Redis from Debian's packages.
package graph
