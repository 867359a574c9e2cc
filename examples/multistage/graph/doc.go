// Package graph is examples/multistage's build graph, importable: the
// example's program (examples/multistage) runs it as pipeline targets, and
// the benchmark (bench/) builds the same values, so there is one copy.
//
// [Build] is the build stage (module download, tests, a static binary),
// [Image] the runtime image holding only that binary, and [Smoke] a check
// that starts the image's service and requests a page. The tests in this
// package check the graph offline; examples/multistage's end-to-end test
// builds it on a real engine.
package graph
