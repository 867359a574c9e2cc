// Package bundle carries images to sites without internet: it writes
// several images into one OCI image layout (a directory, or a tar of one),
// lists and verifies such a bundle, and pushes it into a registry at the
// other site.
//
// A bundle holds every platform of each image and its attestation
// manifests (provenance, SBOM) where the image has them. Blobs are stored
// by digest, so a layer that several images share is stored once. The
// layout's index.json has one entry per image, annotated with the image's
// full reference (io.containerd.image.name, "registry.example.com/app:1.0")
// and its tag (org.opencontainers.image.ref.name, "1.0"), the way
// BuildKit's and containerd's OCI archives name images, so other tools
// (skopeo, crane, oras, ctr import) read it too.
//
// The pieces:
//
//   - [Create] writes a new bundle from [Source] values: [Remote] images
//     read from their registry, [OCITarball] archives such as the
//     engine's OCI tarball output, and every image of another [Bundle]. [Add] adds images to an existing bundle
//     (an image with the same reference is replaced). Both are atomic: the
//     bundle is assembled beside its destination and renamed into place
//     only when complete, so an interrupted write leaves the old bundle
//     (or none) and no half-written one.
//   - [List] says what a bundle holds: references, digests, platforms,
//     attestations and sizes.
//   - [Verify] checks every blob every image needs is there, with the size
//     and digest its descriptor names; a problem is a [*BlobError] naming
//     the blob, what it is and the image that uses it.
//   - [Push] verifies the bundle, then loads every image into a registry
//     under its repository path and tag, byte for byte, so every digest is
//     kept.
//
// A path ending in ".tar" (or an existing regular file) is a tar bundle;
// any other path is a directory bundle. Registry I/O and the layout writer
// are go-containerregistry's (pkg/v1/remote, pkg/v1/layout); registry
// credentials come from the Docker config ($DOCKER_CONFIG or ~/.docker,
// with its credential helpers) unless [WithKeychain] gives others.
//
// The engine's [engine.Bundle] output adds an image it built to a bundle,
// and `lading bundle` (create, ls, verify, push) is the command line.
//
// [engine.Bundle]: https://pkg.go.dev/github.com/ladingbuild/lading/engine#Bundle
package bundle
