//go:build !unix

package explain

import (
	"os"
	"path/filepath"
)

// fileOf describes the entry p from its lstat; the change time and
// inode are unknown here, and the fast path trusts size and modification
// time alone.
func fileOf(p string, info os.FileInfo) File {
	f := File{Path: filepath.ToSlash(p), Mode: info.Mode()}
	if !info.IsDir() {
		f.Size, f.MTime = info.Size(), info.ModTime().UnixNano()
	}
	return f
}
