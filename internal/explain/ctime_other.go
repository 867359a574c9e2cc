//go:build !unix

package explain

import (
	"os"
	"path/filepath"
)

// statFile describes the entry p from one lstat; the change time and
// inode are unknown here, and the fast path trusts size and modification
// time alone.
func statFile(root, p string) (File, error) {
	f := File{Path: filepath.ToSlash(p)}
	info, err := os.Lstat(filepath.Join(root, p))
	if err != nil {
		return f, err
	}
	f.Mode = info.Mode()
	if !info.IsDir() {
		f.Size, f.MTime = info.Size(), info.ModTime().UnixNano()
	}
	return f, nil
}
