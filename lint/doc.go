// Package lint checks a build graph offline, before anything is built:
// the review comments teams keep writing — pin the base image, don't run
// systemd as PID 1, don't ship as root, don't bake a token or the proxy
// into the image, don't send .git to the builder — as rules over the
// graph's typed model, each finding pointing at the Go file:line of the
// step.
//
// Run lints a value and returns a Report; Check returns an error when a
// finding fails (not silenced, at or above FailOn's severity, Error by
// default), for an opt-in check before every build:
//
//	if err := lint.Check(app); err != nil {
//		return err
//	}
//	_, err := eng.Build(ctx, app)
//
// The same check runs in unit tests (sdktest.RequireLintClean) and as the
// lint target of a pipeline program (pipeline.Pipeline.LintTarget: human
// or -json output, and a failing exit for CI).
//
// Every rule has an id (Rules lists them; docs/lint.md explains each). A
// rule is silenced on one step with Allow, or Allowing in a
// Container.With chain, giving the reason in the code; silenced findings
// are still reported, marked Silenced with the reason.
//
// Lint reads no secret and builds nothing. It touches the host only to
// list the top level of Host directories and read their .dockerignore.
// What cannot be known offline is said in the finding: the base image's
// own user, entrypoint and files are not seen, so an image that sets no
// user is a warning, not an error. WithLock accepts the tags and Git refs
// lading.lock records as pinned (package lock); Pinned and PinnedBy name
// others pinned elsewhere.
package lint
