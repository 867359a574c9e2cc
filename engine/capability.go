package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// feature is something a build needs from the engine: the first BuildKit
// release that has it and the capabilities an engine that has it reports.
// Other checks (a source policy session, merge or diff steps) declare
// their own and pass them to [Engine.require] and [Engine.checkCaps].
type feature struct {
	// name is how errors name the feature ("SLSA v1 provenance attestations").
	name string
	// minVersion is the first BuildKit release with the feature ("v0.21.0").
	minVersion string
	// gatewayCaps and llbCaps are the capabilities an engine with the
	// feature reports in a build (the gateway's BuildOpts().Caps and
	// LLBCaps). An engine that reports them passes whatever its version
	// says (forks number their releases their own way).
	gatewayCaps []apicaps.CapID
	llbCaps     []apicaps.CapID
	// typed, when set, makes the feature's own error instead of a
	// *CapabilityError (version is "of unknown version" when the engine
	// does not say).
	typed func(version, addr string) error
}

// The features lading's builds may need. Versions are from BuildKit's
// release notes; caps are BuildKit's own IDs.
var (
	featureProvenance = feature{
		name:        "SLSA v1 provenance attestations",
		minVersion:  "v0.23.0",
		gatewayCaps: []apicaps.CapID{gatewaypb.CapAttestations},
	}
	featureSBOM = feature{
		name:        "SBOM attestations",
		minVersion:  "v0.11.0",
		gatewayCaps: []apicaps.CapID{gatewaypb.CapAttestations},
	}
	// featureRewriteTimestamp: the exporters' rewrite-timestamp, which
	// builds with an epoch (reproducible digests) set.
	featureRewriteTimestamp = feature{name: "reproducible timestamps (source-date-epoch with rewrite-timestamp)", minVersion: "v0.13.0"}
	// featureSourcePolicy: BuildKit's source policy session, which a
	// source policy (engine.WithSourcePolicy) and Git refs pinned by the
	// lock need; its error is a *PolicyUnsupportedError.
	featureSourcePolicy = feature{
		name:       "source policy",
		minVersion: "v0.26.0",
		llbCaps:    []apicaps.CapID{pb.CapSourcePolicySession},
		typed: func(version, addr string) error {
			return &PolicyUnsupportedError{Version: version, Address: addr}
		},
	}
	// featureGatewayEvaluate: the gateway solves lading's builds run in.
	featureGatewayEvaluate = feature{
		name:        "evaluated gateway solves",
		minVersion:  "v0.11.0",
		gatewayCaps: []apicaps.CapID{gatewaypb.CapGatewayEvaluateSolve},
	}
)

// features lists what this build needs from the engine: every build runs
// evaluated gateway solves; the attestations preflight decided on
// ([run.requestAttestations]); timestamps rewritten to the epoch.
func (r *run) features() []feature {
	fs := []feature{featureGatewayEvaluate}
	if _, ok := r.opt.FrontendAttrs["attest:provenance"]; ok {
		fs = append(fs, featureProvenance)
	}
	if r.attest.sbom != nil {
		fs = append(fs, featureSBOM)
	}
	if r.epoch != nil && len(r.exports) > 0 {
		fs = append(fs, featureRewriteTimestamp)
	}
	if r.guard != nil && r.guard.policy != nil {
		fs = append(fs, featureSourcePolicy)
	}
	return fs
}

// CapabilityError is returned before a build starts when the engine lacks
// a feature the build needs.
type CapabilityError struct {
	// Feature is what the build needs.
	Feature string
	// Needs is the first BuildKit release with it ("v0.21.0").
	Needs string
	// Address and Version are the engine's ("unix:///run/buildkit/buildkitd.sock", "v0.12.5").
	Address, Version string
	// Missing lists the capabilities the engine did not report, if it was
	// asked for them; empty when its version alone decided.
	Missing []string
}

func (e *CapabilityError) Error() string {
	v := e.Version
	if v == "" {
		v = "of unknown version"
	}
	msg := fmt.Sprintf("this build needs BuildKit ≥ %s for %s; the engine at %s is %s", e.Needs, e.Feature, e.Address, v)
	if len(e.Missing) > 0 {
		msg += " and does not report " + strings.Join(e.Missing, ", ")
	}
	return msg + "; upgrade the engine (see docs/troubleshooting.md, \"this build needs BuildKit\")"
}

// versions caches each connection's engine version: the *client.Client
// (shared by an Engine and its With copies) → *engineVersion.
var versions sync.Map

// versionOnce is one connection's engine version, asked until the engine
// answers.
type versionOnce struct {
	mu      sync.Mutex
	known   bool
	version string
}

// engineVersion returns the engine's BuildKit version ("v0.34.2"), asked
// once per connection; "" if the engine does not say (and then asked
// again next time).
func (e *Engine) engineVersion(ctx context.Context) string {
	v, _ := versions.LoadOrStore(e.c, &versionOnce{})
	vo := v.(*versionOnce)
	vo.mu.Lock()
	defer vo.mu.Unlock()
	if !vo.known {
		if info, err := e.c.Info(ctx); err == nil {
			vo.version, vo.known = info.BuildkitVersion.Version, true
		}
	}
	return vo.version
}

// require checks, before a solve, that the engine's version has every
// feature in fs. A version lading cannot parse (a fork, a development
// build) passes here: the capabilities are checked again inside the
// build ([Engine.checkCaps]).
func (e *Engine) require(ctx context.Context, fs ...feature) error {
	v := e.engineVersion(ctx)
	for _, f := range fs {
		if olderThan(v, f.minVersion) {
			return f.error(v, e.Address(), nil)
		}
	}
	return nil
}

// checkCaps checks, inside the build and before anything is solved, that
// the engine reports the capabilities of every feature in fs.
func (e *Engine) checkCaps(ctx context.Context, c gateway.Client, fs ...feature) error {
	opts := c.BuildOpts()
	for _, f := range fs {
		if missing := missingCaps(f, opts.Caps, opts.LLBCaps); len(missing) > 0 {
			return f.error(e.engineVersion(ctx), e.Address(), missing)
		}
	}
	return nil
}

// error is the error of an engine at addr, of version v, without f.
func (f feature) error(v, addr string, missing []string) error {
	if f.typed != nil {
		if v == "" {
			v = "of unknown version"
		}
		return f.typed(v, addr)
	}
	return &CapabilityError{Feature: f.name, Needs: f.minVersion, Address: addr, Version: v, Missing: missing}
}

// forgetVersion drops the cached version of the connection c: it is closed.
func forgetVersion(c any) { versions.Delete(c) }

// missingCaps lists the capabilities of f that the engine's gateway and
// LLB cap sets do not have.
func missingCaps(f feature, gateway, llb apicaps.CapSet) []string {
	var missing []string
	for _, id := range f.gatewayCaps {
		if err := gateway.Supports(id); err != nil {
			missing = append(missing, string(id))
		}
	}
	for _, id := range f.llbCaps {
		if err := llb.Supports(id); err != nil {
			missing = append(missing, string(id))
		}
	}
	return missing
}

// checkEngine is the build's check before the solve: the engine's version
// against what the build needs.
func (r *run) checkEngine(ctx context.Context) error {
	return r.e.require(ctx, r.features()...)
}

// checkCaps is the build's check inside the gateway, before the first
// solve: the engine's reported capabilities against what it needs.
func (r *run) checkCaps(ctx context.Context, c gateway.Client) error {
	return r.e.checkCaps(ctx, c, r.features()...)
}

// olderThan says whether the release have is known to be older than
// want. Unparsable versions are not known to be older.
func olderThan(have, want string) bool {
	h, ok1 := parseVersion(have)
	w, ok2 := parseVersion(want)
	if !ok1 || !ok2 {
		return false
	}
	for i := range h {
		if h[i] != w[i] {
			return h[i] < w[i]
		}
	}
	return false
}

// parseVersion reads "v0.34.2" (also "0.34.2", "v0.34.2-rc1",
// "v0.34.2+dirty") as its three numbers.
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if i := strings.IndexAny(v, "-+ "); i >= 0 {
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
