package engine

import (
	"fmt"
	"os"
	"strings"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
)

// WithLock makes builds use the lock file at path (lock.DefaultPath, in
// the working directory, when empty) in mode: lock.Pinned resolves the
// base images the lock records to their recorded digests, lock.Frozen
// also fails, before anything is built, on a source the lock does not
// record (a *lock.NotLockedError naming the source and the Go file:line of
// its step). lock.Live ignores the lock. Without this option builds read
// LADING_LOCK (live, pinned or frozen) and LADING_LOCK_FILE.
func WithLock(path string, mode lock.Mode) Option {
	return func(s *settings) {
		s.only("WithLock", forBuilds, "it decides how builds resolve their sources")
		if path == "" {
			path = lock.DefaultPath
		}
		s.guard.lockSet, s.guard.lockPath, s.guard.lockMode = true, path, mode
	}
}

// lockMode is the lock mode and path of builds: the option, else
// LADING_LOCK and LADING_LOCK_FILE.
func (e *Engine) lockMode() (lock.Mode, string, error) {
	if e.s.guard.lockSet {
		return e.s.guard.lockMode, e.s.guard.lockPath, nil
	}
	mode, err := lock.ParseMode(os.Getenv("LADING_LOCK"))
	if err != nil {
		return lock.Live, "", fmt.Errorf("LADING_LOCK: %w", err)
	}
	path := os.Getenv("LADING_LOCK_FILE")
	if path == "" {
		path = lock.DefaultPath
	}
	return mode, path, nil
}

// pin returns the reference to resolve for ref on platform: ref@digest
// when the lock records it, ref itself when the build is live, the ref
// carries a digest already, or (pinned) the lock does not record it. A
// frozen build fails on an unrecorded ref.
func (g *guard) pin(ref string, platform ocispecs.Platform) (string, error) {
	if g == nil || g.mode == lock.Live || strings.Contains(ref, "@") {
		return ref, nil
	}
	p := platforms.Format(platform)
	if d, ok := g.lock.Image(ref, p); ok {
		return ref + "@" + d, nil
	}
	if g.mode == lock.Frozen {
		return "", &lock.NotLockedError{Kind: "image", Source: ref, Platform: p, Location: g.index.image(ref), Path: g.path}
	}
	return ref, nil
}

// frozenCheck fails on the first source of the offline program that the
// lock does not record: base images (for any platform: pin checks each
// platform when the build resolves it), Git refs that are not commits and
// downloads without a checksum (lock_http.go).
func (g *guard) frozenCheck(pre *lllb.Program) error {
	for _, ref := range pre.Bases {
		if strings.Contains(ref, "@") || g.lock.HasImage(ref) {
			continue
		}
		return &lock.NotLockedError{Kind: "image", Source: ref, Location: g.index.image(ref), Path: g.path}
	}
	for _, s := range g.index.git {
		if _, ok := g.lock.GitCommit(s.url, s.ref); !ok && !commitLike(s.ref) {
			return &lock.NotLockedError{Kind: "git", Source: lock.SourceURL(s.url) + "#" + s.ref, Location: s.loc, Path: g.path}
		}
	}
	return g.frozenDownloads(pre)
}

// commitLike says whether a Git ref is a full commit id already.
func commitLike(ref string) bool {
	if len(ref) != 40 && len(ref) != 64 {
		return false
	}
	return strings.Trim(ref, "0123456789abcdef") == ""
}
