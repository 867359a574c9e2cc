package lock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DefaultPath is the lock file's name, looked up in the working directory
// unless a path is given.
const DefaultPath = "lading.lock"

// version is the file format's version, written in every file.
const version = 1

// File is the content of a lock file. Its methods are safe for concurrent
// use; a File read from disk is not changed by builds.
type File struct {
	mu     sync.RWMutex
	images map[imageKey]string // digest
	git    map[string]string   // "URL#ref" -> commit
	http   map[string]string   // URL -> checksum
}

type imageKey struct{ ref, platform string }

// Image is a base image tag pinned to a digest for one platform.
type Image struct {
	// Ref is the normalized reference ("docker.io/library/debian:bookworm").
	Ref string `json:"ref"`
	// Platform is the platform as containerd formats it ("linux/amd64").
	Platform string `json:"platform"`
	// Digest is what the tag named when the lock was updated ("sha256:…").
	Digest string `json:"digest"`
}

// Git is a Git ref pinned to a commit.
type Git struct {
	URL    string `json:"url"`
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
}

// HTTP is a download pinned to the checksum of its content.
type HTTP struct {
	URL      string `json:"url"`
	Checksum string `json:"checksum"`
}

// document is the file's JSON form.
type document struct {
	Version int     `json:"version"`
	Images  []Image `json:"images,omitempty"`
	Git     []Git   `json:"git,omitempty"`
	HTTP    []HTTP  `json:"http,omitempty"`
}

// New returns an empty lock.
func New() *File {
	return &File{images: map[imageKey]string{}, git: map[string]string{}, http: map[string]string{}}
}

// ErrNoLock is wrapped by Read's error when the file does not exist.
var ErrNoLock = errors.New("no lock file")

// Read reads a lock file. A missing file is an error wrapping ErrNoLock
// (and fs.ErrNotExist) that says how to make one.
func Read(path string) (*File, error) {
	dt, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: run `lading lock update` to write it: %w", ErrNoLock, path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the lock: %w", err)
	}
	f, err := Parse(dt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads a lock file's content.
func Parse(dt []byte) (*File, error) {
	var doc document
	dec := json.NewDecoder(bytes.NewReader(dt))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("bad lock file: %w (fix it by hand or run `lading lock update`)", err)
	}
	if doc.Version != version {
		return nil, fmt.Errorf("lock file version %d: this lading reads version %d; run `lading lock update`", doc.Version, version)
	}
	f := New()
	for _, im := range doc.Images {
		if im.Ref == "" || im.Platform == "" || !strings.Contains(im.Digest, ":") {
			return nil, fmt.Errorf("bad lock file: image entry %+v needs ref, platform and digest", im)
		}
		f.images[imageKey{im.Ref, im.Platform}] = im.Digest
	}
	for _, g := range doc.Git {
		if g.URL == "" || g.Commit == "" {
			return nil, fmt.Errorf("bad lock file: git entry %+v needs url and commit", g)
		}
		f.git[gitKey(g.URL, g.Ref)] = g.Commit
	}
	for _, h := range doc.HTTP {
		if h.URL == "" || !strings.Contains(h.Checksum, ":") {
			return nil, fmt.Errorf("bad lock file: http entry %+v needs url and checksum", h)
		}
		f.http[h.URL] = h.Checksum
	}
	return f, nil
}

func gitKey(url, ref string) string { return url + "#" + ref }

// Bytes returns the file's content: indented JSON, entries sorted, ending
// in a newline. The same lock always gives the same bytes.
func (f *File) Bytes() []byte {
	doc := document{Version: version, Images: f.Images(), Git: f.GitRefs(), HTTP: f.Downloads()}
	dt, _ := json.MarshalIndent(doc, "", "  ") // plain strings always marshal
	return append(dt, '\n')
}

// Write writes the file atomically (a temporary file renamed over path).
func (f *File) Write(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lading.lock-*")
	if err != nil {
		return fmt.Errorf("writing the lock: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(f.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the lock: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the lock: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing the lock: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the lock: %w", err)
	}
	return nil
}

// Images returns the image entries, sorted by ref and platform.
func (f *File) Images() []Image {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Image, 0, len(f.images))
	for k, d := range f.images {
		out = append(out, Image{Ref: k.ref, Platform: k.platform, Digest: d})
	}
	slices.SortFunc(out, func(a, b Image) int {
		return strings.Compare(a.Ref+"\x00"+a.Platform, b.Ref+"\x00"+b.Platform)
	})
	return out
}

// GitRefs returns the Git entries, sorted by URL and ref.
func (f *File) GitRefs() []Git {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Git, 0, len(f.git))
	for k, c := range f.git {
		i := strings.LastIndex(k, "#")
		out = append(out, Git{URL: k[:i], Ref: k[i+1:], Commit: c})
	}
	slices.SortFunc(out, func(a, b Git) int { return strings.Compare(gitKey(a.URL, a.Ref), gitKey(b.URL, b.Ref)) })
	return out
}

// Downloads returns the HTTP entries, sorted by URL.
func (f *File) Downloads() []HTTP {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]HTTP, 0, len(f.http))
	for u, c := range f.http {
		out = append(out, HTTP{URL: u, Checksum: c})
	}
	slices.SortFunc(out, func(a, b HTTP) int { return strings.Compare(a.URL, b.URL) })
	return out
}

// Image returns the digest the lock records for ref on platform
// ("linux/amd64").
func (f *File) Image(ref, platform string) (string, bool) {
	if f == nil {
		return "", false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.images[imageKey{ref, platform}]
	return d, ok
}

// HasImage says whether the lock records ref for any platform.
func (f *File) HasImage(ref string) bool {
	if f == nil {
		return false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	for k := range f.images {
		if k.ref == ref {
			return true
		}
	}
	return false
}

// GitCommit returns the commit the lock records for url at ref.
func (f *File) GitCommit(url, ref string) (string, bool) {
	if f == nil {
		return "", false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.git[gitKey(url, ref)]
	return c, ok
}

// Checksum returns the checksum the lock records for url.
func (f *File) Checksum(url string) (string, bool) {
	if f == nil {
		return "", false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.http[url]
	return c, ok
}

// SetImage records ref's digest on platform.
func (f *File) SetImage(ref, platform, digest string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[imageKey{ref, platform}] = digest
}

// SetGit records the commit url's ref names.
func (f *File) SetGit(url, ref, commit string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.git[gitKey(url, ref)] = commit
}

// SetHTTP records url's checksum.
func (f *File) SetHTTP(url, checksum string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.http[url] = checksum
}

// Merge returns a lock holding f's entries with other's over them.
func (f *File) Merge(other *File) *File {
	out := New()
	for _, src := range []*File{f, other} {
		if src == nil {
			continue
		}
		for _, im := range src.Images() {
			out.SetImage(im.Ref, im.Platform, im.Digest)
		}
		for _, g := range src.GitRefs() {
			out.SetGit(g.URL, g.Ref, g.Commit)
		}
		for _, h := range src.Downloads() {
			out.SetHTTP(h.URL, h.Checksum)
		}
	}
	return out
}
