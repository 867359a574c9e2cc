package engine

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestSkipChecksThePushedImage: a skipped push is right only while the
// registry still holds what the last build pushed. Another target pushing
// to the same tag, or the tag deleted, makes the next build run and push
// again; then it skips again.
func TestSkipChecksThePushedImage(t *testing.T) {
	plain, env := testEngine(t)
	repo := env.Registry + "/lading-test/skip-outputs"
	tag := uniqueTag(t)
	dgst, err := plain.Publish(t.Context(), sdk.Scratch().WithNewFile("/base.txt", tag), repo+":base-"+tag)
	require.NoError(t, err)
	v := sdk.From(repo+"@"+dgst).WithNewFile("/app", "app "+tag)
	ref := repo + ":" + tag
	out := Registry(ref, "also-"+tag)
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-outputs"), WithSkipUnchanged())

	first, err := eng.Build(t.Context(), v, out)
	require.NoError(t, err)
	head := func(ref string) string {
		t.Helper()
		r, err := name.ParseReference(ref, name.Insecure)
		require.NoError(t, err)
		d, err := remote.Head(r, remote.WithContext(t.Context()))
		require.NoError(t, err)
		return d.Digest.String()
	}
	require.Equal(t, first.Digest, head(ref))

	again, err := eng.Build(t.Context(), v, out)
	require.NoError(t, err)
	require.NotEmpty(t, again.Summary.Skipped, "unchanged, and the tags hold the image")
	last := first.Digest // without an epoch, every build that runs makes a new image

	steps := []struct {
		name   string
		change func()
		why    string
	}{
		{"another target pushed the tag", func() {
			_, err := plain.Publish(t.Context(), sdk.Scratch().WithNewFile("/other", tag), ref)
			require.NoError(t, err)
		}, ref + " no longer holds the last build's image"},
		{"the image was deleted", func() {
			r, err := name.ParseReference(repo+":also-"+tag, name.Insecure)
			require.NoError(t, err)
			// The registry deletes by digest: the manifest, so every tag of it.
			require.NoError(t, remote.Delete(r.Context().Digest(last), remote.WithContext(t.Context())))
		}, ref + " is no longer in the registry (deleted since the last build)"},
	}
	for _, s := range steps {
		s.change()
		assert.Contains(t, skipReason(t, eng, v, out), s.why, s.name)
		res, err := eng.Build(t.Context(), v, out)
		require.NoError(t, err, s.name)
		assert.Empty(t, res.Summary.Skipped, "%s: a wrong skip would leave the tag as it is", s.name)
		last = res.Digest
		assert.Equal(t, last, head(ref), "%s: pushed again", s.name)
		assert.Equal(t, last, head(repo+":also-"+tag), "%s: pushed again", s.name)

		res, err = eng.Build(t.Context(), v, out)
		require.NoError(t, err, s.name)
		assert.NotEmpty(t, res.Summary.Skipped, "%s: in place again, so it skips", s.name)
		assert.Equal(t, last, res.Digest, s.name)
	}
}
