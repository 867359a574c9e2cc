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
	"syscall"
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

// findBuildkitd returns the buildkitd binary to run: the explicit one, then
// buildkitd on PATH, then the one lading built before. It returns "" when
// none exists.
func findBuildkitd(s *settings, p localPaths) (string, error) {
	if s.binary != "" {
		if _, err := os.Stat(s.binary); err != nil {
			return "", fmt.Errorf("buildkitd binary: %w", err)
		}
		return s.binary, nil
	}
	if path, err := exec.LookPath("buildkitd"); err == nil {
		return path, nil
	}
	if fi, err := os.Stat(p.binary); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return p.binary, nil
	}
	return "", nil
}

// buildBuildkitd builds buildkitd at the pinned version into dest with the
// Go toolchain, from a temporary module (go install pkg@version refuses
// BuildKit because its go.mod has exclude directives). Progress notes go to
// logw. Concurrent callers are serialised by a lock file.
func buildBuildkitd(ctx context.Context, dest string, logw io.Writer) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("no buildkitd binary found and no Go toolchain to build one: " +
			"install buildkitd on PATH, install Go (https://go.dev/dl), or set BUILDKIT_HOST to a running engine")
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(dest), err)
	}
	unlock, err := lockFile(ctx, dest+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(dest); err == nil {
		return nil // built by a concurrent caller
	}

	version := buildkitVersion()
	if logw != nil {
		fmt.Fprintf(logw, "lading: building buildkitd %s with %s (first run only, a few minutes)\n", version, goBin)
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
