package untar_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/untar"
)

func archive(t *testing.T, entries ...tar.Header) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		h.Size = int64(len(h.Name))
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(&h))
		if h.Size > 0 {
			_, err := tw.Write([]byte(h.Name))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return &b
}

func TestExtract(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	err := untar.Extract(t.Context(), archive(t,
		tar.Header{Name: "blobs/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "blobs/sha256/x", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
	), dir, true)
	require.NoError(t, err)
	dt, err := os.ReadFile(filepath.Join(dir, "blobs/sha256/x"))
	require.NoError(t, err)
	assert.Equal(t, "blobs/sha256/x", string(dt))
	assert.NoFileExists(t, filepath.Join(dir, "link"), "other entries are left out")
}

func TestExtractRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    tar.Header
		skip bool
		want string
	}{
		{"parent", tar.Header{Name: "../escape", Typeflag: tar.TypeReg}, true, `archive entry "../escape" leaves the archive`},
		{"absolute", tar.Header{Name: "/etc/passwd", Typeflag: tar.TypeReg}, true, `leaves the archive`},
		{"a link, strict", tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc"}, false, `archive entry "link" is not a file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			err := untar.Extract(t.Context(), archive(t, tc.h), dir, tc.skip)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
