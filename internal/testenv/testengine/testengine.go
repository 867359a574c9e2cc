// Package testengine connects tests outside package engine to the test
// environment's engine. It is apart from package testenv because it imports
// engine, whose own tests use testenv (and so must not reach engine
// through it).
package testengine

import (
	"os"
	"testing"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

// Connect returns an engine on the test environment (testenv.Require: it
// skips, or fails when testenv.Required, without one), quiet, allowed to
// reach the test registry over plain HTTP, and closed when the test ends.
// Its pushes carry no SBOM unless LADING_SBOM or an option asks for one
// (a scan per publishing test would cost minutes). opts come after those
// defaults, so they can override them.
func Connect(t testing.TB, opts ...engine.Option) (*engine.Engine, testenv.Env) {
	t.Helper()
	env := testenv.Require(t)
	base := []engine.Option{
		engine.WithAddress(env.BuildkitHost),
		engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet),
		engine.WithInsecureRegistry(env.Registry),
	}
	if os.Getenv("LADING_SBOM") == "" {
		base = append(base, engine.WithoutSBOM())
	}
	opts = append(base, opts...)
	eng, err := engine.Connect(t.Context(), opts...)
	if err != nil {
		t.Fatalf("connecting to %s: %v", env.BuildkitHost, err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng, env
}
