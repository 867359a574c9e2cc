package engine

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/internal/testenv"
)

// engine.Bundle names the image by a tag: a digest in the reference
// cannot be the digest of an image not yet built, and is refused before
// the build, as a name without a tag is.
func TestBundleOutputRefusesADigestOrNoTag(t *testing.T) {
	e, _ := testEngine(t)
	dg := "sha256:" + strings.Repeat("a", 64)
	for ref, want := range map[string]string{
		"registry.example.com/app@" + dg:     "names a digest",
		"registry.example.com/app:1.0@" + dg: "names a digest",
		"registry.example.com/app":           "has no tag",
		"Registry.example.com/App:1":         "invalid image reference",
	} {
		path := filepath.Join(t.TempDir(), "images.tar")
		_, err := e.Build(t.Context(), ltContainer(t), Bundle(path, ref))
		require.Error(t, err, ref)
		assert.Contains(t, err.Error(), "engine.Bundle", ref)
		assert.Contains(t, err.Error(), want, ref)
		assert.NoFileExists(t, path, ref)
	}
}

// A path that holds something other than a bundle is refused before the
// build (not after it), and left as it was.
func TestBundleOutputRefusesANonBundleBeforeTheBuild(t *testing.T) {
	e, _ := testEngine(t)
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.tar")
	require.NoError(t, os.WriteFile(notes, []byte("not a bundle\n"), 0o644))
	other := filepath.Join(dir, "src")
	require.NoError(t, os.MkdirAll(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "main.go"), []byte("package main\n"), 0o644))
	for _, path := range []string{notes, other} {
		var ran atomic.Bool
		watched := e.With(WithEvents(func(ev Event) {
			if ev.Kind == StepStarted || ev.Kind == StepDone {
				ran.Store(true)
			}
		}))
		c := ltContainer(t).WithExec([]string{"/bin/lt", "echo", testenv.Token(t)})
		_, err := watched.Build(t.Context(), c, Bundle(path, "registry.example.com/app:1.0"))
		require.Error(t, err, path)
		assert.Contains(t, err.Error(), "engine.Bundle", path)
		assert.Contains(t, err.Error(), "refusing to replace it", path)
		assert.False(t, ran.Load(), "the build ran before the bundle path was refused")
	}
	b, err := os.ReadFile(notes)
	require.NoError(t, err)
	assert.Equal(t, "not a bundle\n", string(b))
	assert.FileExists(t, filepath.Join(other, "main.go"))
}

// engine.Bundle carries every platform built, each with its provenance,
// under the reference given.
func TestBundleOutputCarriesEveryPlatform(t *testing.T) {
	e, _ := testEngine(t)
	path := filepath.Join(t.TempDir(), "images")
	ref := "registry.example.com:5000/team/nested/app:" + uniqueTag(t)
	c := ltContainer(t).WithLabel("org.ladingbuild.test", testenv.Token(t))
	res, err := e.With(WithPlatforms("linux/amd64", "linux/arm64")).Build(t.Context(), c, Bundle(path, ref))
	require.NoError(t, err)
	got, err := bundle.Verify(t.Context(), path)
	require.NoError(t, err)
	require.Len(t, got.Images, 1)
	img := got.Images[0]
	assert.Equal(t, ref, img.Ref)
	assert.Equal(t, res.Digest, img.Digest, "the bundle holds the index the build made")
	var plats []string
	for _, p := range img.Platforms {
		plats = append(plats, p.Platform)
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, plats)
	assert.Equal(t, 2, img.Attestations, "one provenance manifest per platform")
}
