package bundle

import (
	"fmt"

	"github.com/distribution/reference"
)

// The annotations on index.json entries that name an image.
const (
	// AnnotationImageName holds the image's full reference
	// ("docker.io/library/debian:bookworm"), as containerd and BuildKit
	// write it.
	AnnotationImageName = "io.containerd.image.name"
	// AnnotationRefName holds the image's tag ("bookworm"), as the OCI
	// image layout specification names it.
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// normalize parses ref into its full form. A reference without tag or
// digest means its "latest" tag, as docker pull reads it.
func normalize(ref string) (reference.Named, error) {
	if ref == "" {
		return nil, fmt.Errorf("empty image reference; name one, e.g. registry.example.com/app:1.0")
	}
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	return reference.TagNameOnly(n), nil
}

// annotations names n on its index.json entry.
func annotations(n reference.Named) map[string]string {
	a := map[string]string{AnnotationImageName: n.String()}
	if t, ok := n.(reference.Tagged); ok {
		a[AnnotationRefName] = t.Tag()
	}
	return a
}
