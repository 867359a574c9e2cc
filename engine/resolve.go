package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// gatewayResolver resolves base image configs through the build's gateway
// session, so that registry credentials and mirrors apply.
type gatewayResolver struct {
	c gateway.Client
	// pin returns the reference to resolve for a base image (the lock's
	// digest added); nil resolves the reference itself.
	pin func(ref string, platform ocispecs.Platform) (string, error)
	// rewrote says what the source policy rewrote a reference to; nil
	// without a policy.
	rewrote func(ref string) (string, bool)
	mu      sync.Mutex
	pending map[string]*resolution
}

// resolution is one base image config being looked up.
type resolution struct {
	done chan struct{}
	dgst string
	cfg  []byte
	err  error
}

// prefetch starts resolving refs for platform concurrently; later
// ResolveImageConfig calls for them wait for the result.
func (r *gatewayResolver) prefetch(ctx context.Context, refs []string, platform ocispecs.Platform) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]*resolution{}
	}
	for _, ref := range refs {
		key := ref + "|" + platforms.Format(platform)
		if _, ok := r.pending[key]; ok {
			continue
		}
		res := &resolution{done: make(chan struct{})}
		r.pending[key] = res
		go func() {
			defer close(res.done)
			res.dgst, res.cfg, res.err = r.pinned(ctx, ref, platform)
		}()
	}
}

func (r *gatewayResolver) ResolveImageConfig(ctx context.Context, ref string, platform ocispecs.Platform) (string, []byte, error) {
	r.mu.Lock()
	res, ok := r.pending[ref+"|"+platforms.Format(platform)]
	r.mu.Unlock()
	if ok {
		select {
		case <-res.done:
			return res.dgst, res.cfg, res.err
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	}
	return r.pinned(ctx, ref, platform)
}

// pinned resolves ref, or the reference pin gives for it.
func (r *gatewayResolver) pinned(ctx context.Context, ref string, platform ocispecs.Platform) (string, []byte, error) {
	if r.pin != nil {
		p, err := r.pin(ref, platform)
		if err != nil {
			return "", nil, err
		}
		ref = p
	}
	return r.fetch(ctx, ref, platform)
}

// fetch resolves ref through the gateway.
func (r *gatewayResolver) fetch(ctx context.Context, ref string, platform ocispecs.Platform) (string, []byte, error) {
	_, dgst, cfg, err := r.c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: "default"},
	})
	if err != nil {
		if r.rewrote != nil {
			if to, ok := r.rewrote(ref); ok {
				return "", nil, fmt.Errorf("resolving image %q, which the source policy rewrote to %q: %w", ref, to, err)
			}
		}
		return "", nil, fmt.Errorf("resolving image %q: %w", ref, err)
	}
	return dgst.String(), cfg, nil
}
