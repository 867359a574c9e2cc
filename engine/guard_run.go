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

// resolver is the gateway resolver of the build: base images pinned by the
// lock, and, with a source policy, an engine that can enforce it (checked
// before anything is solved).
func (r *run) resolver(ctx context.Context, c gateway.Client) (*gatewayResolver, error) {
	if r.guard != nil && r.guard.policy != nil {
		caps := c.BuildOpts().LLBCaps
		if err := policyCapable(caps.Supports(pb.CapSourcePolicySession) == nil, func() string { return r.e.version(ctx) }, r.e.addr); err != nil {
			return nil, err
		}
	}
	return &gatewayResolver{c: c, pin: r.guard.pin}, nil
}

// policyCapable fails when the engine lacks the source policy session:
// has says whether its capabilities list it, version reports its version
// (asked only then), addr is where it is.
func policyCapable(has bool, version func() string, addr string) error {
	if has {
		return nil
	}
	return &PolicyUnsupportedError{Version: version(), Address: addr}
}

// version is the engine's BuildKit version, or "of unknown version".
func (e *Engine) version(ctx context.Context) string {
	info, err := e.c.Info(ctx)
	if err != nil || info.BuildkitVersion.Version == "" {
		return "of unknown version"
	}
	return info.BuildkitVersion.Version
}

// policyError is the policy's denial behind a failed solve, or nil.
func (r *run) policyError(err error) error {
	if r.guard == nil {
		return nil
	}
	return r.guard.policy.denial(err)
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
