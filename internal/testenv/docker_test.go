package testenv

import (
	"strings"
	"testing"
)

func TestDockerWithoutEnvironment(t *testing.T) {
	skipsOnlyLocally(t, func(tb testing.TB) { Docker(tb) }, func(t *testing.T, msg string) {
		if !strings.Contains(msg, "hack/testenv.sh up") {
			t.Errorf("the message does not say how to get dockerd: %s", msg)
		}
	}, "LADING_TEST_DOCKER_HOST")
}

func TestDockerDeadDaemonFails(t *testing.T) {
	t.Setenv("LADING_TEST_DOCKER_HOST", "unix://"+t.TempDir()+"/nothing.sock")
	t.Setenv("LADING_TEST_DOCKER_CLI", "/usr/bin/docker")
	t.Setenv("LADING_TEST_PODMAN", "/usr/bin/podman")
	t.Setenv("LADING_TEST_PODMAN_HOST", "unix:///nonexistent/podman.sock")
	t.Setenv("LADING_TEST_BUILDKITD_IMAGE", "lading-testenv/buildkitd:x")
	t.Setenv("CI", "")
	t.Setenv("LADING_REQUIRE_ENGINE", "")
	r := run(func(tb testing.TB) { Docker(tb) })
	if !r.failed {
		t.Fatalf("want a failure for a dockerd that does not answer, got skipped=%v: %s", r.skipped, r.msg)
	}
}

// TestDockerAnswers is the Docker piece's smoke test: with `make test` it
// proves dockerd is up; elsewhere it skips.
func TestDockerAnswers(t *testing.T) {
	d := Docker(t)
	t.Logf("%s answers", d)
}
