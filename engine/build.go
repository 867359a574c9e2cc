package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// Result describes a finished build.
type Result struct {
	// Digest is the digest ("sha256:…") of what the build exported as an
	// image (published or written as a tarball): the image index when the
	// image carries attestations (the default, see docs/provenance.md) or
	// several platforms, else the image manifest; empty otherwise.
	Digest string
	// Summary lists the steps, which ran and which were cached.
	Summary Summary
	// BuildID is the daemon's reference for this build: the record in its
	// build history (`buildctl debug histories`, `buildctl debug logs
	// BuildID`). It is empty for builds that read a secret or use a proxy:
	// those are kept out of the history, and their reference is not handed
	// out, so that what their steps print stays as private as the daemon
	// allows (see docs/security.md).
	BuildID string
	// Loaded lists the images [DockerLoad] and [PodmanLoad] outputs loaded.
	Loaded []LoadedImage

	stdout, stderr string
}

// compatibilityVersion pins BuildKit's output format (layer and image
// defaults) to the one of BuildKit v0.31 and later, so that digests do not
// move when the engine is upgraded. Engines that predate the setting ignore
// it and produce the same format.
const compatibilityVersion = 30

// compileFunc compiles the value being built with the given options.
type compileFunc func(ctx context.Context, opt lllb.Options) (*lllb.Program, error)

// request is one build.
type request struct {
	compile compileFunc
	outputs []Output
	value   sdk.Value // what is built, for lint (lint.go) and explanations (explain.go); may be nil
	// rerunFinal makes the final exec step run even when cached, and
	// captures its stdout and stderr.
	rerunFinal bool
	terminal   bool // a shell in the result once it is built (debug.go)
}

// run is one build under way: its request, the program's facts and what
// the session serves.
type run struct {
	e       *Engine
	req     request
	targets []ocispecs.Platform
	epoch   *time.Time
	pre     *lllb.Program // compiled without the daemon: the session's facts
	scrub   *scrubber
	exports []*export
	opt     client.SolveOpt
	mon     *monitor
	ex      *explainer // explanations and the record; nil when off
	guard   *guard     // the lock and source policy (guard.go)

	mu    sync.Mutex
	progs []*lllb.Program // compiled in the gateway, one per platform
	// fnErr is gatewayBuild's error as Go returned it: client.Build hands
	// back the daemon's copy, which has lost *llb.ResolveError and the rest
	// of the chain.
	fnErr error
	// warnings are what went wrong without failing the build.
	wmu      sync.Mutex
	warnings []string
	badCache map[string]bool // caches already warned about: one warning each
	rep      runReport       // what the run report and trace need (report_run.go)
	vols     *volumeRun      // the cache volumes' saves (volume_restore.go)
	attest   attestRun       // attest.go: what preflight decided
}

// cacheWarnf warns about a cache, once per cache and build; it reports
// whether it was the first warning about that cache.
func (r *run) cacheWarnf(c Cache, format string, args ...any) bool {
	r.wmu.Lock()
	seen := r.badCache[c.String()]
	if r.badCache == nil {
		r.badCache = map[string]bool{}
	}
	r.badCache[c.String()] = true
	r.wmu.Unlock()
	if !seen {
		r.warnf("cache %s "+format, append([]any{c.String()}, args...)...)
	}
	return !seen
}

// cacheFailed reports whether a cache was already warned about.
func (r *run) cacheFailed(c Cache) bool {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return r.badCache[c.String()]
}

// warnf records a problem that does not fail the build: it is printed on
// the progress output (unless quiet) and listed in [Summary.Warnings].
// Secrets are scrubbed. Safe for concurrent use.
func (r *run) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if r.scrub != nil {
		msg = r.scrub.String(msg)
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.warnings = append(r.warnings, msg)
	if mode, _ := progressMode(r.e.s.progress); mode != ProgressQuiet && r.e.s.progressOut != nil {
		fmt.Fprintf(r.e.s.progressOut, "warning: %s\n", msg)
	}
}

// build compiles and runs one program, in phases: plan (compile once
// offline to learn what the session must serve), session (secrets, host
// directories, outputs, credentials), solve (compile again in the gateway
// with base image configs resolved through the daemon, and solve), finish
// (commit outputs, summarize).
func (e *Engine) build(ctx context.Context, req request) (res *Result, err error) {
	start := time.Now()
	if e.s.err != nil {
		return nil, e.s.err
	}
	if e.routes() { // fleet_build.go: route to one engine of the fleet
		return e.routed(ctx, req)
	}
	mode, err := progressMode(e.s.progress)
	if err != nil {
		return nil, err
	}
	r := &run{e: e, req: req}
	defer r.reportUnstarted(ctx, start, &err)
	if err := r.plan(ctx); err != nil {
		return nil, e.classify(ctx, err)
	}
	if err := r.checkSources(ctx); err != nil {
		return nil, err
	}
	if res := r.explainPlan(ctx, start); res != nil {
		return res, nil
	}
	defer r.cleanup()
	if err := r.session(); err != nil {
		return nil, err
	}
	if err := r.preflight(ctx); err != nil { // attest.go: attestations, engine capability check
		return nil, err
	}
	defer func() { err = r.scrub.Error(err) }()
	defer r.startReport(ctx, start)(&res, &err)

	r.mon = newMonitor(r.scrub, e.s.events)
	ch := make(chan *client.SolveStatus)
	wait, err := r.mon.run(ctx, ch, mode, e.s.progressOut)
	if err != nil {
		close(ch)
		return nil, err
	}
	resp, solveErr := e.c.Build(ctx, r.opt, "lading", r.attested(r.gatewayBuild), ch) // attested: attest.go
	wait()
	if solveErr == nil {
		r.saveVolumes(ctx) // volume_save.go; before the sweep, which must count the saves' records
	}
	e.keepWithinBudget(ctx) // gc.go
	r.mu.Lock()
	defer r.mu.Unlock()
	if solveErr != nil {
		if r.fnErr != nil {
			solveErr = r.fnErr
		}
		if perr := r.policyError(solveErr); perr != nil {
			return nil, perr
		}
		return nil, r.failed(ctx, solveErr)
	}
	return r.finish(ctx, resp, time.Since(start))
}

// plan compiles the value offline and checks the request against it.
func (r *run) plan(ctx context.Context) error {
	e := r.e
	r.targets = e.s.platforms
	if len(r.targets) == 0 {
		r.targets = []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}
	}
	var err error
	if r.epoch, err = e.sourceDateEpoch(); err != nil {
		return err
	}
	if r.pre, err = r.req.compile(ctx, lllb.Options{Platform: r.targets[0], Epoch: r.epoch, Volumes: e.volumesTravel()}); err != nil {
		return err
	}
	if r.req.rerunFinal && r.pre.FinalExec == "" {
		return errors.New("the container has no exec step whose output could be read")
	}
	if len(r.targets) > 1 {
		if r.req.rerunFinal {
			return errors.New("reading a step's output needs a single platform")
		}
		for _, o := range r.req.outputs {
			if _, ok := o.(*localOutput); ok {
				return errors.New("a multi-platform build can only be published or written as an image tarball")
			}
		}
	}
	return nil
}

// session reads the secrets, opens the host directories, prepares the
// outputs and fills in the solve options.
func (r *run) session() error {
	e, pre := r.e, r.pre
	values, err := readSecrets(pre.Secrets)
	if err != nil {
		return err
	}
	var secret [][]byte
	for _, s := range pre.Secrets {
		if !s.Public {
			secret = append(secret, values[s.ID])
		}
	}
	r.scrub = newScrubber(secret)
	mounts, err := localMounts(pre.Locals)
	if err != nil {
		return err
	}
	r.rep.uploads = newUploads(pre.Locals, mounts)
	for _, o := range r.req.outputs {
		x, err := o.prepare(e, pre)
		if err != nil {
			return err
		}
		r.exports = append(r.exports, x)
	}
	attachables, err := e.attachables(values, pre.SSH)
	if err != nil {
		return err
	}
	hostname, _ := os.Hostname()
	// Kept out of the daemon's build history when it would record a
	// proxy (its URL may hold a password) or a step's output that may
	// print a secret.
	private := pre.UsesProxy || len(secret) > 0
	r.opt = client.SolveOpt{
		// Non-nil: BuildKit copies cache options into it.
		FrontendAttrs:        map[string]string{},
		LocalMounts:          mounts,
		LocalFilterOpt:       r.rep.uploads.filterOpt,
		SharedKey:            "lading:" + hostname,
		Session:              attachables,
		Internal:             private,
		AllowedEntitlements:  pre.Entitlements,
		Ref:                  identity.NewID(),
		CompatibilityVersion: compatibilityVersion,
		SourcePolicyProvider: r.policyAttachable(),
	}
	for _, x := range r.exports {
		r.opt.Exports = append(r.opt.Exports, withEpoch(x.entry, r.epoch))
	}
	r.prepareVolumes()
	r.opt.CacheImports, r.opt.CacheExports, err = e.cacheOptions()
	r.dropUnwritableCaches()
	return err
}

// withEpoch sets the exporter's timestamps to the epoch, if there is one.
func withEpoch(entry client.ExportEntry, epoch *time.Time) client.ExportEntry {
	if epoch == nil {
		return entry
	}
	entry.Attrs = maps.Clone(entry.Attrs)
	if entry.Attrs == nil {
		entry.Attrs = map[string]string{}
	}
	entry.Attrs["source-date-epoch"] = strconv.FormatInt(epoch.Unix(), 10)
	if entry.Type != client.ExporterLocal {
		entry.Attrs["rewrite-timestamp"] = "true"
	}
	return entry
}

// gatewayBuild compiles the value once per target platform with base
// images resolved in the session, solves each and returns the result with
// the image configs lading wrote.
func (r *run) gatewayBuild(ctx context.Context, c gateway.Client) (_ *gateway.Result, err error) {
	defer func() {
		if err != nil {
			r.mu.Lock()
			r.fnErr = err
			r.mu.Unlock()
		}
	}()
	res := gateway.NewResult()
	var ps exptypes.Platforms
	steps := map[string]lllb.Step{}
	resolver, err := r.resolver(ctx, c)
	if err != nil {
		return nil, err
	}
	resolver.prefetch(ctx, r.pre.Bases, r.targets[0])
	r.loadTravelledRecord(ctx, c) // explain_travel.go
	for _, platform := range r.targets {
		p, err := r.req.compile(ctx, lllb.Options{
			Resolver:   resolver,
			Platform:   platform,
			RerunFinal: r.req.rerunFinal,
			RunID:      r.opt.Ref,
			Epoch:      r.epoch,
			Volumes:    r.vols != nil,
			Checksums:  r.guard.checksums(), // lock_http.go
		})
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.progs = append(r.progs, p)
		r.mu.Unlock()
		maps.Copy(steps, p.Steps)
		r.explainProgram(p)
		target := digest.Digest(r.progs[0].FinalExec)
		r.mon.setProgram(maps.Clone(steps), target)
		r.restoreVolumes(ctx, c, p)
		ref, err := r.solveWithServices(ctx, c, p)
		if err != nil {
			return nil, err
		}
		var cfg []byte
		if p.Kind == lllb.KindContainer {
			if cfg, err = json.Marshal(p.Image); err != nil {
				return nil, fmt.Errorf("encoding image config: %w", err)
			}
		}
		if len(r.targets) == 1 {
			res.SetRef(ref)
			if cfg != nil {
				res.AddMeta(exptypes.ExporterImageConfigKey, cfg)
			}
			return res, nil
		}
		id := platforms.Format(platform)
		res.AddRef(id, ref)
		if cfg != nil {
			res.AddMeta(exptypes.ExporterImageConfigKey+"/"+id, cfg)
		}
		ps.Platforms = append(ps.Platforms, exptypes.Platform{ID: id, Platform: platform})
	}
	dt, err := json.Marshal(ps)
	if err != nil {
		return nil, err
	}
	res.AddMeta(exptypes.ExporterPlatformsKey, dt)
	return res, nil
}

// solve evaluates one compiled program in the gateway.
func (r *run) solve(ctx context.Context, c gateway.Client, p *lllb.Program) (gateway.Reference, error) {
	sreq := gateway.SolveRequest{Definition: p.Def.ToPB(), Evaluate: true}
	for _, im := range r.opt.CacheImports {
		sreq.CacheImports = append(sreq.CacheImports, gateway.CacheOptionsEntry{Type: im.Type, Attrs: im.Attrs})
	}
	res, err := c.Solve(ctx, sreq)
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

// finish commits the outputs and describes the build.
func (r *run) finish(ctx context.Context, resp *client.SolveResponse, took time.Duration) (*Result, error) {
	for _, x := range r.exports {
		if x.commit != nil {
			if err := x.commit(); err != nil {
				return nil, err
			}
		}
	}
	res := &Result{Summary: r.mon.summary(took), Loaded: r.loadedImages()} // loadedImages: output_daemon.go
	if !r.opt.Internal {
		res.BuildID = r.opt.Ref
	}
	if resp != nil {
		res.Digest = resp.ExporterResponse[exptypes.ExporterImageDigestKey]
	}
	if r.req.rerunFinal {
		res.stdout, res.stderr = r.mon.captured(StreamStdout), r.mon.captured(StreamStderr)
	}
	r.saveRecord(ctx, res)
	r.wmu.Lock()
	res.Summary.Warnings = append(res.Summary.Warnings, r.warnings...)
	r.wmu.Unlock()
	return res, nil
}

// cleanup removes what unfinished outputs left behind.
func (r *run) cleanup() {
	for _, x := range r.exports {
		if x.cleanup != nil {
			x.cleanup()
		}
	}
}

// sourceDateEpoch returns the epoch builds are dated with: the option, else
// SOURCE_DATE_EPOCH, else none.
func (e *Engine) sourceDateEpoch() (*time.Time, error) {
	if e.s.epoch != nil {
		return e.s.epoch, nil
	}
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return nil, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want Unix seconds", v)
	}
	t := time.Unix(sec, 0).UTC()
	return &t, nil
}
