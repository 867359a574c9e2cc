package lock

import (
	"fmt"

	"github.com/distribution/reference"
)

// ImageRef is the form a lock keys an image by: the normalized reference
// with its tag (":latest" when none is given) and without a digest
// ("debian:bookworm" -> "docker.io/library/debian:bookworm").
func ImageRef(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("image reference %q: %w", ref, err)
	}
	if t, ok := named.(reference.Tagged); ok {
		tagged, err := reference.WithTag(reference.TrimNamed(named), t.Tag())
		if err != nil {
			return "", fmt.Errorf("image reference %q: %w", ref, err)
		}
		return tagged.String(), nil
	}
	return reference.TagNameOnly(reference.TrimNamed(named)).String(), nil
}
