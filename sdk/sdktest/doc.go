// Package sdktest unit-tests build graphs without a daemon.
//
// PlanOf lays a value out as a Plan: one line per step with its operation,
// arguments, env, workdir, user, mounts (cache ids and sharing, secrets by
// name only), platform and the Go file:line that made it. Tests assert on
// the plan with the helpers here, or compare it with a golden file:
//
//	p := sdktest.PlanOf(release)
//	p.RequireNonRoot(t)
//	p.Exec(t, "go", "build").RequireCacheMount(t, "/root/.cache/go-build")
//	sdktest.Golden(t, release) // testdata/<TestName>.plan; refresh with -update
package sdktest
