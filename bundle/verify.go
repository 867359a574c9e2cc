package bundle

import "context"

// Verify checks the bundle at path (a directory or a tar archive): every
// blob each image needs — indexes, manifests, attestation manifests,
// configs and layers — is present with the size and digest its descriptor
// names. A problem is a [*BlobError] naming the blob, what it is and the
// image that uses it (all the problems found, joined). It returns what the
// bundle holds. A tar bundle is read in place, not unpacked.
func Verify(ctx context.Context, path string) (*Contents, error) {
	return scanBundle(ctx, path, true)
}
