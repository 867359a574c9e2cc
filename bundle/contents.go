package bundle

import (
	"context"
	"fmt"
	"io/fs"
	"os"
)

// Contents is what a bundle holds.
type Contents struct {
	// Images are the bundle's images, in index.json order.
	Images []Image
	// Blobs is the number of distinct blobs the images use, and Size
	// their total size in bytes: each shared blob counted once.
	Blobs int
	Size  int64
}

// Image is one image of a bundle.
type Image struct {
	// Ref is the image's full reference ("docker.io/library/debian:bookworm").
	Ref string
	// Digest is the digest of its index or manifest, what a registry
	// serves for Ref once the bundle is pushed.
	Digest string
	// MediaType is the media type of that index or manifest.
	MediaType string
	// Platforms are its platforms' manifests.
	Platforms []Platform
	// Attestations is the number of attestation manifests (provenance,
	// SBOM) it carries.
	Attestations int
	// Size is the total size of the blobs it uses, each counted once:
	// what the bundle would weigh with this image alone.
	Size int64
}

// Platform is one platform's manifest of an image.
type Platform struct {
	// Platform is "os/arch[/variant]" ("linux/arm64/v8").
	Platform string
	// Digest is the manifest's digest.
	Digest string
	// Size is the total size of its manifest, config and layers.
	Size int64
}

// List says what the bundle at path (a directory or a tar archive)
// holds. It reads the bundle's manifests only; [Verify] checks the
// blobs' contents. A blob List needs and cannot read is an error (a
// [*BlobError]), returned with what could be read.
func List(ctx context.Context, path string) (*Contents, error) {
	return scanBundle(ctx, path, false)
}

func list(dir string) (*Contents, error) {
	return scanPath(context.Background(), dir, dir, false)
}

// scanBundle scans the bundle at path, a directory or a tar archive read
// in place.
func scanBundle(ctx context.Context, path string, hash bool) (*Contents, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, prefix(fmt.Errorf("opening the bundle: %w", err))
	}
	if fi.IsDir() {
		return scanPath(ctx, path, path, hash)
	}
	t, err := openTarFS(ctx, path)
	if err != nil {
		return nil, prefix(fmt.Errorf("reading the bundle %s: %w", path, err))
	}
	defer t.Close()
	return scanFS(ctx, t, path, hash)
}

func scanPath(ctx context.Context, dir, name string, hash bool) (*Contents, error) {
	return scanFS(ctx, os.DirFS(dir), name, hash)
}

func scanFS(ctx context.Context, fsys fs.FS, name string, hash bool) (*Contents, error) {
	s := &scanner{ctx: ctx, fsys: fsys, name: name, hash: hash, seen: map[string]*BlobError{}}
	c, err := s.scan()
	if err != nil {
		return nil, prefix(err)
	}
	return c, s.err()
}
