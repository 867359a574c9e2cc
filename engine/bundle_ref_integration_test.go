package engine

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
