package bundle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// stage is a bundle being assembled beside its destination, moved into
// place by commit only when complete.
type stage struct {
	dest string // absolute destination
	tar  bool   // dest is a tar of the layout
	tmp  string // temporary directory beside dest
	dir  string // the layout being written, inside tmp (or tmp itself)
}

// isTar says whether the bundle at path is (or will be) a tar archive: an
// existing regular file, or a new path ending in ".tar".
func isTar(path string) bool {
	if fi, err := os.Stat(path); err == nil {
		return fi.Mode().IsRegular()
	}
	return strings.HasSuffix(path, ".tar")
}

// newStage prepares the temporary layout for a bundle written to path;
// with keep, it starts from the bundle already there (if any).
func newStage(ctx context.Context, path string, keep bool) (*stage, error) {
	dest, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	st := &stage{dest: dest, tar: isTar(dest)}
	exists, err := checkReplaceable(ctx, dest, st.tar)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	st.tmp, err = os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return nil, err
	}
	st.dir = st.tmp
	if st.tar {
		st.dir = filepath.Join(st.tmp, "layout")
	}
	if keep && exists {
		if st.tar {
			err = extract(ctx, dest, st.dir)
		} else {
			err = linkLayout(ctx, dest, st.dir)
		}
		if err != nil {
			st.cleanup()
			return nil, fmt.Errorf("reading the bundle %s to add to it: %w", dest, err)
		}
	}
	return st, nil
}

// checkReplaceable reports whether dest exists, refusing to replace
// something that is not a bundle: a directory without an OCI layout, or a
// file that is not a tar holding one.
func checkReplaceable(ctx context.Context, dest string, tarForm bool) (bool, error) {
	fi, err := os.Stat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if tarForm {
		// A regular file (isTar said so): a tar bundle, or refused.
		t, err := openTarFS(ctx, dest)
		if err == nil {
			_, ok := t.entries["index.json"]
			t.Close()
			if ok {
				return true, nil
			}
		}
		return false, fmt.Errorf("%s is a file that is not a tar bundle (no index.json in it): refusing to replace it; name a new path", dest)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s exists and is not a directory", dest)
	}
	if _, err := os.Stat(filepath.Join(dest, "index.json")); err != nil {
		entries, _ := os.ReadDir(dest)
		if len(entries) > 0 {
			return false, fmt.Errorf("%s is a directory that is not a bundle (no index.json): refusing to replace it; name a new path", dest)
		}
		return false, nil
	}
	return true, nil
}

// linkLayout seeds dst with the layout src: its blobs hard-linked (blobs
// are named by digest and never rewritten in place, so sharing them is
// safe; copied where links fail) and its index.json copied.
func linkLayout(ctx context.Context, src, dst string) error {
	if err := copyFile(filepath.Join(src, "index.json"), filepath.Join(dst, "index.json")); err != nil {
		return err
	}
	blobs := filepath.Join(src, "blobs")
	return filepath.WalkDir(blobs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == blobs {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := os.Link(p, to); err == nil {
			return nil
		}
		return copyFile(p, to)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// commit moves the assembled bundle into place.
func (st *stage) commit(ctx context.Context) error {
	if st.tar {
		out := filepath.Join(st.tmp, "bundle.tar")
		if err := writeTar(ctx, st.dir, out); err != nil {
			return fmt.Errorf("writing %s: %w", st.dest, err)
		}
		if err := os.Chmod(out, 0o644); err != nil {
			return err
		}
		if err := os.Rename(out, st.dest); err != nil {
			return fmt.Errorf("writing %s: %w", st.dest, err)
		}
		return os.RemoveAll(st.tmp)
	}
	if err := os.Chmod(st.tmp, 0o755); err != nil {
		return err
	}
	if err := replaceDir(st.tmp, st.dest); err != nil {
		return err
	}
	st.tmp = ""
	return nil
}

// cleanup removes what an unfinished write left.
func (st *stage) cleanup() {
	if st.tmp != "" {
		os.RemoveAll(st.tmp)
	}
}

// replaceDir moves the directory src to dest, replacing what was there.
func replaceDir(src, dest string) error {
	if _, err := os.Lstat(dest); err != nil {
		if err := os.Rename(src, dest); err != nil {
			return fmt.Errorf("writing %s: %w", dest, err)
		}
		return nil
	}
	old := src + ".old"
	if err := os.Rename(dest, old); err != nil {
		return fmt.Errorf("replacing %s: %w", dest, err)
	}
	if err := os.Rename(src, dest); err != nil {
		if rerr := os.Rename(old, dest); rerr != nil {
			return fmt.Errorf("replacing %s: %w; putting the previous bundle back also failed, it is in %s: %w", dest, err, old, rerr)
		}
		return fmt.Errorf("replacing %s: %w", dest, err)
	}
	return os.RemoveAll(old)
}

// writeTar writes the layout dir as a tar archive at out: oci-layout and
// index.json first (so a reader streaming the archive finds them early),
// then the blobs in name order, with fixed modes and times.
func writeTar(ctx context.Context, dir, out string) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var names []string
	err = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		} else if !d.Type().IsRegular() {
			return nil
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	names = append([]string{"oci-layout", "index.json"}, names...)
	tw := tar.NewWriter(f)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := addTarEntry(tw, dir, n); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addTarEntry(tw *tar.Writer, dir, n string) error {
	h := &tar.Header{Name: n, ModTime: time.Unix(0, 0)}
	if strings.HasSuffix(n, "/") {
		h.Typeflag, h.Mode = tar.TypeDir, 0o755
		return tw.WriteHeader(h)
	}
	src, err := os.Open(filepath.Join(dir, filepath.FromSlash(n)))
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, fi.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, src)
	return err
}

// openDir returns a directory holding the bundle at path: path itself for
// a directory bundle, else the tar extracted into a temporary directory
// that done removes.
func openDir(ctx context.Context, path string) (dir string, done func(), err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("opening the bundle: %w", err)
	}
	if fi.IsDir() {
		return path, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "lading-bundle-")
	if err != nil {
		return "", nil, err
	}
	if err := extract(ctx, path, tmp); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("reading the bundle %s: %w", path, err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}
