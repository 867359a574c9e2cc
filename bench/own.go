package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/ladingbuild/lading/engine"
)

// ownEngine is a private local engine the benchmark started (-own-engine):
// state in a temporary directory, so that it may be pruned, and removed at
// the end. It pulls docker.io images through the test environment's
// registry (LADING_TEST_REGISTRY, default 127.0.0.1:5000), like the test
// environment's engine.
type ownEngine struct {
	runDir, cacheDir string
}

func startOwnEngine(ctx context.Context, c *config) (*ownEngine, error) {
	dir := filepath.Join(c.work, "own-engine")
	o := &ownEngine{runDir: filepath.Join(dir, "run"), cacheDir: filepath.Join(dir, "cache")}
	mirror := os.Getenv("LADING_TEST_REGISTRY")
	if mirror == "" {
		mirror = "127.0.0.1:5000"
	}
	opts := []engine.Option{engine.Silent(), engine.WithRegistryMirror("docker.io", mirror), engine.WithInsecureRegistry(mirror)}
	if c.buildkitd != "" {
		opts = append(opts, engine.WithBuildkitd(c.buildkitd))
	}
	err := withXDG(o.runDir, o.cacheDir, func() error {
		info, err := engine.StartLocal(ctx, opts...)
		if err != nil {
			return err
		}
		c.addr, c.addrFrom = info.Address, "private engine, -own-engine"
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.allowPrune = true
	return o, nil
}

func (o *ownEngine) stop(c *config) {
	err := withXDG(o.runDir, o.cacheDir, func() error { return engine.StopLocal(context.Background()) })
	if err != nil {
		c.logf("stopping the private engine: %v", err)
	}
}
