package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// A graph that reads one service of a monorepo sends only that service (and
// the files it names): the rest of the tree is neither sent nor compared,
// and a change there re-runs nothing.
func TestHostSendsOnlyTheReadPaths(t *testing.T) {
	e, _ := testEngine(t)
	dir := t.TempDir()
	tag := uniqueTag(t)
	writeTree(t, dir, map[string]string{
		"go.mod":              "module x " + tag,
		"services/a/main.txt": "service a " + tag,
		"services/b/main.txt": "service b",
		".git/HEAD":           "ref: refs/heads/main\n",
		"docs/big.bin":        strings.Repeat("d", 200_000),
	})
	repo := sdk.Host(dir)
	src := ltContainer(t).
		WithFile("/src/go.mod", repo.File("go.mod")).
		WithDirectory("/src/a", repo.Directory("services/a"))
	c := src.WithExec([]string{"/bin/lt", "cat", "/src/a/main.txt"})

	out, err := e.Stdout(t.Context(), src.WithExec([]string{"/bin/lt", "cat", "/src/go.mod"}))
	require.NoError(t, err)
	assert.Equal(t, "module x "+tag, out)
	out, err = e.Stdout(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, "service a "+tag, out, "the read directory arrives whole")

	res, err := e.Build(t.Context(), c)
	require.NoError(t, err)
	up := uploadOf(t, res, dir)
	assert.Equal(t, 2, up.ContextFiles, "go.mod and services/a/main.txt only: %+v", up)
	assert.Empty(t, up.Hints, ".git is not sent, so there is nothing to warn of")

	// A change outside the read paths: nothing runs again, nothing is sent.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "services/b/main.txt"), []byte("changed"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docs/big.bin"), []byte("changed"), 0o644))
	res, err = e.Build(t.Context(), c)
	require.NoError(t, err)
	for _, s := range res.Summary.Steps {
		if strings.HasPrefix(s.Name, "host ") {
			continue // the engine compares a host directory on every build
		}
		assert.True(t, s.Cached, "%s ran after a change it does not read: %s", s.Name, s.Why)
	}
	assert.Equal(t, 0, uploadOf(t, res, dir).Files)

	// A change inside them runs the step again with the new content.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "services/a/main.txt"), []byte("new a"), 0o644))
	out, err = e.Stdout(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, "new a", out)
}
