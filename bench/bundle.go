package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ladingbuild/lading/bundle"
	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The bundle metric: what an offline bundle weighs. The examples' images
// (examples/multistage's hello, and examples/java-war's hello-war written
// by its own export target with -bundle) plus two variants that share
// their bases (hello with a debug file, and a second image on hello's
// runtime base) go into one tar bundle; each is also written as its own
// OCI tarball, as `docker save` users ship them.
//
//   - bundle-size: the bundle's size / the sum of its distinct blobs
//     (target 1.02: the tar's headers and index.json are all it adds);
//   - bundle-vs-tarballs: the bundle's size / the per-image tarballs'
//     total, reported: what sharing the bases saves.

const bundleSizeTarget = 1.02

func runBundle(ctx context.Context, c *config) []Row {
	rows := []Row{
		newRow("bundle-size", Bytes, Ratio, bundleSizeTarget),
		newRow("bundle-vs-tarballs", Bytes, Info, 0),
	}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	m, err := newMultistage(c)
	if err != nil {
		return failed(rows, err)
	}
	dir, err := m.context("")
	if err != nil {
		return failed(rows, err)
	}
	defer os.RemoveAll(dir)
	if name, err := ladingLocalName(ctx, dir); err == nil {
		c.ownLocal(name)
	}
	work := filepath.Join(c.work, "bundle")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return failed(rows, err)
	}
	defer os.RemoveAll(work)
	out := filepath.Join(work, "images.tar")

	hello := graph.Image(graph.Build(sdk.Host(dir), benchProxy()), "bench")
	images := []struct {
		ref string
		v   *sdk.Container
	}{
		{"bench.example.com/hello:1.0", hello},
		{"bench.example.com/hello-debug:1.0", hello.WithNewFile("/etc/hello-debug", "debug=1\n")},
		{"bench.example.com/sidecar:1.0", sdk.From("debian:bookworm-slim").WithNewFile("/etc/sidecar.conf", "port=9090\n")},
	}
	eng, err := engine.Connect(ctx, engine.WithAddress(c.addr), engine.Silent(), engine.WithProgress(engine.ProgressQuiet))
	if err != nil {
		return failed(rows, err)
	}
	defer eng.Close()
	var separate int64
	t0 := time.Now()
	for i, img := range images {
		tar := filepath.Join(work, fmt.Sprintf("image-%d.tar", i))
		if _, err := eng.Build(ctx, img.v, engine.Bundle(out, img.ref), engine.OCITarball(tar, img.ref)); err != nil {
			return failed(rows, fmt.Errorf("building %s: %w", img.ref, err))
		}
		n, err := fileSize(tar)
		if err != nil {
			return failed(rows, err)
		}
		separate += n
	}
	war, err := javaExport(ctx, c, out, filepath.Join(work, "war.tar"))
	if err != nil {
		return failed(rows, err)
	}
	separate += war
	c.logf("bundle: %d images built into %s in %s", len(images)+1, out, time.Since(t0).Round(time.Millisecond))

	contents, err := bundle.Verify(ctx, out)
	if err != nil {
		return failed(rows, err)
	}
	size, err := fileSize(out)
	if err != nil {
		return failed(rows, err)
	}
	c.logf("bundle: %d bytes, %d distinct blobs of %d bytes (%.5f), %d bytes as per-image tarballs (%.3f)",
		size, contents.Blobs, contents.Size, float64(size)/float64(contents.Size), separate, float64(size)/float64(separate))
	rows[0] = Row{Name: "bundle-size", Unit: Bytes, Lading: float64(size), Peer: float64(contents.Size), Check: Ratio, Target: bundleSizeTarget,
		Note: fmt.Sprintf("a tar bundle of %d images (examples/multistage and examples/java-war, two variants sharing their bases): its size / its %d distinct blobs' sizes",
			len(contents.Images), contents.Blobs)}
	rows[1] = Row{Name: "bundle-vs-tarballs", Unit: Bytes, Lading: float64(size), Peer: float64(separate), Check: Info,
		Note: "the same bundle / one OCI tarball per image; reported, not targeted"}
	return rows
}

// javaExport runs examples/java-war's export target with -bundle out and
// -oci tar, as a user would, and returns the tarball's size.
func javaExport(ctx context.Context, c *config, out, tar string) (int64, error) {
	app := filepath.Join(filepath.Dir(c.app), "..", "java-war", "app")
	if _, err := os.Stat(filepath.Join(app, "pom.xml")); err != nil {
		return 0, fmt.Errorf("cannot find examples/java-war/app: %w", err)
	}
	bin := filepath.Join(c.work, "java-war")
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, javaPackage).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("go build %s: %w\n%s", javaPackage, err, tailLines(string(out), 15))
		}
	}
	cmd := exec.CommandContext(ctx, bin, "-src", app, "-version", "1.0", "-bundle", out, "-oci", tar, "export")
	cmd.Env = append(withoutVars(os.Environ(), caBundleVars...), "BUILDKIT_HOST="+c.addr, "LADING_PROGRESS=plain")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s export: %w\n%s", javaPackage, err, tailLines(log.String(), 15))
	}
	return fileSize(tar)
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
