package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The runner metrics: a CI runner that starts with an empty engine. Each
// side is a fresh local engine (new state directory under the benchmark's
// temporary directory, pulling through the test registry) building
// examples/multistage with one Go source file changed since the build that
// filled the caches:
//   - runner-layers imports BuildKit's layer cache only (WithCacheFrom:
//     what buildx and bake offer), so `go test` and `go build` start with an
//     empty Go build cache;
//   - runner-warm imports the layers and the cache volumes (WithCache,
//     read-only, so it saves nothing);
//   - runner-local is the long-lived engine that built the previous
//     version: the ceiling.
// Then the warm engine saves (WithCache, read-write): runner-save is the
// time that build takes (every step cached: the save is what it does), and
// runner-save-bytes the size of the layers the save pushed against the
// size of the volumes' saves.

const (
	runnerWarmTarget = 0.35
	runnerSaveTarget = 0.1
)

// freshEngine is a local engine of the benchmark's own, with empty state.
type freshEngine struct {
	dir  string
	addr string
}

func startFresh(ctx context.Context, c *config, name string) (*freshEngine, error) {
	f := &freshEngine{dir: filepath.Join(c.work, "runner-"+name)}
	mirror := benchRegistry()
	opts := []engine.Option{engine.Silent(), engine.WithRegistryMirror("docker.io", mirror), engine.WithInsecureRegistry(mirror)}
	if c.buildkitd != "" {
		opts = append(opts, engine.WithBuildkitd(c.buildkitd))
	}
	err := withXDG(filepath.Join(f.dir, "run"), filepath.Join(f.dir, "cache"), func() error {
		info, err := engine.StartLocal(ctx, opts...)
		if err != nil {
			return err
		}
		f.addr = info.Address
		return nil
	})
	return f, err
}

func (f *freshEngine) stop(c *config) {
	if err := withXDG(filepath.Join(f.dir, "run"), filepath.Join(f.dir, "cache"), func() error {
		return engine.StopLocal(context.Background())
	}); err != nil {
		c.logf("stopping %s: %v", f.dir, err)
	}
	os.RemoveAll(f.dir)
}

// build builds the example from dir on the engine, timed.
func (f *freshEngine) build(ctx context.Context, dir string, opts ...engine.Option) (float64, *engine.Result, error) {
	var res *engine.Result
	secs, err := timed(func() error {
		eng, err := engine.Connect(ctx, append([]engine.Option{engine.WithAddress(f.addr), engine.Silent(),
			engine.WithProgress(engine.ProgressQuiet), engine.WithInsecureRegistry(benchRegistry())}, opts...)...)
		if err != nil {
			return err
		}
		defer eng.Close()
		res, err = eng.Build(ctx, graph.Image(graph.Build(sdk.Host(dir), benchProxy()), "dev"))
		return err
	})
	return secs, res, err
}

func benchRegistry() string {
	if r := os.Getenv("LADING_TEST_REGISTRY"); r != "" {
		return r
	}
	return "127.0.0.1:5000"
}

// runnerSource is a copy of the example's service with main.go changed by
// a constant.
func runnerSource(c *config, name, nonce string) (string, error) {
	dir := filepath.Join(c.work, "runner-src-"+name)
	if err := copyDir(c.app, dir); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "main.go")
	dt, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	dt = append(dt, []byte("\nconst benchNonce = "+strconv.Quote(nonce)+"\n")...)
	return dir, os.WriteFile(p, dt, 0o644)
}

func runner(ctx context.Context, c *config) ([]Row, error) {
	if c.app == "" {
		return nil, fmt.Errorf("cannot find examples/multistage/app: run from the repository root or pass -app")
	}
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	repo := "lading-bench/runner"
	cache := engine.RegistryCache(benchRegistry() + "/" + repo + ":" + nonce)
	before, err := runnerSource(c, "before", nonce+"-before")
	if err != nil {
		return nil, err
	}
	after, err := runnerSource(c, "after", nonce+"-after")
	if err != nil {
		return nil, err
	}

	// The build that fills the caches, on the engine that stays.
	local, err := startFresh(ctx, c, "local")
	if err != nil {
		return nil, err
	}
	defer local.stop(c)
	c.logf("runner: filling the caches (%s)", cache)
	if _, _, err := local.build(ctx, before, engine.WithCache(cache)); err != nil {
		return nil, fmt.Errorf("filling the caches: %w", err)
	}

	side := func(name string, opts ...engine.Option) (float64, *freshEngine, error) {
		f, err := startFresh(ctx, c, name)
		if err != nil {
			return 0, nil, err
		}
		secs, res, err := f.build(ctx, after, opts...)
		if err == nil && len(res.Summary.Warnings) > 0 {
			c.logf("runner: %s warnings: %v", name, res.Summary.Warnings)
		}
		c.logf("runner: %s %.2fs", name, secs)
		return secs, f, err
	}
	layers, lf, err := side("layers", engine.WithCacheFrom(cache))
	if lf != nil {
		defer lf.stop(c)
	}
	if err != nil {
		return nil, fmt.Errorf("runner-layers: %w", err)
	}
	warm, wf, err := side("warm", engine.WithCache(cache.ReadOnly()))
	if wf != nil {
		defer wf.stop(c)
	}
	if err != nil {
		return nil, fmt.Errorf("runner-warm: %w", err)
	}
	ceiling, _, err := local.build(ctx, after)
	if err != nil {
		return nil, fmt.Errorf("runner-local: %w", err)
	}
	c.logf("runner: local %.2fs", ceiling)

	vols := []string{"go-build", "go-mod"}
	old, _, err := volumeLayers(ctx, repo, nonce, vols)
	if err != nil {
		return nil, err
	}
	save, _, err := wf.build(ctx, after, engine.WithCache(cache))
	if err != nil {
		return nil, fmt.Errorf("runner-save: %w", err)
	}
	now, total, err := volumeLayers(ctx, repo, nonce, vols)
	if err != nil {
		return nil, err
	}
	var pushed int64
	for d, size := range now {
		if _, ok := old[d]; !ok {
			pushed += size
		}
	}
	c.logf("runner: save %.2fs, %d of %d bytes", save, pushed, total)

	note := "examples/multistage, main.go changed, each side a fresh engine (new state dir) unless local; layers = WithCacheFrom (BuildKit's layer cache), warm = WithCache (layers + cache volumes), local = the engine that built the previous version"
	return []Row{
		{Name: "runner-warm", Unit: Seconds, Lading: warm, Peer: layers, Check: Ratio, Target: runnerWarmTarget, Note: note},
		{Name: "runner-layers", Unit: Seconds, Lading: layers, Peer: math.NaN()},
		{Name: "runner-local", Unit: Seconds, Lading: ceiling, Peer: math.NaN()},
		{Name: "runner-save", Unit: Seconds, Lading: save, Peer: math.NaN(),
			Note: "a build with every step cached that saves the changed volumes; runner-save-bytes: the new layers' size over the saves' size"},
		{Name: "runner-save-bytes", Unit: Bytes, Lading: float64(pushed), Peer: float64(total), Check: Ratio, Target: runnerSaveTarget},
	}, nil
}

func runRunner(ctx context.Context, c *config) []Row {
	rows, err := runner(ctx, c)
	if err != nil {
		return []Row{{Name: "runner-warm", Unit: Seconds, Check: Ratio, Target: runnerWarmTarget, Err: err, Lading: math.NaN(), Peer: math.NaN()}}
	}
	return append(rows, javaRows(ctx, c, "lading-bench/runner", strconv.FormatInt(time.Now().UnixNano(), 36))...)
}

// volumeLayers lists the layers of the volumes' saves in the test
// registry: digest -> size, and the total size.
func volumeLayers(ctx context.Context, repo, tag string, vols []string) (map[string]int64, int64, error) {
	out := map[string]int64{}
	var total int64
	for _, v := range vols {
		url := "http://" + benchRegistry() + "/v2/" + repo + "/manifests/" + tag + "-vol-" + v
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, 0, err
		}
		req.Header.Set("Accept", ocispecs.MediaTypeImageManifest)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, 0, err
		}
		var m ocispecs.Manifest
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, 0, fmt.Errorf("reading %s: %s", url, resp.Status)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s: %w", url, err)
		}
		for _, l := range m.Layers {
			out[l.Digest.String()] = l.Size
			total += l.Size
		}
	}
	return out, total, nil
}
