package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The record of the running binary is found when the engine's pid is not
// buildkitd's own: the rootless engine's pid is rootlesskit's, and
// buildkitd runs two processes below it. Here a shell runs a shell that
// runs a copy of sleep standing in for the cached buildkitd. Before,
// lading engine status showed no binary line for a rootless engine.
func TestRunningSourceBelowTheEnginePID(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	dt, err := os.ReadFile(sleep)
	require.NoError(t, err)
	p := localPaths{binary: filepath.Join(t.TempDir(), "bin", "buildkitd")}
	require.NoError(t, os.MkdirAll(filepath.Dir(p.binary), 0o755))
	require.NoError(t, os.WriteFile(p.binary, dt, 0o755))
	rec := &BinarySource{From: BinaryFromImage, Version: buildkitVersion(), Digest: "sha256:" + "1234"}
	require.NoError(t, writeSource(p.binary, rec))

	// "; true" keeps each shell from exec'ing its last command.
	cmd := exec.Command("sh", "-c", `sh -c "\"$0\" 30; true"; true`, p.binary) //nolint:gosec // the test's own file
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	var got *BinarySource
	require.Eventually(t, func() bool {
		got = runningSource(p, cmd.Process.Pid, true)
		return got != nil
	}, 5*time.Second, 10*time.Millisecond, "the record of the binary two processes below the pid")
	assert.Equal(t, rec.Digest, got.Digest)

	other := exec.Command(sleep, "30")
	require.NoError(t, other.Start())
	t.Cleanup(func() {
		_ = other.Process.Kill()
		_ = other.Wait()
	})
	assert.Nil(t, runningSource(p, other.Process.Pid, true), "a process that runs another file with the same content")
}
