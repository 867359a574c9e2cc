package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// Env is the test environment's address book.
type Env struct {
	// BuildkitHost is the buildkitd address, e.g. unix:///run/lading-testenv/buildkitd.sock.
	BuildkitHost string
	// Registry is the local registry's host:port (plain HTTP), e.g.
	// 127.0.0.1:5000. It is also buildkitd's mirror for docker.io, so
	// "debian:bookworm" resolves to Registry+"/library/debian:bookworm".
	Registry string
	// BuildkitVersion is the version BuildkitHost must report, e.g.
	// v0.34.2 (LADING_TEST_BUILDKIT_VERSION, which `hack/testenv.sh env`
	// exports), or empty when any version will do. Require checks it, so a
	// run meant for one engine version cannot silently test another.
	BuildkitVersion string
}

const hint = "run `make test`, or `hack/testenv.sh up && eval \"$(hack/testenv.sh env)\"`"

// Required reports whether a missing engine fails tests instead of skipping
// them: in CI (CI non-empty) or with LADING_REQUIRE_ENGINE=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("LADING_REQUIRE_ENGINE") == "1"
}

// Require returns the environment, checking once per test binary that the
// engine answers (and reports BuildkitVersion, when set). Without
// BUILDKIT_HOST and LADING_TEST_REGISTRY it skips the test (fails it when
// Required); an engine that does not answer within 5 s, or reports another
// version, always fails the test.
func Require(t testing.TB) Env {
	t.Helper()
	env := Env{
		BuildkitHost:    os.Getenv("BUILDKIT_HOST"),
		Registry:        os.Getenv("LADING_TEST_REGISTRY"),
		BuildkitVersion: os.Getenv("LADING_TEST_BUILDKIT_VERSION"),
	}
	if env.BuildkitHost == "" || env.Registry == "" {
		msg := "integration test needs BUILDKIT_HOST and LADING_TEST_REGISTRY: " + hint
		if Required() {
			t.Fatal(msg + " (required: CI or LADING_REQUIRE_ENGINE=1 is set)")
		}
		t.Skip(msg)
	}
	if err := ping(env.BuildkitHost, env.BuildkitVersion); err != nil {
		t.Fatalf("buildkitd at %s: %v (%s; logs in /run/lading-testenv)", env.BuildkitHost, err, hint)
	}
	return env
}

// BinDir is where hack/testenv.sh keeps the binaries it builds (buildkitd,
// buildctl, registry): LADING_TESTENV_BIN, which `hack/testenv.sh env`
// exports, else its default ~/.cache/lading-testenv/bin.
func BinDir() string {
	if d := os.Getenv("LADING_TESTENV_BIN"); d != "" {
		return d
	}
	if d := os.Getenv("LADING_TESTENV_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "lading-testenv", "bin")
}

var (
	pingMu   sync.Mutex
	pingDone = map[[2]string]error{}
)

// ping checks, once per address and version, that the engine answers within
// 5 s, has workers and, if want is not empty, reports version want.
func ping(addr, want string) error {
	pingMu.Lock()
	defer pingMu.Unlock()
	key := [2]string{addr, want}
	if err, ok := pingDone[key]; ok {
		return err
	}
	err := check(addr, want)
	pingDone[key] = err
	return err
}

func check(addr, want string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		return fmt.Errorf("does not answer: %w", err)
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("does not answer: %w", err)
	}
	if len(ws) == 0 {
		return errors.New("engine has no workers")
	}
	if want == "" {
		return nil
	}
	info, err := c.Info(ctx)
	if err != nil {
		return fmt.Errorf("asking for its version: %w", err)
	}
	if got := info.BuildkitVersion.Version; got != want {
		return fmt.Errorf("reports BuildKit %s, want %s (LADING_TEST_BUILDKIT_VERSION): %w", got, want, ErrWrongVersion)
	}
	return nil
}

// ErrWrongVersion is wrapped by the failure of an engine that reports
// another version than Env.BuildkitVersion.
var ErrWrongVersion = errors.New("wrong engine version")
