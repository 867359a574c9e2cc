package explain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxFiles bounds the file list a record keeps per host directory. A
// larger directory is recorded by its digest alone: explanations then say
// that files changed without naming them, and every build hashes it whole.
const MaxFiles = 50_000

// Host is a host directory as a build sent it: its path, its patterns and
// its files.
type Host struct {
	Path    string   `json:"path"`
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// Digest is the hash of every file's path, mode and content.
	Digest string `json:"digest,omitempty"`
	// Count is the number of files and directories.
	Count int `json:"count,omitempty"`
	// Files lists them, sorted by path; nil when Count > MaxFiles.
	Files FileList `json:"files,omitempty"`
	// Hashed is when the files were read: a file modified in the same
	// second may not show in its modification time, so such files are
	// read again next time.
	Hashed time.Time `json:"hashed,omitzero"`
	// Err says why the directory could not be read, if it could not.
	Err string `json:"error,omitempty"`
}

// File is one entry of a host directory.
type File struct {
	Path  string
	Mode  fs.FileMode
	Size  int64
	MTime int64 // Unix nanoseconds
	CTime int64 // inode change time, Unix nanoseconds
	Ino   uint64
	UID   uint32
	GID   uint32
	Hash  string // sha256 of the content (a link: of its target), 16 bytes in hex
}

// racyWindow is how close to the previous hashing a modification time
// must be for a file to be read again although its size and time match.
const racyWindow = 2 * time.Second

// HashHost lists and hashes the files of h the way BuildKit's fsutil
// sends them (h's include and exclude patterns), into h. prev is the same
// directory in the previous record, or nil: a file whose size, mode and
// modification time match prev's (and that was not modified just before
// prev was made) keeps prev's hash without being read.
func HashHost(ctx context.Context, h *Host, prev *Host) error {
	known := map[string]*File{}
	var since time.Time
	if prev != nil && prev.Path == h.Path {
		since = prev.Hashed
		for i := range prev.Files {
			known[prev.Files[i].Path] = &prev.Files[i]
		}
	}
	h.Hashed = time.Now()
	var files []File
	var todo []int
	// fsutil's filter decides what is sent (as BuildKit's local source
	// applies it); one lstat per entry gives all the rest.
	err := walkHost(ctx, h.Path, h.Include, h.Exclude, func(f File) error {
		if old, ok := known[f.Path]; ok && old.Mode == f.Mode && old.UID == f.UID && old.GID == f.GID &&
			old.Size == f.Size && old.MTime == f.MTime && old.CTime == f.CTime && old.Ino == f.Ino &&
			(f.Mode.IsDir() || f.MTime < since.Add(-racyWindow).UnixNano()) {
			f.Hash = old.Hash
		} else if !f.Mode.IsDir() {
			todo = append(todo, len(files))
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading host directory %s: %w", h.Path, err)
	}
	if err := hashFiles(ctx, h.Path, files, todo); err != nil {
		return err
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	sum := sha256.New()
	var line []byte
	for _, f := range files {
		line = append(line[:0], f.Path...)
		line = append(line, 0)
		line = strconv.AppendUint(line, uint64(f.Mode), 8)
		line = append(line, 0)
		line = strconv.AppendUint(line, uint64(f.UID), 10)
		line = append(line, ':')
		line = strconv.AppendUint(line, uint64(f.GID), 10)
		line = append(line, 0)
		line = append(line, f.Hash...)
		line = append(line, 0)
		sum.Write(line)
	}
	h.Digest = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	h.Count = len(files)
	h.Files = files
	if len(files) > MaxFiles {
		h.Files = nil
	}
	return nil
}

// hashFiles hashes files[i] for every i in todo, a few at a time.
func hashFiles(ctx context.Context, root string, files []File, todo []int) error {
	workers := min(len(todo), runtime.GOMAXPROCS(0)*2)
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for i := range next {
				h, err := hashFile(filepath.Join(root, filepath.FromSlash(files[i].Path)), files[i].Mode, buf)
				if err != nil {
					errs <- err
					for range next {
					}
					return
				}
				files[i].Hash = h
			}
		}()
	}
	var err error
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}

// filesRead counts the files hashFile has read, for tests.
var filesRead atomic.Int64

// hashFile is the sha256 of a file's content, or of a link's target,
// read through buf.
func hashFile(path string, mode fs.FileMode, buf []byte) (string, error) {
	filesRead.Add(1)
	sum := sha256.New()
	if mode&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		sum.Write([]byte(target))
	} else if mode.IsRegular() {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		_, err = io.CopyBuffer(sum, onlyReader{f}, buf) // not os.File's WriteTo, which takes a new 32 kB buffer per file
		f.Close()
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", path, err)
		}
	}
	return hex.EncodeToString(sum.Sum(nil)[:16]), nil
}

// onlyReader hides everything of a reader but Read.
type onlyReader struct{ io.Reader }
