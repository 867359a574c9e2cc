// Package inspect reads back what lading (or any BuildKit client) attached
// to an image: its config and platforms, the SLSA provenance and the SPDX
// SBOM of each platform, and every in-toto attestation as stored.
//
// [Read] takes a registry reference ("registry.example.com/app:1.0") or
// the path of an OCI tarball ([engine.OCITarball]). It walks the image
// index with go-containerregistry and finds each platform's attestations
// the way buildx does: the index's attestation manifests
// (annotation vnd.docker.reference.type=attestation-manifest) that point
// at the platform's manifest (vnd.docker.reference.digest), whose layers
// are in-toto statements.
//
// The command `lading inspect IMAGE` prints what [Read] returns.
//
// [engine.OCITarball]: https://pkg.go.dev/github.com/ladingbuild/lading/engine#OCITarball
package inspect
