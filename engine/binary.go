package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// buildkitModule is BuildKit's module path; its version in lading's own build
// info is the daemon version lading builds.
const buildkitModule = "github.com/moby/buildkit"

// defaultBuildkitVersion is used when the build info carries no version.
const defaultBuildkitVersion = "v0.34.2"

// buildkitVersion returns the BuildKit version lading was built against.
func buildkitVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != buildkitModule {
				continue
			}
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			if d.Version != "" && d.Version != "(devel)" {
				return d.Version
			}
		}
	}
	return defaultBuildkitVersion
}

// provideBuildkitd returns the buildkitd binary to run and where it came
// from, in order: the one set with [WithBuildkitd] or LADING_BUILDKITD;
// buildkitd on PATH (unless an engine image is set explicitly); the one
// lading cached before, when it is the version lading needs (and from the
// image set, if one is); else it takes buildkitd and buildctl from the
// engine image ([WithEngineImage]) through the local engine's registry
// settings, and only when no registry serves that image does it build
// buildkitd from BuildKit's Go module. Taking or building says which on
// one line of s.log. A pinned image is never replaced by a build.
func provideBuildkitd(ctx context.Context, s *settings, p localPaths) (string, *BinarySource, error) {
	if s.binary != "" {
		if _, err := os.Stat(s.binary); err != nil {
			return "", nil, fmt.Errorf("buildkitd binary: %w", err)
		}
		return s.binary, &BinarySource{From: BinaryFromOption, Binary: s.binary}, nil
	}
	img, err := engineImageFor(s)
	if err != nil {
		return "", nil, err
	}
	if !img.explicit {
		if path, err := exec.LookPath("buildkitd"); err == nil {
			return path, &BinarySource{From: BinaryFromPath, Binary: path}, nil
		}
	}
	if ok, src, _ := usableCache(p, img); ok {
		return p.binary, src, nil
	}

	if err := os.MkdirAll(filepath.Dir(p.binary), 0o755); err != nil {
		return "", nil, fmt.Errorf("creating %s: %w", filepath.Dir(p.binary), err)
	}
	unlock, err := lockFile(ctx, p.binary+".lock")
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	ok, src, stale := usableCache(p, img)
	if ok {
		return p.binary, src, nil // provided by a concurrent caller
	}

	t0 := time.Now()
	src, imgErr := pullEngineBinaries(ctx, s, img, p)
	if imgErr == nil {
		logf(s, "lading: buildkitd %s from image %s (%s, %s) via %s in %s%s; cached in %s",
			src.Version, src.Image, shortDigest(src.Digest), src.Platform, src.Registry,
			time.Since(t0).Round(100*time.Millisecond), stale, filepath.Dir(p.binary))
		return p.binary, src, nil
	}
	if ctx.Err() != nil {
		return "", nil, ctx.Err()
	}
	if img.pinned != "" {
		return "", nil, fmt.Errorf("%w%s; the digest is pinned (%s), so lading does not build buildkitd from source instead: "+
			"make a registry the local engine uses serve that image (copy it with skopeo copy --all docker://%s docker://MIRROR/%s, "+
			"and name the mirror with engine.WithRegistryMirror or LADING_REGISTRY_MIRROR), or correct or remove the pin "+
			"(it names the image index of %s, or this platform's manifest in it)",
			imgErr, stale, img.how, img, img.ref.Context().RepositoryStr()+"@"+img.pinned, defaultEngineImage())
	}
	// The cached binary, if any, is stale: the build must not mistake it
	// for one a concurrent caller just made.
	os.Remove(p.binary)
	os.Remove(sourceFile(p.binary))
	why := fmt.Sprintf("no registry served a usable engine image (%v)%s", imgErr, stale)
	hint := fmt.Sprintf("a registry mirror that serves %s makes the first start take seconds: engine.WithRegistryMirror or LADING_REGISTRY_MIRROR", img)
	if errors.Is(imgErr, errImageUnusable) && img.explicit {
		hint = fmt.Sprintf("%s names %s, which a registry serves but which is no BuildKit %s image: set it to a copy of %s, or unset it",
			img.how, img, buildkitVersion(), defaultEngineImage())
	}
	if err := buildBuildkitd(ctx, p.binary, s.log, why, hint); err != nil {
		return "", nil, fmt.Errorf("%w\n(first, %s; %s)", err, why, hint)
	}
	src = &BinarySource{From: BinaryFromModule, Binary: p.binary, Version: buildkitVersion(), Time: time.Now().UTC().Truncate(time.Second)}
	if err := writeSource(p.binary, src); err != nil {
		return "", nil, err
	}
	return p.binary, src, nil
}

// usableCache reports whether lading's cached buildkitd can be started
// for img, with its record (nil for a cache written before records were
// kept). When it cannot, stale says why for the log (", replacing …"), or
// is empty when there is no cached binary.
func usableCache(p localPaths, img engineImage) (ok bool, src *BinarySource, stale string) {
	fi, err := os.Stat(p.binary)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return false, nil, ""
	}
	src = readSource(p.binary)
	want := buildkitVersion()
	if src != nil && src.SHA256 != "" {
		if sum, err := fileSHA256(p.binary); err != nil || sum != src.SHA256 {
			return false, src, fmt.Sprintf(", replacing the cached buildkitd, whose file %s changed since lading stored it (truncated or replaced)", p.binary)
		}
	}
	switch {
	case src == nil && !img.explicit:
		return true, nil, "" // cached by an older lading: trusted as it was
	case src == nil:
		return false, nil, ", replacing a cached buildkitd of unknown origin"
	case src.Version != want:
		return false, src, fmt.Sprintf(", replacing the cached buildkitd %s", src.Version)
	case !img.explicit:
		return true, src, ""
	case src.From == BinaryFromImage && img.pinned == "" && src.Image == img.String():
		return true, src, ""
	case src.From == BinaryFromImage && img.pinned != "" && sameRepo(src.Image, img) &&
		(src.Digest == img.pinned || src.Manifest == img.pinned):
		return true, src, "" // the pinned digest, taken before by tag or by digest
	}
	return false, src, fmt.Sprintf(", replacing the cached buildkitd from %s", src)
}

// sameRepo reports whether the recorded image reference is in img's
// repository.
func sameRepo(recorded string, img engineImage) bool {
	repo := displayRepo(img.ref.Context())
	return strings.HasPrefix(recorded, repo+"@") || strings.HasPrefix(recorded, repo+":")
}

// shortDigest is a digest cut for a log line: "sha256:969541e7c4be".
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// logf writes one line to the local engine's log output, if any.
func logf(s *settings, format string, args ...any) {
	if s.log != nil {
		fmt.Fprintf(s.log, format+"\n", args...)
	}
}

// buildBuildkitd builds buildkitd at the pinned version into dest with the
// Go toolchain, from a temporary module (go install pkg@version refuses
// BuildKit because its go.mod has exclude directives). why says why it
// builds, on the one line logged to logw, which ends with hint, the way to
// a start in seconds. The caller holds dest's lock.
func buildBuildkitd(ctx context.Context, dest string, logw io.Writer, why, hint string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("no buildkitd binary found and no Go toolchain to build one: " +
			"install buildkitd on PATH, install Go (https://go.dev/dl), or set BUILDKIT_HOST to a running engine")
	}
	version := buildkitVersion()
	if logw != nil {
		fmt.Fprintf(logw, "lading: %s: building buildkitd %s from the Go module with %s (first run only, a few minutes; %s)\n",
			why, version, goBin, hint)
	}
	dir, err := os.MkdirTemp("", "lading-buildkitd-")
	if err != nil {
		return fmt.Errorf("creating build module: %w", err)
	}
	defer os.RemoveAll(dir)
	gomod := fmt.Sprintf("module ladingbuildkitd\n\ngo 1.26\n\nrequire %s %s\n", buildkitModule, version)
	tools := "//go:build tools\n\npackage tools\n\nimport _ \"" + buildkitModule + "/cmd/buildkitd\"\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return fmt.Errorf("writing build module: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tools.go"), []byte(tools), 0o644); err != nil {
		return fmt.Errorf("writing build module: %w", err)
	}
	tmp := dest + ".tmp"
	steps := [][]string{
		{goBin, "mod", "tidy"},
		{goBin, "build", "-trimpath", "-ldflags", "-X " + buildkitModule + "/version.Version=" + version,
			"-o", tmp, buildkitModule + "/cmd/buildkitd"},
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("building buildkitd %s: %s: %w\n%s", version, args[1], err, tail(out.String(), 20))
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("installing buildkitd: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting until ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	var lockErr error // set before done is closed
	done := make(chan struct{})
	go func() { lockErr = syscall.Flock(int(f.Fd()), syscall.LOCK_EX); close(done) }()
	select {
	case <-done:
		if lockErr != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, lockErr)
		}
		return func() {
			// LOCK_UN releases the lock at once even if a child forked
			// meanwhile briefly holds a copy of the descriptor; if it
			// fails, closing the file releases the lock all the same.
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}, nil
	case <-ctx.Done():
		// Nobody waits for the lock any more: whether Flock fails or
		// succeeds late, closing the file drops it.
		go func() { <-done; f.Close() }()
		return nil, fmt.Errorf("waiting for lock %s: %w", path, ctx.Err())
	}
}
