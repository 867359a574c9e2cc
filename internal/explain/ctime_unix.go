//go:build unix

package explain

import (
	"os"
	"path/filepath"
	"syscall"
)

// fileOf describes the entry p (slash-separated, relative to the
// directory walked) from its lstat: mode, owner, size, modification time,
// and the inode and its change time. Writing a file changes its change time, which no
// program can set back (as touch can a modification time), so the stat
// fast path does not trust a file rewritten with its old size and time.
func fileOf(p string, info os.FileInfo) File {
	f := File{Path: filepath.ToSlash(p), Mode: info.Mode()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = st.Uid, st.Gid
		if !info.IsDir() {
			f.CTime, f.Ino = st.Ctim.Nano(), st.Ino
		}
	}
	if !info.IsDir() {
		f.Size, f.MTime = info.Size(), info.ModTime().UnixNano()
	}
	return f
}
