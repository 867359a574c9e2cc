//go:build unix

package explain

import (
	"os"
	"syscall"
)

// changeTime is the inode change time of path (Unix nanoseconds) and its
// inode number, or zeros. Writing a file changes it, and no program can
// set it back (as touch can a modification time), so the stat fast path
// does not trust a file rewritten with its old size and time.
func changeTime(path string) (int64, uint64) {
	info, err := os.Lstat(path)
	if err != nil {
		return 0, 0
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return st.Ctim.Nano(), st.Ino
}
