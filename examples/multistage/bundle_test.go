package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

// TestExportAddsToABundle runs the export target twice with -bundle and
// two versions: both images land in one bundle, sharing their layers.
func TestExportAddsToABundle(t *testing.T) {
	env := testenv.Require(t)
	src := copyDir(t, "app")
	out := filepath.Join(t.TempDir(), "images.tar")
	for _, version := range []string{"1.0", "1.1"} {
		p := newPipeline()
		var log bytes.Buffer
		p.Output(&log)
		p.EngineOptions(engine.WithAddress(env.BuildkitHost), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
		require.NoError(t, p.Run(t.Context(), []string{"-src", src, "-version", version, "-bundle", out, "export"}), "%s", log.String())
	}
	c, err := bundle.Verify(t.Context(), out)
	require.NoError(t, err)
	require.Len(t, c.Images, 2)
	assert.Equal(t, "docker.io/library/hello:1.0", c.Images[0].Ref)
	assert.Equal(t, "docker.io/library/hello:1.1", c.Images[1].Ref)
	assert.Less(t, c.Size, c.Images[0].Size+c.Images[1].Size, "the two versions share their base layers")
	assert.Positive(t, c.Images[0].Attestations, "provenance travels in the bundle")
}
