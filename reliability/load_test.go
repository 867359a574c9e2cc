package reliability

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// TestEightPipelinesAtOnce runs eight different pipelines at the same time
// on one Engine: each writes its own input file, runs a step over it (a
// new container each, since every run's input is new) and exports the
// result to its own directory. All succeed, and each gets its own result.
func TestEightPipelinesAtOnce(t *testing.T) {
	e, _ := sharedEngine(t)
	run := token(t)
	const n = 8
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, n)
	t0 := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fmt.Sprintf("pipeline %d of run %s\n", i, run)
			c := sdk.From("debian:bookworm").
				WithNewFile("/work/in.txt", in).
				WithExec([]string{"sh", "-c", fmt.Sprintf("cd /work && sha256sum in.txt > sum.txt && echo %d > id.txt", i)})
			if i%2 == 1 {
				// Half of them also carry a cache volume of their own and a
				// second step.
				c = c.WithMountedCache("/cache", sdk.CacheVolume("rel-load-"+run+fmt.Sprint(i))).
					WithExec([]string{"sh", "-c", "cp /work/sum.txt /cache/ && wc -c < /cache/sum.txt > /work/size.txt"})
			}
			errs[i] = e.Export(t.Context(), c.Directory("/work"), filepath.Join(dir, fmt.Sprint(i)))
		}()
	}
	wg.Wait()
	t.Logf("%d pipelines in %s", n, time.Since(t0))
	for i := range n {
		if errs[i] != nil { // report each failed pipeline, check the others
			t.Errorf("pipeline %d: %v", i, errs[i])
			continue
		}
		out := filepath.Join(dir, fmt.Sprint(i))
		in := fmt.Sprintf("pipeline %d of run %s\n", i, run)
		sum := sha256.Sum256([]byte(in))
		assertFile(t, filepath.Join(out, "in.txt"), in)
		assertFile(t, filepath.Join(out, "sum.txt"), hex.EncodeToString(sum[:])+"  in.txt\n")
		assertFile(t, filepath.Join(out, "id.txt"), fmt.Sprintf("%d\n", i))
		if i%2 == 1 {
			assertFile(t, filepath.Join(out, "size.txt"), "73\n")
		}
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	dt, err := os.ReadFile(path)
	if assert.NoError(t, err) {
		assert.Equal(t, want, string(dt), path)
	}
}

// TestNoLeaksOverFiftyBuilds runs 50 builds in a row on one Engine (steps
// that run, steps read with Stdout, tarball outputs, plain progress), then
// 50 rounds of Connect, Build and Close, and checks that the client's
// goroutines and open file descriptors return to what they were.
func TestNoLeaksOverFiftyBuilds(t *testing.T) {
	e, env := sharedEngine(t)
	plain := e.With(engine.WithProgress(engine.ProgressPlain), engine.WithProgressOutput(io.Discard))
	run := token(t)
	dir := t.TempDir()
	build := func(i int) {
		t.Helper()
		switch i % 4 {
		case 0: // a step that runs
			_, err := e.Build(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"echo", run, fmt.Sprint(i)}))
			require.NoError(t, err)
		case 1: // a step's output
			out, err := e.Stdout(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"echo", run, fmt.Sprint(i)}))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%s %d\n", run, i), out)
		case 2: // a tarball written to disk
			path := filepath.Join(dir, "image.tar")
			_, err := e.Build(t.Context(), sdk.Scratch().WithNewFile("/f", run+fmt.Sprint(i)), engine.OCITarball(path))
			require.NoError(t, err)
			require.NoError(t, os.Remove(path))
		case 3: // plain progress, and a failing step
			_, err := plain.Build(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"sh", "-c", "exit 3; : " + run + fmt.Sprint(i)}))
			var xe *engine.ExecError
			require.ErrorAs(t, err, &xe)
		}
	}
	// Warm up: the first builds start connections and caches that stay.
	for i := range 4 {
		build(i)
	}
	time.Sleep(time.Second)
	runtime.GC()
	g0, f0 := runtime.NumGoroutine(), openFiles()
	t.Logf("before: %d goroutines, %d open files", g0, f0)

	t0 := time.Now()
	for i := range 50 {
		build(i)
	}
	g1, f1 := settle(g0, f0)
	t.Logf("after 50 builds on one engine (%s): %d goroutines, %d open files", time.Since(t0), g1, f1)
	assert.LessOrEqual(t, g1, g0+3, "goroutines grew over 50 builds")
	assert.LessOrEqual(t, f1, f0+2, "open files grew over 50 builds")

	t0 = time.Now()
	for i := range 50 {
		c, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
		require.NoError(t, err)
		_, err = c.Build(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"echo", run, fmt.Sprint(i % 4)}))
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
	g2, f2 := settle(g0, f0)
	t.Logf("after 50 rounds of Connect, Build, Close (%s): %d goroutines, %d open files", time.Since(t0), g2, f2)
	assert.LessOrEqual(t, g2, g0+3, "goroutines grew over 50 connections")
	assert.LessOrEqual(t, f2, f0+2, "open files grew over 50 connections")
}

// settle waits up to 5 s for the goroutines and open files to drop to the
// given counts (background goroutines of closed connections end
// asynchronously), and returns the counts.
func settle(goroutines, files int) (int, int) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		g, f := runtime.NumGoroutine(), openFiles()
		if (g <= goroutines && f <= files) || time.Now().After(deadline) {
			return g, f
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openFiles counts the process's open file descriptors.
func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestEventsFromConcurrentBuilds runs eight builds at once on one Engine
// made with WithEvents and WithProgressOutput. engine.WithEvents promises
// that fn "is called from one goroutine, in order", so a callback without
// a lock of its own must be safe; the progress writer (a bytes.Buffer, say)
// is shared by the builds the same way.
func TestEventsFromConcurrentBuilds(t *testing.T) {
	var inFlight, overlaps atomic.Int32
	var events []engine.Event // no lock: the contract says one goroutine
	fn := func(ev engine.Event) {
		if inFlight.Add(1) > 1 {
			overlaps.Add(1)
		}
		events = append(events, ev)
		time.Sleep(time.Millisecond)
		inFlight.Add(-1)
	}
	out := &overlapWriter{}
	e, _ := sharedEngine(t, engine.WithEvents(fn), engine.WithProgress(engine.ProgressPlain), engine.WithProgressOutput(out))
	run := token(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Build(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"sh", "-c", fmt.Sprintf("echo %s %d; echo second line", run, i)}))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	t.Logf("%d events, %d delivered while another was being delivered; %d progress writes overlapped", len(events), overlaps.Load(), out.overlaps.Load())
	assert.Zero(t, overlaps.Load(), "events of concurrent builds are delivered concurrently")
	assert.Zero(t, out.overlaps.Load(), "concurrent builds write progress concurrently")
}

// overlapWriter counts Write calls made while another is in progress.
type overlapWriter struct {
	inFlight, overlaps atomic.Int32
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if w.inFlight.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	time.Sleep(100 * time.Microsecond)
	w.inFlight.Add(-1)
	return len(p), nil
}
