package reliability

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/pipeline"
	"github.com/ladingbuild/lading/sdk"
)

// fleetRun is what one pipeline run on a fleet did: each target's summary.
type fleetRun struct {
	mu   sync.Mutex
	sums map[string]engine.Summary
}

// cached is the fraction of the run's steps that came from the cache.
func (r *fleetRun) cached(names ...string) float64 {
	ran, cached := 0, 0
	for _, n := range names {
		s := r.sums[n]
		ran, cached = ran+s.Ran, cached+s.Cached
	}
	if ran+cached == 0 {
		return 0
	}
	return float64(cached) / float64(ran+cached)
}

// engineOf is the engine a target ran on.
func (r *fleetRun) engineOf(name string) string {
	if s := r.sums[name]; s.Route != nil {
		return s.Route.Engine
	}
	return ""
}

// fleetPipeline is a pipeline of the named targets, each building three
// exec steps of its own (new in every test run, from tok) on
// debian:bookworm-slim; key, when set, gives each build its own routing
// key instead of the target's.
func fleetPipeline(tok string, names []string, key func(name string) string, run *fleetRun) *pipeline.Pipeline {
	p := pipeline.New("fleet")
	p.Output(io.Discard)
	for _, name := range names {
		p.Target(name, "", func(ctx context.Context, eng *engine.Engine) error {
			c := sdk.From("debian:bookworm-slim")
			for s := range 3 {
				c = c.WithExec([]string{"sh", "-c", fmt.Sprintf("echo %s %s %d > /step%d", tok, name, s, s)})
			}
			if key != nil {
				eng = eng.With(engine.WithFleetKey(key(name)))
			}
			res, err := eng.Build(ctx, c)
			if err != nil {
				return err
			}
			run.mu.Lock()
			defer run.mu.Unlock()
			run.sums[name] = res.Summary
			return nil
		})
	}
	return p
}

// runFleet runs the targets on a fleet and returns what they did.
func runFleet(t *testing.T, env testenv.Env, p func(*fleetRun) *pipeline.Pipeline, names []string, opts ...engine.Option) *fleetRun {
	t.Helper()
	run := &fleetRun{sums: map[string]engine.Summary{}}
	pl := p(run)
	pl.EngineOptions(append([]engine.Option{
		engine.Silent(), engine.WithProgress(engine.ProgressQuiet),
		engine.WithInsecureRegistry(env.Registry), engine.WithoutExplanations(),
	}, opts...)...)
	require.NoError(t, pl.Run(t.Context(), names))
	return run
}

// fleetNames picks six target names for a fleet of three engines growing
// to four: every engine of the three gets at least one, and at least one
// moves to the fourth (the routing is the addresses', random per test).
func fleetNames(t *testing.T, three, four *engine.Engine, fourth string) []string {
	t.Helper()
	for try := range 1000 {
		var names []string
		engines, moved := map[string]bool{}, 0
		for i := range 6 {
			n := fmt.Sprintf("t%d-%d", try, i)
			names = append(names, n)
			engines[three.RouteFor("fleet/"+n)] = true
			if four.RouteFor("fleet/"+n) == fourth {
				moved++
			}
		}
		if len(engines) == 3 && moved > 0 {
			return names
		}
	}
	t.Fatal("no six names cover the fleet")
	return nil
}

// TestFleetOnLoopback runs a six-target pipeline on a fleet of three
// buildkitd processes sharing one registry cache: the same target lands on
// the same engine run after run, the second run finds its steps cached,
// targets moved to a fourth engine find their cache in the registry, a
// failing step is not retried elsewhere, and an engine killed mid-build
// moves its build to the next engine and the pipeline succeeds.
func TestFleetOnLoopback(t *testing.T) {
	env := testenv.Require(t)
	ds := startDaemons(t, env, 4)
	abc, all := addrsOf(ds[:3]...), addrsOf(ds...)
	tok := token(t)
	cache := engine.WithFleetCache(env.Registry + "/lading-reliability/fleet-cache-" + tok)

	quiet := []engine.Option{engine.Silent(), engine.WithProgress(engine.ProgressQuiet), engine.WithInsecureRegistry(env.Registry)}
	three, err := engine.Connect(t.Context(), append(quiet, engine.WithFleet(abc...))...)
	require.NoError(t, err)
	defer three.Close()
	four, err := engine.Connect(t.Context(), append(quiet, engine.WithFleet(all...))...)
	require.NoError(t, err)
	defer four.Close()
	names := fleetNames(t, three, four, ds[3].addr)
	pipe := func(key func(string) string) func(*fleetRun) *pipeline.Pipeline {
		return func(r *fleetRun) *pipeline.Pipeline { return fleetPipeline(tok, names, key, r) }
	}

	first := runFleet(t, env, pipe(nil), names, engine.WithFleet(abc...), cache)
	assert.Zero(t, first.cached(names...), "the first run builds everything")
	second := runFleet(t, env, pipe(nil), names, engine.WithFleet(abc...), cache)
	for _, n := range names {
		assert.Equal(t, first.engineOf(n), second.engineOf(n), "target %s is sticky", n)
		assert.Equal(t, three.RouteFor("fleet/"+n), second.engineOf(n), "target %s is routed by its name", n)
	}
	assertFraction(t, "second run, sticky routing and a shared cache: steps cached", second.cached(names...), 0.95)

	// A fourth engine: the targets that move there find their cache in
	// the registry; the others stay where they were.
	grown := runFleet(t, env, pipe(nil), names, engine.WithFleet(all...), cache)
	var moved []string
	for _, n := range names {
		if grown.engineOf(n) == ds[3].addr {
			moved = append(moved, n)
		} else {
			assert.Equal(t, first.engineOf(n), grown.engineOf(n), "target %s stays", n)
		}
	}
	require.NotEmpty(t, moved)
	t.Logf("targets moved to the fourth engine: %v", moved)
	assertFraction(t, "targets moved to a fresh engine: steps cached", grown.cached(moved...), 0.95)

	// The baseline: random routing and no shared cache.
	random := runFleet(t, env, pipe(func(string) string { return token(t) }), names, engine.WithFleet(abc...))
	same := 0
	for _, n := range names {
		if random.engineOf(n) == first.engineOf(n) {
			same++
		}
	}
	t.Logf("second run, random routing without a shared cache: %.1f%% of steps cached (%d of %d targets landed on the engine that built them)",
		100*random.cached(names...), same, len(names))

	t.Run("a failing step is not retried", func(t *testing.T) {
		marker := "fleet-fail-" + token(t)
		var mu sync.Mutex
		starts := 0
		p := pipeline.New("fleet")
		p.Output(io.Discard)
		p.Target("fail", "", func(ctx context.Context, eng *engine.Engine) error {
			_, err := eng.Build(ctx, sdk.From("debian:bookworm-slim").WithExec([]string{"sh", "-c", "exit 3; : " + marker}))
			return err
		})
		p.EngineOptions(append(slices.Clip(quiet), engine.WithFleet(abc...), engine.WithoutExplanations(),
			engine.WithEvents(func(ev engine.Event) {
				if ev.Kind == engine.StepStarted && strings.Contains(ev.Name, marker) {
					mu.Lock()
					starts++
					mu.Unlock()
				}
			}))...)
		err := p.Run(t.Context(), []string{"fail"})
		var xe *engine.ExecError
		require.ErrorAs(t, err, &xe)
		assert.Equal(t, 3, xe.ExitCode)
		assert.Equal(t, 1, starts, "the step ran once, on one engine")
	})

	t.Run("an engine killed mid-build", func(t *testing.T) {
		marker := "fleet-kill-" + token(t)
		onStart, started := stepStarted(marker)
		victim := three.RouteFor("fleet/slow")
		var res *engine.Result
		outDir := t.TempDir()
		dest := filepath.Join(outDir, "out.txt")
		p := pipeline.New("fleet")
		p.Output(io.Discard)
		p.Target("slow", "", func(ctx context.Context, eng *engine.Engine) error {
			var err error
			built := sdk.From("debian:bookworm-slim").WithExec([]string{"sh", "-c", "sleep 3; echo " + marker + " >/out.txt"})
			res, err = eng.Build(ctx, built.File("/out.txt"), engine.LocalPath(dest))
			return err
		})
		p.EngineOptions(append(slices.Clip(quiet), engine.WithFleet(abc...), engine.WithoutExplanations(), engine.WithEvents(onStart))...)
		errc := make(chan error, 1)
		go func() { errc <- p.Run(t.Context(), []string{"slow"}) }()
		select {
		case <-started:
		case err := <-errc:
			t.Fatalf("the pipeline ended before the engine was killed: %v", err)
		}
		for _, d := range ds {
			if d.addr == victim {
				d.kill(t)
			}
		}
		require.NoError(t, <-errc, "the pipeline succeeds")
		require.NotNil(t, res.Summary.Route)
		assert.Equal(t, victim, res.Summary.Route.MovedFrom)
		assert.NotEqual(t, victim, res.Summary.Route.Engine)
		assert.Contains(t, res.Summary.Route.Why, "went away")
		assert.Contains(t, res.Summary.String(), "moved from engine "+victim)
		// The output on the host is the second attempt's, whole, and the
		// dead attempt left nothing beside it.
		got, err := os.ReadFile(dest)
		require.NoError(t, err)
		assert.Equal(t, marker+"\n", string(got))
		entries, err := os.ReadDir(outDir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "only the output: no temporary file of either attempt")
		t.Logf("%s", res.Summary.Route)
	})
}
