package untar_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/untar"
)

func TestPickWritesOnlyChosenFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var seen []string
	err := untar.Pick(t.Context(), archive(t,
		tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "./usr/bin/buildkitd", Typeflag: tar.TypeReg, Mode: 0o755},
		tar.Header{Name: "/usr/bin/buildctl", Typeflag: tar.TypeReg, Mode: 0o755},
		tar.Header{Name: "usr/bin/other", Typeflag: tar.TypeReg, Mode: 0o755},
	), 1<<20, func(name string) string {
		seen = append(seen, name)
		switch name {
		case "usr/bin/buildkitd":
			return filepath.Join(dir, "d")
		case "usr/bin/buildctl":
			return filepath.Join(dir, "c")
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"usr", "usr/bin/buildkitd", "usr/bin/buildctl", "usr/bin/other"}, seen)
	d, err := os.ReadFile(filepath.Join(dir, "d"))
	require.NoError(t, err)
	assert.Equal(t, "./usr/bin/buildkitd", string(d))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "only the chosen files are written")
}

func TestPickRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		entry tar.Header
		limit int64
		want  string
	}{
		{"symlink", tar.Header{Name: "usr/bin/buildkitd", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, 1 << 20, "not a regular file"},
		{"hard link", tar.Header{Name: "usr/bin/buildkitd", Typeflag: tar.TypeLink, Linkname: "usr/bin/x"}, 1 << 20, "not a regular file"},
		{"too large", tar.Header{Name: "usr/bin/buildkitd", Typeflag: tar.TypeReg, Mode: 0o755}, 4, "more than the 4 allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dest := filepath.Join(t.TempDir(), "d")
			err := untar.Pick(t.Context(), archive(t, tc.entry), tc.limit, func(name string) string {
				if name == "usr/bin/buildkitd" {
					return dest
				}
				return ""
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "usr/bin/buildkitd")
		})
	}
}

// A verifying reader reports a bad digest only at EOF: Pick must read
// past the tar's end marker to the end of the stream.
func TestPickReadsToTheEnd(t *testing.T) {
	t.Parallel()
	b := archive(t, tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644})
	b.Write(bytes.Repeat([]byte{0}, 8192)) // trailing padding after the end marker
	r := &eofReader{r: b}
	dest := filepath.Join(t.TempDir(), "a")
	require.NoError(t, untar.Pick(t.Context(), r, 1<<20, func(string) string { return dest }))
	assert.True(t, r.eof, "the stream was read to its end")
}

type eofReader struct {
	r   io.Reader
	eof bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) {
		e.eof = true
	}
	return n, err
}

func TestEntryName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"./usr/bin/x": "usr/bin/x", "/usr/bin/x": "usr/bin/x", "usr//bin/./x": "usr/bin/x",
		"./": "", ".": "", "../x": "", "a/../../x": "", "usr/bin/": "usr/bin",
	} {
		assert.Equal(t, want, untar.EntryName(in), in)
	}
}
