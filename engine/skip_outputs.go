package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryCheckTimeout bounds how long the skip check waits for a
// registry: one that does not answer means the build runs.
const registryCheckTimeout = 10 * time.Second

// outputsInPlace reports whether every tag a skipped build would push
// still names the image the last build pushed. The registry is asked (a
// HEAD request per tag, with the build's credentials), not the engine: a
// tag deleted or moved since — by another target, branch or machine that
// pushes to it — means the build runs and pushes it again. Anything that
// cannot be confirmed means no skip.
func (r *run) outputsInPlace(ctx context.Context, want string) (string, bool) {
	var refs []string
	for _, o := range r.req.outputs {
		if o, ok := o.(*registryOutput); ok {
			refs = append(refs, o.refs...)
		}
	}
	if len(refs) == 0 {
		return "", true
	}
	if want == "" {
		return "the last build did not record the digest it pushed", false
	}
	named, err := parseTags(refs)
	if err != nil {
		return err.Error(), false
	}
	kc, err := engineKeychain(&r.e.s)
	if err != nil {
		return fmt.Sprintf("cannot read registry credentials to check the pushed image: %v", err), false
	}
	ctx, cancel := context.WithTimeout(ctx, registryCheckTimeout)
	defer cancel()
	for _, n := range named {
		var opts []name.Option
		if slices.Contains(r.e.s.insecure, reference.Domain(n)) {
			opts = append(opts, name.Insecure)
		}
		ref, err := name.ParseReference(n.String(), opts...)
		if err != nil {
			return fmt.Sprintf("output %s: %v", n, err), false
		}
		desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("lading"))
		var terr *transport.Error
		switch {
		case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
			return fmt.Sprintf("%s is no longer in the registry (deleted since the last build)", n), false
		case err != nil:
			return fmt.Sprintf("cannot confirm that %s still holds the last build's image: %v", n, err), false
		}
		if got := desc.Digest.String(); got != want {
			return fmt.Sprintf("%s no longer holds the last build's image (%s, now %s)", n, shortDigest(want), shortDigest(got)), false
		}
	}
	return "", true
}
