package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BinaryFrom says how lading got the local engine's buildkitd.
type BinaryFrom string

// Where the local engine's buildkitd comes from.
const (
	// BinaryFromOption: the binary named with [WithBuildkitd] or
	// LADING_BUILDKITD.
	BinaryFromOption BinaryFrom = "option"
	// BinaryFromPath: buildkitd found on PATH.
	BinaryFromPath BinaryFrom = "path"
	// BinaryFromImage: taken from the official moby/buildkit image (or
	// the one set with [WithEngineImage]) and cached.
	BinaryFromImage BinaryFrom = "image"
	// BinaryFromModule: built from BuildKit's Go module with the Go
	// toolchain, when no registry served the image, and cached.
	BinaryFromModule BinaryFrom = "module"
)

// BinarySource says where the local engine's buildkitd came from. For the
// binaries lading caches ($XDG_CACHE_HOME/lading/bin) it is recorded in a
// small file beside them (buildkitd.source), so a later start and
// [LocalStatus] report it too.
type BinarySource struct {
	// From is how lading got the binary.
	From BinaryFrom `json:"from"`
	// Binary is the buildkitd file.
	Binary string `json:"binary"`
	// Version is the version the binary reported (buildkitd --version)
	// before lading first used it; empty when it was not checked
	// (BinaryFromOption, BinaryFromPath).
	Version string `json:"version,omitempty"`
	// Image is the image reference the binaries were taken from
	// ("docker.io/moby/buildkit:v0.34.2"); BinaryFromImage only.
	Image string `json:"image,omitempty"`
	// Digest is the digest Image resolved to (the image index of a
	// multi-platform image, which is what a pin names).
	Digest string `json:"digest,omitempty"`
	// Manifest is the digest of the platform's own image manifest within
	// Digest (equal to Digest for a single-platform image).
	Manifest string `json:"manifest,omitempty"`
	// Platform is the platform taken ("linux/amd64").
	Platform string `json:"platform,omitempty"`
	// Registry is the host the image was pulled from: a mirror or the
	// image's own registry.
	Registry string `json:"registry,omitempty"`
	// Time is when lading got the binary.
	Time time.Time `json:"time,omitzero"`
	// SHA256 is the hex SHA-256 of the buildkitd file when lading stored
	// it; before starting a cached binary lading checks it, and takes the
	// binary again when the file was truncated or replaced since.
	SHA256 string `json:"sha256,omitempty"`
}

// String is one line for people: "image docker.io/moby/buildkit:v0.34.2@sha256:… (linux/amd64, via 127.0.0.1:5000)".
func (b *BinarySource) String() string {
	if b == nil {
		return "unknown"
	}
	switch b.From {
	case BinaryFromImage:
		via := ""
		if b.Registry != "" {
			via = ", via " + b.Registry
		}
		ref := b.Image
		if !strings.Contains(ref, "@") {
			ref += "@" + b.Digest
		}
		return fmt.Sprintf("%s (buildkitd %s) from image %s (%s%s)", b.Binary, b.Version, ref, b.Platform, via)
	case BinaryFromModule:
		return fmt.Sprintf("%s (buildkitd %s) built from the Go module %s@%s", b.Binary, b.Version, buildkitModule, b.Version)
	case BinaryFromPath:
		return b.Binary + " (found on PATH)"
	case BinaryFromOption:
		return b.Binary + " (set with engine.WithBuildkitd or LADING_BUILDKITD)"
	}
	return b.Binary
}

// sourceFile is the record beside a cached buildkitd.
func sourceFile(bin string) string { return bin + ".source" }

// readSource reads the record beside the cached binary bin; nil when there
// is none or it cannot be read (a cache written by an older lading).
func readSource(bin string) *BinarySource {
	dt, err := os.ReadFile(sourceFile(bin))
	if err != nil {
		return nil
	}
	var src BinarySource
	if err := json.Unmarshal(dt, &src); err != nil || src.From == "" {
		return nil
	}
	src.Binary = bin
	return &src
}

// writeSource writes the record beside bin atomically, with bin's
// SHA-256.
func writeSource(bin string, src *BinarySource) error {
	sum, err := fileSHA256(bin)
	if err != nil {
		return fmt.Errorf("recording where buildkitd came from: %w", err)
	}
	src.SHA256 = sum
	dt, err := json.MarshalIndent(src, "", "  ")
	if err != nil {
		return err
	}
	tmp := sourceFile(bin) + ".tmp"
	if err := os.WriteFile(tmp, append(dt, '\n'), 0o644); err != nil {
		return fmt.Errorf("recording where buildkitd came from: %w", err)
	}
	if err := os.Rename(tmp, sourceFile(bin)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recording where buildkitd came from: %w", err)
	}
	return nil
}

// fileSHA256 is the hex SHA-256 of a file's contents.
func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// runningSource is the record of the binary the engine process pid runs,
// when it is lading's cached binary; nil otherwise. The rootless engine's
// pid is rootlesskit's, which runs buildkitd two processes down: the
// process's descendants, a few levels deep, are looked at too.
func runningSource(p localPaths, pid int, running bool) *BinarySource {
	if !running || pid <= 0 {
		return nil
	}
	cached, err := filepath.EvalSymlinks(p.binary)
	if err != nil {
		return nil
	}
	level := []int{pid}
	for depth := 0; depth < 4 && len(level) > 0; depth++ {
		var next []int
		for _, q := range level {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", q))
			// A binary replaced while it runs shows as "PATH (deleted)":
			// the record beside it then describes its replacement, not it.
			if err == nil && filepath.Clean(exe) == cached {
				return readSource(p.binary)
			}
			next = append(next, childPIDs(q)...)
		}
		level = next
	}
	return nil
}

// childPIDs lists the children of process pid (from
// /proc/PID/task/*/children); none when they cannot be read.
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		dt, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(dt)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}
