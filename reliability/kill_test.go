package reliability

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// localEngineOptions are the options of a local engine started by a test:
// the test environment's buildkitd, pulling docker.io through its registry.
func localEngineOptions(bin string, env testenv.Env, more ...engine.Option) []engine.Option {
	return append([]engine.Option{
		engine.WithBuildkitd(bin),
		engine.WithRegistryMirror("docker.io", env.Registry),
		engine.WithInsecureRegistry(env.Registry),
		engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet),
	}, more...)
}

// killDuring starts build in the background on a local engine the test
// started, calls when to wait for the moment to strike, kills the engine's
// buildkitd with SIGKILL and returns the build's error and how long the
// build took to return after the kill.
func killDuring(t *testing.T, build func() error, when func() bool) (time.Duration, error) {
	t.Helper()
	st, err := engine.LocalStatus(t.Context())
	require.NoError(t, err)
	require.True(t, st.Running)
	require.NotZero(t, st.PID)

	errc := make(chan error, 1)
	go func() { errc <- build() }()
	deadline := time.Now().Add(2 * time.Minute)
	for !when() {
		select {
		case err := <-errc:
			t.Fatalf("the build ended before the engine was killed: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the moment to kill the engine never came")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, syscall.Kill(st.PID, syscall.SIGKILL))
	killed := time.Now()
	var buildErr error
	select {
	case buildErr = <-errc:
	case <-time.After(30 * time.Second):
		t.Fatal("the build did not return within 30 s of the engine's death")
	}
	took := time.Since(killed)
	require.True(t, waitGone(st.PID, 10*time.Second), "buildkitd pid %d survived SIGKILL", st.PID)
	t.Logf("killed buildkitd pid %d; the build returned %s later: %v", st.PID, took, buildErr)
	return took, buildErr
}

// requireEngineGone checks the error of a call that the engine's death
// interrupted: it says the engine went away, at which address, wraps
// engine.ErrNoEngine, and is not raw gRPC text.
func requireEngineGone(t *testing.T, e *engine.Engine, err error) {
	t.Helper()
	require.ErrorIs(t, err, engine.ErrNoEngine)
	require.NotErrorIs(t, err, context.Canceled)
	first := firstLine(err)
	assert.Contains(t, first, "went away", "says what happened first, not gRPC's words")
	assert.Contains(t, first, e.Address(), "names the engine's address")
	assert.False(t, strings.HasPrefix(err.Error(), "rpc error"), "not raw gRPC text: %v", err)
	assert.Contains(t, err.Error(), "the next engine.Connect starts it again", "says what to do")
}

// rebuildAfterKill connects again as a user's next run would: Connect
// must start a fresh local engine over what the dead one left (its
// socket, pid file, state, and containers that may still be running) and
// build the same program into the same output.
func rebuildAfterKill(t *testing.T, root string, opts []engine.Option, oldPID int, prog sdk.Value, outDir, outFile string) {
	t.Helper()
	leftMounts := mountsUnder(root)
	t.Logf("left behind by the dead engine: runc containers %+v; mounts %v", runcContainers(root), leftMounts)
	e, err := engine.Connect(t.Context(), opts...)
	require.NoError(t, err, "Connect after the engine was killed")
	defer e.Close()
	assert.Equal(t, engine.OriginStarted, e.Origin(), "a fresh local engine is started")
	st, err := engine.LocalStatus(t.Context())
	require.NoError(t, err)
	assert.True(t, st.Running)
	assert.NotEqual(t, oldPID, st.PID)
	now := mountsUnder(root)
	for _, mp := range leftMounts {
		assert.NotContains(t, now, mp, "the new engine cleared the dead one's mounts")
	}

	t0 := time.Now()
	res, err := e.Build(t.Context(), prog, engine.OCITarball(filepath.Join(outDir, outFile)))
	require.NoError(t, err, "the same program builds on the new engine")
	t.Logf("rebuilt in %s: %s", time.Since(t0), strings.ReplaceAll(res.Summary.String(), "\n", "; "))
	assert.Equal(t, []string{outFile}, dirNames(t, outDir), "the output, and nothing beside it")
	fi, err := os.Stat(filepath.Join(outDir, outFile))
	require.NoError(t, err)
	assert.NotZero(t, fi.Size())
}

// TestEngineKilledMidStep kills the local engine (SIGKILL, by the pid
// LocalStatus reports) while a step runs, with an OCI tarball output
// pending.
func TestEngineKilledMidStep(t *testing.T) {
	bin := testenv.Buildkitd(t)
	env := testenv.Require(t)
	root := isolateLocal(t)

	marker := "rel-kill-" + token(t)
	onStart, started := stepStarted(marker)
	opts := localEngineOptions(bin, env)
	e, err := engine.Connect(t.Context(), append(opts, engine.WithEvents(onStart))...)
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, engine.OriginStarted, e.Origin())
	st, err := engine.LocalStatus(t.Context())
	require.NoError(t, err)

	prog := sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "sleep 8; echo done > /done; : " + marker})
	outDir := t.TempDir()
	took, buildErr := killDuring(t, func() error {
		_, err := e.Build(t.Context(), prog, engine.OCITarball(filepath.Join(outDir, "image.tar")))
		return err
	}, func() bool {
		select {
		case <-started:
			// Strike once the step's process runs in its container.
			return len(pidsWithArg(marker)) > 0
		default:
			return false
		}
	})
	require.Error(t, buildErr)
	assert.Less(t, took, 5*time.Second, "the build returns within 5 s of the engine's death")
	require.NotErrorIs(t, buildErr, context.Canceled, "the engine died; nobody cancelled")
	requireEngineGone(t, e, buildErr)
	assert.Empty(t, dirNames(t, outDir), "no output file and no temporary file")

	_, err = e.Status(t.Context())
	requireEngineGone(t, e, err)

	rebuildAfterKill(t, root, opts, st.PID, prog, outDir, "image.tar")
}

// TestEngineKilledWhileWritingOutput kills the local engine while it
// streams an OCI tarball to the client: the half-written temporary file
// beside the output path must go, and nothing may appear at the path.
func TestEngineKilledWhileWritingOutput(t *testing.T) {
	bin := testenv.Buildkitd(t)
	env := testenv.Require(t)
	root := isolateLocal(t)

	opts := localEngineOptions(bin, env)
	e, err := engine.Connect(t.Context(), opts...)
	require.NoError(t, err)
	defer e.Close()
	st, err := engine.LocalStatus(t.Context())
	require.NoError(t, err)

	// 64 MiB of random data: compressing and sending the layer takes long
	// enough to strike in the middle.
	prog := sdk.From("debian:bookworm").
		WithExec([]string{"sh", "-c", "head -c 67108864 /dev/urandom > /big; : " + token(t)})
	outDir := t.TempDir()
	dest := filepath.Join(outDir, "image.tar")
	var seen string
	took, buildErr := killDuring(t, func() error {
		_, err := e.Build(t.Context(), prog, engine.OCITarball(dest))
		return err
	}, func() bool {
		// Strike once the temporary file beside dest holds data.
		ents, _ := os.ReadDir(outDir)
		for _, ent := range ents {
			if fi, err := ent.Info(); err == nil && fi.Size() > 0 {
				seen = ent.Name()
				return true
			}
		}
		return false
	})
	t.Logf("killed while %s was being written", seen)
	assert.True(t, strings.HasPrefix(seen, ".image.tar.tmp-"), "written under a temporary name: %s", seen)
	require.Error(t, buildErr)
	assert.Less(t, took, 5*time.Second, "the build returns within 5 s of the engine's death")
	requireEngineGone(t, e, buildErr)
	assert.Empty(t, dirNames(t, outDir), "the half-written file is removed and nothing is at the path")

	rebuildAfterKill(t, root, opts, st.PID, prog, outDir, "image.tar")
}
