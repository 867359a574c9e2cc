package bundle_test

import (
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
