package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// TestGraphLint: with GraphEnv=lint the program answers with its images'
// findings, under the lint target's options and the lock, and runs no
// target (there is no engine to run one on).
func TestGraphLint(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "answer.json")
	lockPath := filepath.Join(dir, "lading.lock")
	f := lock.New()
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", "sha256:"+strings.Repeat("a", 64))
	require.NoError(t, f.Write(lockPath))
	t.Setenv(GraphEnv, GraphLint)
	t.Setenv(GraphOutEnv, out)
	t.Setenv(GraphLockEnv, lockPath)

	p, _ := noEngine()
	p.ImageTargets(Image{Name: "app", Build: func() *sdk.Container {
		return sdk.From("debian:bookworm").WithUser("root")
	}})
	p.LintTarget(Lint{Options: []lint.Option{lint.FailOn(lint.Warning)}})
	require.NoError(t, p.Run(t.Context(), nil))
	var ans GraphAnswer
	dt, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &ans))
	assert.Equal(t, []string{"app"}, ans.Images)
	assert.Equal(t, 1, ans.Failing, ans.Text)
	assert.Contains(t, ans.Text, "[root-user]")
	assert.NotContains(t, ans.Text, "[base-unpinned]", "the lock pins the tag")
	assert.Contains(t, string(ans.Lint), `"rule":"root-user"`)
}

// TestGraphErrors: a bad mode or no answer file is an error, not a build.
func TestGraphErrors(t *testing.T) {
	p, _ := noEngine()
	p.ImageTargets(Image{Name: "app", Build: func() *sdk.Container { return sdk.From(pinnedBase) }})
	t.Setenv(GraphEnv, "explode")
	t.Setenv(GraphOutEnv, filepath.Join(t.TempDir(), "a.json"))
	err := p.Run(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), GraphEnv)
	t.Setenv(GraphEnv, GraphLint)
	t.Setenv(GraphOutEnv, "")
	err = p.Run(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), GraphOutEnv)
	// The lock mode needs the engine, which this pipeline cannot reach.
	t.Setenv(GraphEnv, GraphLock)
	t.Setenv(GraphOutEnv, filepath.Join(t.TempDir(), "a.json"))
	require.Error(t, p.Run(t.Context(), nil))
}
