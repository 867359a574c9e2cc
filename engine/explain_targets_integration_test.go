package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestTwoTargetsOfOneHelper: a program that builds two services with one
// helper has two targets whose last step is at the same Go line, so they
// share a record key. Alternating between them, each build must be
// compared with its own last build: after a file of service a changes,
// a's copy is explained by that file, not by "the other service's
// directory" (a regression: the record of b was compared with).
func TestTwoTargetsOfOneHelper(t *testing.T) {
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("two-targets"))
	tag := uniqueTag(t)
	dirs := map[string]string{"a": t.TempDir(), "b": t.TempDir()}
	for svc, dir := range dirs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.txt"), []byte(svc+" "+tag), 0o644))
	}
	service := func(svc string) *sdk.Container {
		return ltContainer(t).
			WithDirectory("/src", sdk.Host(dirs[svc])).
			WithExec([]string{"/bin/lt", "echo", "build", svc, tag})
	}
	for _, svc := range []string{"a", "b", "a", "b"} {
		_, err := eng.Build(t.Context(), service(svc))
		require.NoError(t, err, svc)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dirs["a"], "main.txt"), []byte("a changed "+tag), 0o644))
	res, err := eng.Build(t.Context(), service("a"))
	require.NoError(t, err)
	t.Logf("%s", res.Summary)
	cp := findStep(t, res.Summary, "copy / /src")
	require.False(t, cp.Cached, "BuildKit re-runs the copy of the changed file")
	assert.Contains(t, cp.Why, "1 file of host "+dirs["a"]+" changed: main.txt")
	assert.Contains(t, findStep(t, res.Summary, "exec /bin/lt echo build a").Why, "its parent step copy / /src at ")

	// And b, unchanged since its own last build, is all cached; a build
	// of b after a's change still compares with b's record.
	require.NoError(t, os.WriteFile(filepath.Join(dirs["b"], "main.txt"), []byte("b changed "+tag), 0o644))
	res, err = eng.Build(t.Context(), service("b"))
	require.NoError(t, err)
	assert.Contains(t, findStep(t, res.Summary, "copy / /src").Why, "1 file of host "+dirs["b"]+" changed: main.txt")
}
