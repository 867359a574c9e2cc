package reliability

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
)

// TestCancelLeavesEngineHealthy cancels a build while its step runs (a
// process inside a container, with a tarball output pending) and then
// uses the same Engine again: the cancelled build returns within 2 s with
// an error matching context.Canceled, the step's process is gone, nothing
// is left at the output path, and the following builds on the same
// Engine succeed.
//
// engine.TestCancel covers the 2 s bound on a scratch container; this test
// adds the engine's health afterwards.
func TestCancelLeavesEngineHealthy(t *testing.T) {
	marker := "rel-cancel-" + token(t)
	onStart, started := stepStarted(marker)
	e, _ := sharedEngine(t, engine.WithEvents(onStart))

	prog := sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "sleep 30; : " + marker})
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := e.Build(ctx, prog, engine.OCITarball(filepath.Join(outDir, "image.tar")))
		errc <- err
	}()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("the build ended before its step started: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the step did not start")
	}
	// Wait until the step's process runs in its container.
	for deadline := time.Now().Add(20 * time.Second); len(pidsWithArg(marker)) == 0; time.Sleep(10 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the step's process never appeared")
	}
	procs := pidsWithArg(marker)

	cancel()
	t0 := time.Now()
	var err error
	select {
	case err = <-errc:
	case <-time.After(10 * time.Second):
		t.Fatal("Build did not return within 10 s of cancellation")
	}
	took := time.Since(t0)
	t.Logf("cancelled build returned after %s: %v", took, err)
	require.Error(t, err)
	assert.Less(t, took, 2*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	var xe *engine.ExecError
	assert.NotErrorAs(t, err, &xe, "a cancelled build is not a failed step")
	assert.Empty(t, dirNames(t, outDir), "no output and no temporary file")
	for _, pid := range procs {
		assert.True(t, waitGone(pid, 10*time.Second), "the cancelled step's process %d is killed", pid)
	}

	// The same engine: a step that runs, and one whose output is read.
	res, err := e.Build(t.Context(), sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "sleep 0.1; : " + marker}))
	require.NoError(t, err, "a build after the cancelled one")
	assert.Equal(t, 1, res.Summary.Ran, "%s", res.Summary)
	out, err := e.Stdout(t.Context(), sdk.From("debian:bookworm").WithExec([]string{"echo", "healthy", marker}))
	require.NoError(t, err)
	assert.Equal(t, "healthy "+marker+"\n", out)
}
