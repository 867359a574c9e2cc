package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// The docker-load metric: getting a built image into the local Docker
// daemon with engine.DockerLoad (the exporter's stream straight into the
// daemon's load API, layers uncompressed) against what users did without
// it — a Docker tarball, then `docker load -i` — for an image with a 50 MB
// layer of its own, fully cached in the engine, the image removed from
// the daemon before each run. Interleaved, on one engine and one daemon.

const dockerLoadTarget = 0.75

// dockerLoadImage adds a 50 MB layer of random bytes (cached after the
// first build: the step's cache key does not depend on what it wrote).
func dockerLoadImage() *sdk.Container {
	return sdk.From("debian:bookworm-slim").
		WithExec([]string{"sh", "-c", "head -c 50000000 /dev/urandom > /blob"})
}

func runDockerLoad(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("docker-load", Seconds, Ratio, dockerLoadTarget)}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	host := os.Getenv("LADING_TEST_DOCKER_HOST")
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		return failed(rows, errors.New("needs a Docker daemon: set LADING_TEST_DOCKER_HOST (hack/testenv.sh up; eval \"$(hack/testenv.sh env)\") or DOCKER_HOST"))
	}
	cli := os.Getenv("LADING_TEST_DOCKER_CLI")
	if cli == "" {
		cli = "/usr/bin/docker" // Debian's; another program named docker may come first on PATH
	}
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.WithDockerHost(host), engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet), engine.WithSourceDateEpoch(time.Unix(1, 0)))
	if err != nil {
		return failed(rows, err)
	}
	defer eng.Close()
	const tag = "lading-bench/docker-load:latest"
	docker := func(args ...string) error {
		out, err := exec.CommandContext(ctx, cli, append([]string{"-H", host}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %v: %w: %s", cli, args, err, out)
		}
		return nil
	}
	defer docker("image", "rm", "-f", tag) //nolint:errcheck // best effort
	if _, err := eng.Build(ctx, dockerLoadImage()); err != nil {
		return failed(rows, err)
	}
	load := func(int) (float64, error) {
		if err := docker("image", "rm", "-f", tag); err != nil {
			return 0, err
		}
		return timed(func() error { _, err := eng.Build(ctx, dockerLoadImage(), engine.DockerLoad(tag)); return err })
	}
	tarball := func(i int) (float64, error) {
		if err := docker("image", "rm", "-f", tag); err != nil {
			return 0, err
		}
		path := filepath.Join(c.work, fmt.Sprintf("docker-load-%d.tar", i))
		defer os.Remove(path)
		return timed(func() error {
			if _, err := eng.Build(ctx, dockerLoadImage(), engine.DockerTarball(path, tag)); err != nil {
				return err
			}
			return docker("load", "-q", "-i", path)
		})
	}
	p, err := interleave(c.runs, load, tarball)
	if err != nil {
		return failed(rows, err)
	}
	rows[0] = p.row("docker-load", Seconds, Ratio, dockerLoadTarget)
	rows[0].Note = fmt.Sprintf("lading column: engine.DockerLoad of a cached image with a 50 MB layer into dockerd %s; peer column: engine.DockerTarball, then docker load -i; load %s, tarball %s",
		host, spread(p.a, Seconds), spread(p.b, Seconds))
	return rows
}
