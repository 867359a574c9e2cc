//go:build unix

package explain

import (
	"os"
	"path/filepath"
	"syscall"
)

// statFile describes the entry p (slash-separated, relative to root)
// from one lstat: mode, owner, size, modification time, and the inode
// and its change time. Writing a file changes its change time, which no
// program can set back (as touch can a modification time), so the stat
// fast path does not trust a file rewritten with its old size and time.
func statFile(root, p string) (File, error) {
	f := File{Path: filepath.ToSlash(p)}
	info, err := os.Lstat(filepath.Join(root, p))
	if err != nil {
		return f, err
	}
	f.Mode = info.Mode()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = st.Uid, st.Gid
		if !info.IsDir() {
			f.CTime, f.Ino = st.Ctim.Nano(), st.Ino
		}
	}
	if !info.IsDir() {
		f.Size, f.MTime = info.Size(), info.ModTime().UnixNano()
	}
	return f, nil
}
