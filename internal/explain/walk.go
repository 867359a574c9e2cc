package explain

import (
	"context"
	"errors"
	"io"
	gofs "io/fs"
	"os"
	"path/filepath"

	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

// walkHost calls fn for every entry of dir that BuildKit's local source
// sends with these patterns, each described from one lstat. The patterns
// are fsutil's own filter (so the set is the engine's); the entries under
// it are lighter than fsutil's, which also read every file's extended
// attributes and lstat it again for the record: a third of the walk.
func walkHost(ctx context.Context, dir string, include, exclude []string, fn func(File) error) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(root); err != nil {
		return err
	} else if !fi.IsDir() {
		return &os.PathError{Op: "walk", Path: dir, Err: errors.New("not a directory")}
	}
	lfs := &lstatFS{root: root, files: map[*types.Stat]File{}}
	var walker fsutil.FS = lfs
	if len(include) > 0 || len(exclude) > 0 {
		if walker, err = fsutil.NewFilterFS(lfs, &fsutil.FilterOpt{IncludePatterns: include, ExcludePatterns: exclude}); err != nil {
			return err
		}
	}
	return walker.Walk(ctx, "/", func(_ string, d gofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st *types.Stat
		switch d := d.(type) {
		case *lstatEntry: // no filter
			if _, err := d.Info(); err != nil {
				return err
			}
			st = d.st
		case *fsutil.DirEntryInfo: // through the filter, which passes the Stat on
			st = d.Stat
		}
		f, ok := lfs.files[st]
		if !ok {
			return errors.New("walking the host directory: an entry without its stat")
		}
		return fn(f)
	})
}

// lstatFS is a host directory as fsutil's filter walks it.
type lstatFS struct {
	root  string
	files map[*types.Stat]File // each entry described, by the Stat the filter passes on
}

func (l *lstatFS) Walk(ctx context.Context, target string, fn gofs.WalkDirFunc) error {
	return filepath.WalkDir(filepath.Join(l.root, target), func(p string, d gofs.DirEntry, walkErr error) (err error) {
		defer func() {
			if err != nil && errors.Is(err, gofs.ErrNotExist) {
				err = filepath.SkipDir // removed while walking, as fsutil treats it
			}
		}()
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var entry gofs.DirEntry
		if d != nil {
			entry = &lstatEntry{DirEntry: d, fs: l, full: p, rel: rel}
		}
		return fn(rel, entry, walkErr)
	})
}

func (l *lstatFS) Open(p string) (io.ReadCloser, error) { return os.Open(filepath.Join(l.root, p)) }

// lstatEntry is one entry, described on first use from one lstat.
type lstatEntry struct {
	gofs.DirEntry
	fs        *lstatFS
	full, rel string
	st        *types.Stat
}

func (e *lstatEntry) Info() (gofs.FileInfo, error) {
	if e.st == nil {
		info, err := e.DirEntry.Info()
		if err != nil {
			return nil, err
		}
		f := fileOf(e.rel, info)
		e.st = &types.Stat{Path: e.rel, Mode: uint32(info.Mode()), Uid: f.UID, Gid: f.GID, Size: f.Size, ModTime: info.ModTime().UnixNano()}
		e.fs.files[e.st] = f
	}
	return &fsutil.StatInfo{Stat: e.st}, nil
}
