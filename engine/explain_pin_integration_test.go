package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestPinningTheBaseIsNoCause: pinning a base image to the digest its tag
// names (as WithSkipUnchanged asks) changes nothing for BuildKit, which
// keys the image by its digest. When a file changes in the same edit,
// the copy that re-runs is explained by the file, not by the pin (a
// regression: "base image changed: X → X@sha256:…" came first), and the
// steps on the base that BuildKit keeps cached are not explained at all.
func TestPinningTheBaseIsNoCause(t *testing.T) {
	plain, env := testEngine(t)
	repo := env.Registry + "/lading-test/explain-pin"
	tag := uniqueTag(t)
	dgst, err := plain.Publish(t.Context(), ltContainer(t), repo+":"+tag)
	require.NoError(t, err)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a "+tag), 0o644))
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("explain-pin"))
	g := func(base string) *sdk.Container {
		return sdk.From(base).
			WithExec([]string{"/bin/lt", "echo", "on the base", tag}).
			WithDirectory("/src", sdk.Host(src)).
			WithExec([]string{"/bin/lt", "echo", "on the source", tag})
	}
	_, err = eng.Build(t.Context(), g(repo+":"+tag))
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("a changed "+tag), 0o644))
	res, err := eng.Build(t.Context(), g(repo+":"+tag+"@"+dgst))
	require.NoError(t, err)
	t.Logf("%s", res.Summary)
	onBase := findStep(t, res.Summary, "exec /bin/lt echo \"on the base\"")
	assert.True(t, onBase.Cached, "BuildKit keys the base by its digest")
	assert.Empty(t, onBase.Why)
	cp := findStep(t, res.Summary, "copy / /src")
	require.False(t, cp.Cached)
	assert.Contains(t, cp.Why, "1 file of host "+src+" changed: a.txt")
	assert.Contains(t, findStep(t, res.Summary, "exec /bin/lt echo \"on the source\"").Why, "its parent step copy / /src at ")
}
