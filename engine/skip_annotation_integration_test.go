package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestSkipSeesTheAnnotations: manifest annotations are part of what a
// push makes, though they are neither a step nor the image config: a
// changed annotation never skips (a regression: it did, and the tag kept
// the old manifest).
func TestSkipSeesTheAnnotations(t *testing.T) {
	plain, env := testEngine(t)
	repo := env.Registry + "/lading-test/skip-annotation"
	tag := uniqueTag(t)
	dgst, err := plain.Publish(t.Context(), sdk.Scratch().WithNewFile("/base.txt", tag), repo+":base-"+tag)
	require.NoError(t, err)
	base := sdk.From(repo+"@"+dgst).WithNewFile("/app", "app")
	out := Registry(repo + ":" + tag)
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-annotation"), WithSkipUnchanged())

	first, err := eng.Build(t.Context(), base.WithAnnotation("org.example.v", "1"), out)
	require.NoError(t, err)
	v2 := base.WithAnnotation("org.example.v", "2")
	assert.Contains(t, skipReason(t, eng, v2, out), "the image config, the epoch or the export settings changed")
	res, err := eng.Build(t.Context(), v2, out)
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Skipped)
	assert.NotEqual(t, first.Digest, res.Digest, "a new manifest")
}
