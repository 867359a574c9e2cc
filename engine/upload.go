package engine

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/ladingbuild/lading/internal/hostpaths"
	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Upload is what one host directory ([sdk.Host]) sent to the engine in a
// build. The engine keeps what it received earlier (lading gives every
// directory a stable shared key), so an unchanged directory sends the
// metadata of its entries and no content.
type Upload struct {
	// Name is the directory's name in the build graph.
	Name string
	// Path is the host directory.
	Path string
	// Entries counts the files, directories and links the engine compared
	// (after the Include, Exclude and .dockerignore patterns): their
	// metadata is sent on every build.
	Entries int
	// ContextFiles and ContextBytes count the regular files among them
	// and their size: what a first build sends.
	ContextFiles int
	ContextBytes int64
	// Files and Bytes count the files whose content the engine read this
	// build, and their bytes.
	Files int
	Bytes int64
	// Largest lists the largest top-level subtrees by ContextBytes,
	// largest first (at most five).
	Largest []UploadSubtree
	// Hints name paths that are being sent but are usually better left
	// out (.git, node_modules, target/, dist/, credential files), one
	// line each with the fix.
	Hints []string
}

// UploadSubtree is one top-level entry of a host directory in an
// [Upload].
type UploadSubtree struct {
	// Path is relative to the host directory; a directory ends in "/".
	Path string
	// Entries, ContextFiles, ContextBytes, Files and Bytes are as for
	// [Upload], within the subtree.
	Entries      int
	ContextFiles int
	ContextBytes int64
	Files        int
	Bytes        int64
}

// String renders the upload as the one line plain progress shows.
func (u Upload) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upload %s: %d of %d files sent, %s of %s", u.Path, u.Files, u.ContextFiles, formatBytes(u.Bytes), formatBytes(u.ContextBytes))
	if len(u.Largest) > 0 {
		var parts []string
		for _, s := range u.Largest[:min(3, len(u.Largest))] {
			parts = append(parts, s.Path+" "+formatBytes(s.ContextBytes))
		}
		fmt.Fprintf(&b, "; largest: %s", strings.Join(parts, ", "))
	}
	for _, h := range u.Hints {
		fmt.Fprintf(&b, "; hint: %s", h)
	}
	return b.String()
}

// maxHints bounds the hints per directory.
const maxHints = 5

// uploadCounter counts what one host directory sends. The engine asks
// for the directory's listing through the filter lading sets with
// SolveOpt.LocalFilterOpt (its Map sees every entry that passes the
// patterns, after the engine's own filter) and for each file's content
// through [countingFS.Open]: both are what the daemon really reads.
type uploadCounter struct {
	dir lllb.LocalDir

	mu      sync.Mutex
	entries int
	regular int
	size    int64
	files   int
	bytes   int64
	subs    map[string]*UploadSubtree
	hinted  map[string]hostpaths.Kind // path (dir ends in /) → kind
	hintSz  map[string]*UploadSubtree
	// sources marks the hinted directories that hold source files
	// (hostpaths.SourceFile): not build output, whatever their name.
	sources map[*UploadSubtree]bool
}

func newUploadCounter(dir lllb.LocalDir) *uploadCounter {
	return &uploadCounter{dir: dir, subs: map[string]*UploadSubtree{}, hinted: map[string]hostpaths.Kind{}, hintSz: map[string]*UploadSubtree{}, sources: map[*UploadSubtree]bool{}}
}

// uploads counts the host directories of one build, by name.
type uploads struct {
	order    []string
	counters map[string]*uploadCounter
}

// newUploads wraps each mount so that reading a file's content is
// counted, and returns the counters.
func newUploads(locals []lllb.LocalDir, mounts map[string]fsutil.FS) *uploads {
	u := &uploads{counters: map[string]*uploadCounter{}}
	for _, l := range locals {
		fs, ok := mounts[l.Name]
		if !ok {
			continue
		}
		c := newUploadCounter(l)
		u.order = append(u.order, l.Name)
		u.counters[l.Name] = c
		mounts[l.Name] = &countingFS{FS: fs, c: c}
	}
	return u
}

// filterOpt is the SolveOpt.LocalFilterOpt hook: it keeps the engine's
// patterns and adds a Map that counts every entry sent.
func (u *uploads) filterOpt(name string, opt *fsutil.FilterOpt) error {
	c, ok := u.counters[name]
	if !ok {
		return nil
	}
	prev := opt.Map
	opt.Map = func(p string, st *fstypes.Stat) fsutil.MapResult {
		res := fsutil.MapResultKeep
		if prev != nil {
			res = prev(p, st)
		}
		if res == fsutil.MapResultKeep {
			c.entry(p, st)
		}
		return res
	}
	return nil
}

// list returns the uploads in the program's order of host directories.
func (u *uploads) list() []Upload {
	if u == nil {
		return nil
	}
	out := make([]Upload, 0, len(u.order))
	for _, name := range u.order {
		out = append(out, u.counters[name].upload())
	}
	return out
}

// entry counts one entry of the listing.
func (c *uploadCounter) entry(p string, st *fstypes.Stat) {
	p = filepath.ToSlash(p)
	mode := os.FileMode(st.Mode)
	dir := mode.IsDir()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries++
	var size int64
	regular := 0
	if mode.IsRegular() {
		regular, size = 1, st.Size
		c.regular++
		c.size += size
	}
	s := c.subtree(p, dir)
	s.Entries++
	s.ContextFiles += regular
	s.ContextBytes += size
	if h := c.hintFor(p); h != nil {
		if !dir && hostpaths.SourceFile(path.Base(p)) {
			c.sources[h] = true
		}
		h.Entries++
		h.ContextFiles += regular
		h.ContextBytes += size
		return
	}
	if k, ok := hostpaths.Match(path.Base(p), dir); ok && len(c.hinted) < maxHints {
		key := p
		if dir {
			key += "/"
		}
		c.hinted[key] = k
		c.hintSz[key] = &UploadSubtree{Path: key, Entries: 1, ContextFiles: regular, ContextBytes: size}
	}
}

// subtree returns the counts of p's top-level entry. c.mu is held.
func (c *uploadCounter) subtree(p string, dir bool) *UploadSubtree {
	top, _, nested := strings.Cut(p, "/")
	if nested || dir {
		top += "/"
	}
	s, ok := c.subs[top]
	if !ok {
		s = &UploadSubtree{Path: top}
		c.subs[top] = s
	}
	return s
}

// hintFor returns the hinted subtree p is in (not p itself). c.mu is held.
func (c *uploadCounter) hintFor(p string) *UploadSubtree {
	for key, s := range c.hintSz {
		if strings.HasSuffix(key, "/") && strings.HasPrefix(p, key) {
			return s
		}
	}
	return nil
}

// read counts n bytes of p's content.
func (c *uploadCounter) read(p string, n int64, first bool) {
	p = filepath.ToSlash(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes += n
	s := c.subtree(p, false)
	s.Bytes += n
	h := c.hintFor(p)
	if h == nil {
		h = c.hintSz[p]
	}
	if h != nil {
		h.Bytes += n
	}
	if first {
		c.files++
		s.Files++
		if h != nil {
			h.Files++
		}
	}
}

// upload returns the counts as an Upload.
func (c *uploadCounter) upload() Upload {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := Upload{Name: c.dir.Name, Path: c.dir.Path, Entries: c.entries, ContextFiles: c.regular, ContextBytes: c.size, Files: c.files, Bytes: c.bytes}
	for _, s := range c.subs {
		u.Largest = append(u.Largest, *s)
	}
	slices.SortFunc(u.Largest, func(a, b UploadSubtree) int {
		return cmp.Or(cmp.Compare(b.ContextBytes, a.ContextBytes), cmp.Compare(b.Entries, a.Entries), strings.Compare(a.Path, b.Path))
	})
	u.Largest = u.Largest[:min(5, len(u.Largest))]
	for _, key := range slices.Sorted(maps.Keys(c.hinted)) {
		k, s := c.hinted[key], c.hintSz[key]
		if k == hostpaths.Output && c.sources[s] {
			continue
		}
		fix := "add " + key + " to .dockerignore or sdk.Exclude(" + quote(key) + ")"
		u.Hints = append(u.Hints, fmt.Sprintf("sends %s, %s (%s, %s; %s this build): %s",
			key, k.What, files(s.ContextFiles), formatBytes(s.ContextBytes), formatBytes(s.Bytes), fix))
	}
	return u
}

// countingFS is a host directory whose file reads are counted; its
// listing (Walk) is counted by the filter's Map instead, which sees the
// entries after the engine's patterns.
type countingFS struct {
	fsutil.FS
	c *uploadCounter
}

// Open opens a file whose content the engine asked for.
func (f *countingFS) Open(p string) (io.ReadCloser, error) {
	rc, err := f.FS.Open(p)
	if err != nil {
		return nil, err
	}
	return &countingReader{rc: rc, c: f.c, path: p}, nil
}

// countingReader counts the bytes read from one file.
type countingReader struct {
	rc      io.ReadCloser
	c       *uploadCounter
	path    string
	started bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if n > 0 || (!r.started && err == io.EOF) {
		r.c.read(r.path, int64(n), !r.started)
		r.started = true
	}
	return n, err
}

func (r *countingReader) Close() error {
	if !r.started {
		// Opened and closed unread: the file was still sent (empty).
		r.c.read(r.path, 0, true)
		r.started = true
	}
	return r.rc.Close()
}

// files renders a count of files: "1 file", "3 files".
func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

// formatBytes renders n in decimal units: "0 B", "4.1 kB", "12.3 MB".
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
