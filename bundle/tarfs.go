package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// tarFS reads the files of an uncompressed tar archive in place: one pass
// over the headers finds where each file's bytes are, and opening a file
// reads that section of the archive. Listing and verifying a tar bundle
// so needs no room to unpack it.
type tarFS struct {
	f       *os.File
	entries map[string]tarEntry
}

type tarEntry struct{ off, size int64 }

// openTarFS indexes the regular files of the archive at p.
func openTarFS(ctx context.Context, p string) (*tarFS, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	t := &tarFS{f: f, entries: map[string]tarEntry{}}
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			f.Close()
			return nil, notATar(p, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		// tar.Reader reads headers block by block from the file, so after
		// Next the file's offset is where this entry's bytes start.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			f.Close()
			return nil, err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		t.entries[name] = tarEntry{off: off, size: h.Size}
	}
}

func (t *tarFS) Close() error { return t.f.Close() }

// Open opens the file name of the archive.
func (t *tarFS) Open(name string) (fs.File, error) {
	e, ok := t.entries[path.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &tarFile{SectionReader: io.NewSectionReader(t.f, e.off, e.size), name: path.Base(name), size: e.size}, nil
}

// tarFile is one file of a tarFS.
type tarFile struct {
	*io.SectionReader
	name string
	size int64
}

func (f *tarFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *tarFile) Close() error               { return nil }
func (f *tarFile) Name() string               { return f.name }
func (f *tarFile) Size() int64                { return f.size }
func (f *tarFile) Mode() fs.FileMode          { return 0o444 }
func (f *tarFile) ModTime() time.Time         { return time.Time{} }
func (f *tarFile) IsDir() bool                { return false }
func (f *tarFile) Sys() any                   { return nil }
