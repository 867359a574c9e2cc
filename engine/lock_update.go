package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// Lock resolves the base images, Git refs and downloads of values live,
// through the engine (with the build's registry credentials, mirrors and
// proxy), for every platform the builds would pull images for, and returns
// a lock recording each tag's digest, each ref's commit and the sha256 of
// each download that sdk.HTTP gives no checksum. Images named by digest,
// Git commits and downloads with a checksum are already pinned and not
// recorded. Compare it with the committed lock with lock.Diff, and write
// it with File.Write: that is `lading lock update`. Lock ignores the lock
// mode; it builds nothing.
func (e *Engine) Lock(ctx context.Context, values ...sdk.Value) (*lock.File, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	if e.s.err != nil {
		return nil, e.s.err
	}
	for i, v := range values {
		if v == nil {
			return nil, fmt.Errorf("lock: value %d of %d is nil", i+1, len(values))
		}
	}
	targets := e.s.platforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}
	}
	// Offline first: a bad value fails before the engine is asked.
	index := &sourceIndex{images: map[string]string{}, pinnedInCode: map[string]bool{}}
	var needs []feature
	for _, v := range values {
		pre, err := lllb.CompileValue(ctx, v, lllb.Options{Platform: targets[0]})
		if err != nil {
			return nil, e.classify(ctx, err)
		}
		index.merge(indexSources(pre))
		if len(needs) == 0 && resolvesSources(pre) {
			needs = append(needs, featureLockSources) // lock_http.go
		}
	}
	attachables, err := e.attachables(nil, nil)
	if err != nil {
		return nil, err
	}
	out := lock.New()
	var fnErr error
	opt := client.SolveOpt{Session: attachables, Internal: true, Ref: identity.NewID()}
	// The source policy applies: a rewrite to a mirror is where the lock's
	// digests come from.
	var pol *policyState
	if e.s.guard.policy != nil {
		pol = &policyState{fn: e.s.guard.policy, index: index}
		opt.SourcePolicyProvider = pol.provider()
	}
	_, err = e.c.Build(ctx, opt, "lading-lock", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		if pol != nil {
			needs = append(needs, featureSourcePolicy)
		}
		if err := e.checkCaps(ctx, c, needs...); err != nil {
			fnErr = err
			return nil, err
		}
		rec := &recordingResolver{r: &gatewayResolver{c: c}, f: out}
		for _, v := range values {
			for _, p := range targets {
				prog, err := lllb.CompileValue(ctx, v, lllb.Options{Platform: p, Resolver: rec})
				if err == nil {
					err = resolveGit(ctx, c, indexSources(prog), out)
				}
				if err == nil {
					err = resolveHTTP(ctx, c, prog, out)
				}
				if err != nil {
					fnErr = err
					return nil, err
				}
			}
		}
		return gateway.NewResult(), nil
	}, nil)
	if err != nil {
		if fnErr != nil {
			err = fnErr
		}
		if perr := pol.denial(err); perr != nil {
			return nil, perr
		}
		var ve *sdk.ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, e.classify(ctx, err)
	}
	return out, nil
}

// recordingResolver resolves base images live and records each tag's
// digest in a lock.
type recordingResolver struct {
	r *gatewayResolver
	f *lock.File
}

func (r *recordingResolver) ResolveImageConfig(ctx context.Context, ref string, platform ocispecs.Platform) (string, []byte, error) {
	dgst, cfg, err := r.r.ResolveImageConfig(ctx, ref, platform)
	if err == nil && !strings.Contains(ref, "@") {
		r.f.SetImage(ref, platforms.Format(platform), dgst)
	}
	return dgst, cfg, err
}
