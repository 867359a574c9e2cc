package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder stands in for *testing.T to observe Skip and Fatal.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); f(r) }()
	<-done
	return r
}

func TestRequireWithoutEnvironment(t *testing.T) {
	skipsOnlyLocally(t, func(tb testing.TB) { Require(tb) }, nil, "BUILDKIT_HOST", "LADING_TEST_REGISTRY")
}

// skipsOnlyLocally checks that call, with the variables unset, skips on a
// developer's machine and fails in CI (CI=true or LADING_REQUIRE_ENGINE=1);
// check, if set, looks at each message.
func skipsOnlyLocally(t *testing.T, call func(testing.TB), check func(t *testing.T, msg string), unset ...string) {
	t.Helper()
	for _, tc := range []struct {
		name, ci, require string
		wantFail          bool
	}{
		{"local", "", "", false},
		{"ci", "true", "", true},
		{"required", "", "1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range unset {
				t.Setenv(v, "")
			}
			t.Setenv("CI", tc.ci)
			t.Setenv("LADING_REQUIRE_ENGINE", tc.require)
			r := run(call)
			if r.failed != tc.wantFail || r.skipped == tc.wantFail {
				t.Fatalf("failed=%v skipped=%v, want failed=%v: %s", r.failed, r.skipped, tc.wantFail, r.msg)
			}
			if check != nil {
				check(t, r.msg)
			}
		})
	}
}

func TestRequireDeadEngineFails(t *testing.T) {
	t.Setenv("BUILDKIT_HOST", "unix://"+t.TempDir()+"/nothing.sock")
	t.Setenv("LADING_TEST_REGISTRY", "127.0.0.1:1")
	t.Setenv("CI", "")
	t.Setenv("LADING_REQUIRE_ENGINE", "")
	r := run(func(tb testing.TB) { Require(tb) })
	if !r.failed {
		t.Fatalf("want a failure for an engine that does not answer, got skipped=%v", r.skipped)
	}
}

// TestEngineAnswers is the environment's own smoke test: with `make test` it
// proves the engine is up; elsewhere it skips.
func TestEngineAnswers(t *testing.T) {
	env := Require(t)
	t.Logf("buildkitd %s answers; registry %s", env.BuildkitHost, env.Registry)
}

func TestBinDir(t *testing.T) {
	t.Setenv("LADING_TESTENV_BIN", "/x/bin")
	if got := BinDir(); got != "/x/bin" {
		t.Fatalf("BinDir() = %q", got)
	}
	t.Setenv("LADING_TESTENV_BIN", "")
	t.Setenv("LADING_TESTENV_CACHE", "/c")
	if got := BinDir(); got != "/c/bin" {
		t.Fatalf("BinDir() = %q", got)
	}
}

// TestRequireChecksTheVersion: an engine reporting another version than
// LADING_TEST_BUILDKIT_VERSION fails the test, so that `make test`'s run
// against the oldest engine cannot quietly test the primary one again.
func TestRequireChecksTheVersion(t *testing.T) {
	env := Require(t)
	err := ping(env.BuildkitHost, "v0.0.0-not-a-release")
	require.ErrorIs(t, err, ErrWrongVersion)
	assert.Contains(t, err.Error(), "want v0.0.0-not-a-release")

	t.Setenv("LADING_TEST_BUILDKIT_VERSION", "v0.0.0-not-a-release")
	r := run(func(tb testing.TB) { Require(tb) })
	assert.True(t, r.failed, "a wrong version fails the test")
	assert.Contains(t, r.msg, "reports BuildKit")

	if env.BuildkitVersion != "" {
		assert.NoError(t, ping(env.BuildkitHost, env.BuildkitVersion), "the engine reports %s", env.BuildkitVersion)
	}
}

func TestBuildkitdFromEnvironment(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("Buildkitd skips without root before it looks at LADING_TEST_BUILDKITD")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("Buildkitd skips without runc before it looks at LADING_TEST_BUILDKITD")
	}
	bin := filepath.Join(t.TempDir(), "buildkitd")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755))
	t.Setenv("LADING_TEST_BUILDKITD", bin)
	assert.Equal(t, bin, Buildkitd(t))

	t.Setenv("LADING_TEST_BUILDKITD", filepath.Join(t.TempDir(), "missing"))
	r := run(func(tb testing.TB) { Buildkitd(tb) })
	assert.True(t, r.failed, "a LADING_TEST_BUILDKITD that does not exist fails, whatever else is installed")
	assert.Contains(t, r.msg, "LADING_TEST_BUILDKITD")
}
