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

	"github.com/moby/buildkit/util/urlutil"
	digest "github.com/opencontainers/go-digest"
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

// ErrBadLock is wrapped by Read's and Parse's error when the file is not
// a lock this lading can read and `lading lock update` may rewrite it:
// not JSON, an entry missing a field, an entry recorded twice. A file of
// a newer version is not ErrBadLock: it needs a newer lading.
var ErrBadLock = errors.New("bad lock file")

// Parse reads a lock file's content.
func Parse(dt []byte) (*File, error) {
	// The version first: a newer format may have fields this one lacks.
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(dt, &head); err != nil {
		return nil, fmt.Errorf("%w: %w (fix it by hand or run `lading lock update`)", ErrBadLock, err)
	}
	switch {
	case head.Version == nil:
		return nil, fmt.Errorf("%w: no \"version\" (fix it by hand or run `lading lock update`)", ErrBadLock)
	case *head.Version > version:
		return nil, fmt.Errorf("lock file version %d was written by a newer lading (this one reads version %d): upgrade lading", *head.Version, version)
	case *head.Version != version:
		return nil, fmt.Errorf("%w: version %d: this lading reads version %d; run `lading lock update`", ErrBadLock, *head.Version, version)
	}
	var doc document
	dec := json.NewDecoder(bytes.NewReader(dt))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w (fix it by hand or run `lading lock update`)", ErrBadLock, err)
	}
	f := New()
	dup := func(what string) error {
		return fmt.Errorf("%w: %s is recorded twice (a merge kept both sides?): keep one, or run `lading lock update`", ErrBadLock, what)
	}
	for _, im := range doc.Images {
		if im.Ref == "" || im.Platform == "" || digest.Digest(im.Digest).Validate() != nil {
			return nil, fmt.Errorf("%w: image entry %+v needs ref, platform and a digest (\"sha256:\" and 64 hex digits)", ErrBadLock, im)
		}
		k := imageKey{im.Ref, im.Platform}
		if _, ok := f.images[k]; ok {
			return nil, dup("image " + im.Ref + " (" + im.Platform + ")")
		}
		f.images[k] = im.Digest
	}
	for _, g := range doc.Git {
		if g.URL == "" || !commitID(g.Commit) {
			return nil, fmt.Errorf("%w: git entry %+v needs url and commit (a full commit id)", ErrBadLock, g)
		}
		k := gitKey(g.URL, g.Ref)
		if _, ok := f.git[k]; ok {
			return nil, dup("Git " + k)
		}
		f.git[k] = g.Commit
	}
	for _, h := range doc.HTTP {
		if h.URL == "" || digest.Digest(h.Checksum).Validate() != nil {
			return nil, fmt.Errorf("%w: http entry %+v needs url and checksum (\"sha256:\" and 64 hex digits)", ErrBadLock, h)
		}
		u := SourceURL(h.URL)
		if _, ok := f.http[u]; ok {
			return nil, dup("download " + u)
		}
		f.http[u] = h.Checksum
	}
	return f, nil
}

func gitKey(url, ref string) string { return SourceURL(url) + "#" + ref }

// SourceURL is the form a lock records a Git or download URL in: with any
// user name and password masked ("https://xxxxx:xxxxx@host/…"), so that a
// credential in a URL never reaches the committed file. Lookups mask the
// same way, so a program's URL still finds its entry.
func SourceURL(u string) string { return urlutil.RedactCredentials(u) }

// commitID says whether s is a full Git commit id (SHA-1 or SHA-256).
func commitID(s string) bool {
	return (len(s) == 40 || len(s) == 64) && strings.Trim(s, "0123456789abcdef") == ""
}

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
	c, ok := f.http[SourceURL(url)]
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
	f.http[SourceURL(url)] = checksum
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
