package bundle

import "context"

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
	dir, done, err := openDir(ctx, path)
	if err != nil {
		return nil, prefix(err)
	}
	defer done()
	return scanPath(ctx, dir, path, false)
}

func list(dir string) (*Contents, error) {
	return scanPath(context.Background(), dir, dir, false)
}

func scanPath(ctx context.Context, dir, name string, hash bool) (*Contents, error) {
	s := &scanner{ctx: ctx, dir: dir, name: name, hash: hash, seen: map[string]*BlobError{}}
	c, err := s.scan()
	if err != nil {
		return nil, prefix(err)
	}
	return c, s.err()
}
