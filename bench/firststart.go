package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ladingbuild/lading/engine"
)

// The engine-first-start metric: the local engine's first start on a
// machine that has never run it — empty cache and runtime directories, no
// buildkitd on PATH nor set — with the moby/buildkit image reachable
// through a docker.io mirror (the test environment's registry serves a
// stand-in of the pinned version, hack/testenv.d/firststart.sh). Timed:
// engine.StartLocal (pull buildkitd and buildctl, check their version,
// cache them, start) plus the first answer (Connect). The engine is
// stopped and its directories removed after each run, untimed. The old
// path, building buildkitd from its Go module, measured 243 s here on 2
// cores; it is not run again.

const firstStartTarget = 15 // seconds

// oldFirstStart is the first start by building buildkitd from the module,
// measured once on these machines (issue 16).
const oldFirstStart = 243.0

// withoutBuildkitd runs f with no buildkitd on PATH and none named in the
// environment, as on a fresh machine, restoring the environment after.
func withoutBuildkitd(f func() error) error {
	saved := map[string]*string{}
	for _, k := range []string{"PATH", "LADING_BUILDKITD", "LADING_ENGINE_IMAGE"} {
		if v, ok := os.LookupEnv(k); ok {
			saved[k] = &v
		} else {
			saved[k] = nil
		}
	}
	defer func() {
		for k, v := range saved {
			if v != nil {
				os.Setenv(k, *v)
			} else {
				os.Unsetenv(k)
			}
		}
	}()
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "buildkitd")); err != nil {
			dirs = append(dirs, d)
		}
	}
	os.Setenv("PATH", strings.Join(dirs, string(os.PathListSeparator)))
	os.Unsetenv("LADING_BUILDKITD")
	os.Unsetenv("LADING_ENGINE_IMAGE")
	return f()
}

// firstStart times one first start in dir; it returns where the binary
// came from.
func firstStart(ctx context.Context, dir, registry string) (secs float64, src *engine.BinarySource, err error) {
	err = withXDG(filepath.Join(dir, "run"), filepath.Join(dir, "cache"), func() error {
		return withoutBuildkitd(func() error {
			var err error
			secs, err = timed(func() error {
				info, err := engine.StartLocal(ctx, engine.Silent(),
					engine.WithRegistryMirror("docker.io", registry), engine.WithInsecureRegistry(registry))
				if err != nil {
					return err
				}
				src = info.Source
				eng, err := engine.Connect(ctx, engine.WithAddress(info.Address), engine.Silent())
				if err != nil {
					return err
				}
				return eng.Close()
			})
			if stopErr := engine.StopLocal(context.WithoutCancel(ctx)); err == nil {
				err = stopErr
			}
			return err
		})
	})
	return secs, src, err
}

func runFirstStart(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("engine-first-start", Seconds, Absolute, firstStartTarget)}
	if os.Geteuid() != 0 {
		return failed(rows, errors.New("starting a local engine needs root"))
	}
	registry := benchRegistry()
	var times []float64
	var src *engine.BinarySource
	for i := range c.runs {
		dir, err := os.MkdirTemp(c.work, fmt.Sprintf("first-start-%d-", i))
		if err != nil {
			return failed(rows, err)
		}
		secs, s, err := firstStart(ctx, dir, registry)
		os.RemoveAll(dir)
		if err != nil {
			return failed(rows, err)
		}
		if s == nil || s.From != engine.BinaryFromImage {
			return failed(rows, fmt.Errorf("the first start did not take buildkitd from the image (source: %s); run hack/testenv.sh up", s))
		}
		src = s
		times = append(times, secs)
		c.logf("engine first start run %d/%d: %s", i+1, c.runs, formatValue(secs, Seconds))
	}
	rows[0].Lading = median(times)
	rows[0].Note = fmt.Sprintf("engine.StartLocal + first answer on an empty cache, buildkitd and buildctl taken from %s@%s via the mirror %s; %s; "+
		"the old path (buildkitd built from its Go module) took %s here, %.0f× longer",
		src.Image, shortDigest(src.Digest), registry, spread(times, Seconds), formatValue(oldFirstStart, Seconds), oldFirstStart/rows[0].Lading)
	return rows
}

// shortDigest cuts a digest for a note: "sha256:969541e7c4be".
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
