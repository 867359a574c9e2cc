package testenv

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGunzip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte("layer"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	assert.Equal(t, []byte("layer"), Gunzip(t, buf.Bytes()))
	assert.Equal(t, []byte("plain tar"), Gunzip(t, []byte("plain tar")), "not gzip: as it is")
}

func TestToken(t *testing.T) {
	t.Parallel()
	a, b := Token(t), Token(t)
	assert.Regexp(t, `^[0-9a-f]{16}$`, a)
	assert.NotEqual(t, a, b)
}

// TestPullImage reads a seeded stand-in back from the test registry.
func TestPullImage(t *testing.T) {
	env := Require(t)
	img := PullImage(t, env.Registry, "library/debian", "bookworm")
	assert.Equal(t, "linux", img.Config.OS)
	assert.Contains(t, string(img.RawConfig), `"os":"linux"`)
	require.Len(t, img.Layers, len(img.Manifest.Layers))
	require.NotEmpty(t, img.Layers)
	assert.NotEqual(t, img.Layers[0], Gunzip(t, img.Layers[0]), "layers are served compressed")

	digests := LayerDigests(t, env.Registry, "library/debian", "bookworm")
	require.Len(t, digests, len(img.Manifest.Layers))
	for _, l := range img.Manifest.Layers {
		assert.True(t, digests[l.Digest.String()], "layer %s", l.Digest)
	}
}
