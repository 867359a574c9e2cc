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

// uploadOf returns the upload of the host directory dir.
func uploadOf(t *testing.T, res *Result, dir string) Upload {
	t.Helper()
	var paths []string
	for _, u := range res.Summary.Uploads {
		if u.Path == dir {
			return u
		}
		paths = append(paths, u.Path)
	}
	t.Fatalf("no upload of %s in %v", dir, paths)
	return Upload{}
}

func TestUploadReportCountsWhatTheEngineReads(t *testing.T) {
	var progress logBuffer
	e, _ := testEngine(t, WithProgress(ProgressPlain), WithProgressOutput(&progress))
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"main.txt":      "hello " + uniqueTag(t),
		"src/big.bin":   strings.Repeat("b", 100_000),
		"src/small.txt": "s",
		".git/HEAD":     "ref: refs/heads/main\n",
		".env":          "TOKEN=x",
		"skip/me":       strings.Repeat("x", 50_000),
	})
	c := ltContainer(t).
		WithDirectory("/ctx", sdk.Host(dir, sdk.Exclude("skip/"))).
		WithExec([]string{"/bin/lt", "cat", "/ctx/main.txt"})

	// First build: the engine has never seen the directory and reads it all.
	res, err := e.Build(t.Context(), c)
	require.NoError(t, err)
	first := uploadOf(t, res, dir)
	assert.Equal(t, 5, first.ContextFiles, "everything but the excluded directory")
	assert.Equal(t, first.ContextFiles, first.Files)
	assert.Equal(t, first.ContextBytes, first.Bytes)
	assert.Greater(t, first.Bytes, int64(100_000))
	require.NotEmpty(t, first.Largest)
	assert.Equal(t, "src/", first.Largest[0].Path)
	hints := strings.Join(first.Hints, "\n")
	assert.Contains(t, hints, "sends .git/, version control metadata")
	assert.Contains(t, hints, "sends .env, a credential file")
	assert.Contains(t, progress.String(), "upload "+dir+": 5 of 5 files sent")

	// Unchanged: with lading's stable shared key the engine compares the
	// metadata and asks for no content.
	res, err = e.Build(t.Context(), c)
	require.NoError(t, err)
	again := uploadOf(t, res, dir)
	assert.Equal(t, 0, again.Files, "an unchanged directory sends no file")
	assert.Equal(t, int64(0), again.Bytes)
	assert.Equal(t, first.Entries, again.Entries, "the metadata of every entry is still compared")
	assert.Contains(t, progress.String(), "upload "+dir+": 0 of 5 files sent, 0 B of")

	// One file changed: only it is sent.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.txt"), []byte("changed "+uniqueTag(t)), 0o644))
	res, err = e.Build(t.Context(), c)
	require.NoError(t, err)
	changed := uploadOf(t, res, dir)
	assert.Equal(t, 1, changed.Files)
	assert.Less(t, changed.Bytes, int64(100))
}
