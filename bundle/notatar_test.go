package bundle_test

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
)

// A file that is not a tar bundle is named for what it is — compressed,
// cut short, not a tar at all — by every reader, with what to do.
func TestNotATarBundleSaysWhatItIs(t *testing.T) {
	t.Parallel()
	srcs, _, _ := twoImages(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "images.tar")
	_, err := bundle.Create(t.Context(), good, srcs)
	require.NoError(t, err)
	raw, err := os.ReadFile(good)
	require.NoError(t, err)

	gz := filepath.Join(dir, "images.tar.gz")
	f, err := os.Create(gz)
	require.NoError(t, err)
	zw := gzip.NewWriter(f)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	cut := filepath.Join(dir, "cut.tar")
	require.NoError(t, os.WriteFile(cut, raw[:len(raw)/2+700], 0o644))
	text := filepath.Join(dir, "notes.tar")
	require.NoError(t, os.WriteFile(text, []byte("these are not the images you are looking for\n"), 0o644))

	readers := map[string]func(string) error{
		"List":   func(p string) error { _, err := bundle.List(t.Context(), p); return err },
		"Verify": func(p string) error { _, err := bundle.Verify(t.Context(), p); return err },
		"Push": func(p string) error {
			_, err := bundle.Push(t.Context(), p, "127.0.0.1:1")
			return err
		},
		"source": func(p string) error {
			_, err := bundle.Create(t.Context(), filepath.Join(t.TempDir(), "o.tar"), []bundle.Source{bundle.Bundle(p)})
			return err
		},
	}
	for _, tt := range []struct{ path, want string }{
		{gz, "is gzip-compressed: a tar bundle is read uncompressed; unpack it first (gunzip)"},
		{cut, "ends in the middle of a tar entry: the file is cut short or is not a tar archive; copy it again"},
		{text, "is not a tar archive"},
	} {
		for name, read := range readers {
			err := read(tt.path)
			require.Error(t, err, "%s %s", name, tt.path)
			assert.Contains(t, err.Error(), tt.want, "%s %s", name, tt.path)
			assert.NotContains(t, err.Error(), "bundle: bundle", "%s %s", name, tt.path)
		}
	}
}

// A docker save archive of Docker before 25 (manifest.json, no
// index.json) is named as such, with the way to convert it.
func TestDockerSaveArchiveIsNamed(t *testing.T) {
	t.Parallel()
	saved := filepath.Join(t.TempDir(), "app.tar")
	f, err := os.Create(saved)
	require.NoError(t, err)
	tw := tar.NewWriter(f)
	manifest := []byte(`[{"Config":"c.json","RepoTags":["app:1"],"Layers":[]}]`)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(manifest))}))
	_, err = tw.Write(manifest)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, f.Close())
	_, err = bundle.Verify(t.Context(), saved)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "an image archive of docker save")
	assert.Contains(t, err.Error(), "skopeo copy docker-archive:"+saved+" oci:DIR:TAG")
}
