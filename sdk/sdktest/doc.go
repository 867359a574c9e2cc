// Package sdktest unit-tests build graphs without a daemon.
//
// PlanOf lays a value out as a Plan: one Step per operation, each after the
// steps it reads, with its arguments, env, workdir, user, Mounts (cache ids
// and sharing, secrets by name only), platform and the Go file:line that
// made it, and the Image config a container sets. Tests assert on the plan
// with the helpers here, or compare it with a golden file:
//
//	p := sdktest.PlanOf(release)
//	p.RequireNonRoot(t)
//	p.Exec(t, "go", "build").RequireCacheMount(t, "/root/.cache/go-build")
//	p.RequireOrder(t, []string{"go", "test"}, []string{"go", "build"})
//	sdktest.Golden(t, release) // testdata/<TestName>.plan
//
// A plan rejects exactly what a build rejects before reaching the daemon:
// both run the same validation, and Plan.Err returns the build's
// *sdk.ValidationError. Every failing assertion names the Go file:line of
// the steps involved.
//
// # Golden files
//
// Golden writes the plan and, below it, the compiled LLB definition (one
// line per op: kind, summary, inputs, digest), so a golden file also
// catches a change of what the compiler makes of the graph. An invalid
// value fails the test and writes nothing.
//
// To create or refresh golden files, run the tests with
// LADING_UPDATE_GOLDEN=1 in the environment:
//
//	LADING_UPDATE_GOLDEN=1 go test ./...
//
// This package defines no command-line flag. A test package that defines
// a bool flag named "update" itself (flag.Bool("update", false, "…")) can
// also refresh its files with go test -update; Golden looks that flag up
// with flag.Lookup.
package sdktest
