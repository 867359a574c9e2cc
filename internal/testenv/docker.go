package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// DockerEnv is the test environment's Docker and Podman
// (hack/testenv.d/docker.sh).
type DockerEnv struct {
	// Host is dockerd's address (LADING_TEST_DOCKER_HOST), e.g.
	// unix:///run/lading-testenv/docker.sock: Debian's Docker 20.10.
	Host string
	// CLI is Debian's docker CLI (LADING_TEST_DOCKER_CLI). Another program
	// named docker comes first on PATH on the test machines: run this one
	// by its path, never plain "docker".
	CLI string
	// Podman is Debian's podman (LADING_TEST_PODMAN) and PodmanHost the
	// address of its Docker-compatible API service (LADING_TEST_PODMAN_HOST).
	Podman, PodmanHost string
	// BuildkitdImage is the image, loaded in that dockerd, that runs the
	// test environment's buildkitd (LADING_TEST_BUILDKITD_IMAGE).
	BuildkitdImage string
}

// Docker returns the test environment's Docker and Podman, checking once
// that dockerd answers. Without them it skips the test, or fails it when
// [Required].
func Docker(t testing.TB) DockerEnv {
	t.Helper()
	env := DockerEnv{
		Host:           os.Getenv("LADING_TEST_DOCKER_HOST"),
		CLI:            os.Getenv("LADING_TEST_DOCKER_CLI"),
		Podman:         os.Getenv("LADING_TEST_PODMAN"),
		PodmanHost:     os.Getenv("LADING_TEST_PODMAN_HOST"),
		BuildkitdImage: os.Getenv("LADING_TEST_BUILDKITD_IMAGE"),
	}
	if env.Host == "" || env.CLI == "" || env.Podman == "" || env.PodmanHost == "" || env.BuildkitdImage == "" {
		msg := "test needs dockerd and podman from the test environment (LADING_TEST_DOCKER_HOST, LADING_TEST_DOCKER_CLI, " +
			"LADING_TEST_PODMAN, LADING_TEST_PODMAN_HOST, LADING_TEST_BUILDKITD_IMAGE): run `hack/testenv.sh up && eval \"$(hack/testenv.sh env)\"`"
		if Required() {
			t.Fatal(msg + " (required: CI or LADING_REQUIRE_ENGINE=1 is set)")
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, env.CLI, "-H", env.Host, "version", "--format", "{{.Server.APIVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("dockerd at %s does not answer: %v: %s (run `hack/testenv.sh up`; log in /run/lading-testenv/dockerd.log)", env.Host, err, out)
	}
	return env
}

// Run runs Debian's docker CLI against the test environment's dockerd
// and returns its stdout; a failure fails the test with its output.
func (d DockerEnv) Run(t testing.TB, args ...string) string {
	t.Helper()
	return runTool(t, d.CLI, append([]string{"-H", d.Host}, args...))
}

// RunPodman runs podman against the test environment's Podman service
// (podman --remote) and returns its stdout.
func (d DockerEnv) RunPodman(t testing.TB, args ...string) string {
	t.Helper()
	return runTool(t, d.Podman, append([]string{"--remote", "--url", d.PodmanHost}, args...))
}

func runTool(t testing.TB, bin string, args []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", bin, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// String describes the environment for messages.
func (d DockerEnv) String() string {
	return fmt.Sprintf("dockerd %s, podman %s", d.Host, d.PodmanHost)
}
