package engine

import (
	"context"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/lock"
)

// policyAttachable is the source policy session the build serves, or nil
// (an untyped nil: SolveOpt tests the interface) without a policy.
func (r *run) policyAttachable() session.Attachable {
	if r.guard == nil || r.guard.policy == nil {
		return nil
	}
	r.guard.policy.g = r.guard
	return r.guard.policy.provider()
}

// resolver is the gateway resolver of the build: base images pinned by
// the lock. An engine without the source policy session a policy needs is
// refused before anything is solved (featureSourcePolicy, capability.go).
func (r *run) resolver(_ context.Context, c gateway.Client) (*gatewayResolver, error) {
	return &gatewayResolver{c: c, pin: r.guard.pin, rewrote: r.guard.rewrote}, nil
}

// rewrote says what the source policy rewrote a reference to, if it did.
func (g *guard) rewrote(ref string) (string, bool) {
	if g == nil {
		return "", false
	}
	return g.policy.rewrote(ref)
}

// policyError is the policy's denial behind a failed solve, or a
// download that no longer matches its checksum (lock_http.go), or nil.
// The caller holds r.mu.
func (r *run) policyError(err error) error {
	if r.guard == nil {
		return nil
	}
	if perr := r.guard.policy.denial(err); perr != nil {
		return perr
	}
	if derr := r.guard.downloadError(err, r.progs); derr != nil {
		return derr
	}
	return nil
}

// lockPinned says whether the build resolves name (a normalized ref
// without digest) through the lock.
func (g *guard) lockPinned(name string) bool {
	return g != nil && g.mode != lock.Live && g.lock.HasImage(name)
}

// platformOf converts BuildKit's platform message.
func platformOf(p *pb.Platform) ocispecs.Platform {
	return ocispecs.Platform{OS: p.GetOS(), Architecture: p.GetArchitecture(), Variant: p.GetVariant(), OSVersion: p.GetOSVersion(), OSFeatures: p.GetOSFeatures()}
}
