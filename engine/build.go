package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/platforms"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	bkllb "github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Result describes a finished build.
type Result struct {
	// Digest is the image manifest digest ("sha256:…") when the build
	// exported an image (published or written as a tarball); else empty.
	Digest string
	// Summary lists the steps, which ran and which were cached.
	Summary Summary
	// BuildID is the daemon's reference for this build, under which its
	// build history keeps the record (buildctl history inspect), except
	// for graphs that use a proxy: those are not recorded, so the proxy
	// settings stay out of the daemon's history.
	BuildID string

	stdout, stderr string
}

// caBundleSecretID is the compiler's secret carrying the host's CA bundle
// for proxied steps: public certificates, not scrubbed from output.
const caBundleSecretID = "lading-ca-bundle"

// compileFunc compiles the value being built with the given options.
type compileFunc func(ctx context.Context, opt lllb.Options) (*lllb.Program, error)

// request is one build.
type request struct {
	compile compileFunc
	outputs []Output
	// rerunFinal makes the final exec step run even when cached, and
	// captures its stdout and stderr.
	rerunFinal bool
}

// build compiles and runs one program. The program is compiled twice: once
// without an image resolver, to learn the host directories, secrets and SSH
// sockets the session must serve, and again inside the gateway build
// function with base image configs resolved through the daemon, in the
// same session that exports the result.
func (e *Engine) build(ctx context.Context, req request) (res *Result, err error) {
	start := time.Now()
	mode, err := progressMode(e.s.progress)
	if err != nil {
		return nil, err
	}
	if e.s.err != nil {
		return nil, e.s.err
	}
	targets := e.s.platforms
	if len(targets) == 0 {
		targets = []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}
	}
	pre, err := req.compile(ctx, lllb.Options{Platform: targets[0]})
	if err != nil {
		return nil, err
	}
	if req.rerunFinal && finalExec(pre.Def) == "" {
		return nil, errors.New("the container has no exec step whose output could be read")
	}
	if len(targets) > 1 {
		if req.rerunFinal {
			return nil, errors.New("reading a step's output needs a single platform")
		}
		for _, o := range req.outputs {
			if _, ok := o.(*localOutput); ok {
				return nil, errors.New("a multi-platform build can only be published or written as an image tarball")
			}
		}
	}

	values, err := readSecrets(pre.Secrets)
	if err != nil {
		return nil, err
	}
	secretList := make([][]byte, 0, len(values))
	for id, v := range values {
		if id != caBundleSecretID {
			secretList = append(secretList, v)
		}
	}
	scrub := newScrubber(secretList)
	defer func() { err = scrub.Error(err) }()

	mounts, err := localMounts(pre.Locals)
	if err != nil {
		return nil, err
	}

	var exports []*export
	defer func() {
		for _, x := range exports {
			if x.cleanup != nil {
				x.cleanup()
			}
		}
	}()
	for _, o := range req.outputs {
		x, err := o.prepare(e, pre)
		if err != nil {
			return nil, err
		}
		exports = append(exports, x)
	}

	dockerConfig := config.LoadDefaultConfigFile(io.Discard)
	if e.s.dockerConfig != "" {
		if dockerConfig, err = config.Load(e.s.dockerConfig); err != nil {
			return nil, fmt.Errorf("reading the Docker config in %s: %w", e.s.dockerConfig, err)
		}
	}
	attachables := []session.Attachable{
		authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
		}),
		secretsprovider.FromMap(values),
	}
	if len(pre.SSH) > 0 {
		confs := make([]sshprovider.AgentConfig, len(pre.SSH))
		for i, id := range pre.SSH {
			confs[i] = sshprovider.AgentConfig{ID: id}
		}
		sp, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, fmt.Errorf("forwarding the SSH agent: %w", err)
		}
		attachables = append(attachables, sp)
	}

	hostname, _ := os.Hostname()
	opt := client.SolveOpt{
		// Non-nil: BuildKit copies cache options into it.
		FrontendAttrs: map[string]string{},
		LocalMounts:   mounts,
		SharedKey:     "lading:" + hostname,
		Session:       attachables,
		// Kept out of the daemon's build history when it would record a
		// proxy (its URL may hold a password) or a step's output that may
		// print a secret.
		Internal: usesProxy(pre.Def) || len(secretList) > 0,
		// Asked for only when a step needs it.
		AllowedEntitlements: entitlements(pre.Def),
		Ref:                 identity.NewID(),
	}
	epoch, err := e.sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	for _, x := range exports {
		if epoch != "" {
			x.entry.Attrs = maps.Clone(x.entry.Attrs)
			if x.entry.Attrs == nil {
				x.entry.Attrs = map[string]string{}
			}
			x.entry.Attrs["source-date-epoch"] = epoch
			if x.entry.Type != client.ExporterLocal {
				x.entry.Attrs["rewrite-timestamp"] = "true"
			}
		}
		opt.Exports = append(opt.Exports, x.entry)
	}
	if opt.CacheImports, opt.CacheExports, err = e.cacheOptions(); err != nil {
		return nil, err
	}

	mon := newMonitor(scrub, e.s.events)
	ch := make(chan *client.SolveStatus)
	wait, err := mon.run(ctx, ch, mode, e.s.progressOut)
	if err != nil {
		close(ch)
		return nil, err
	}

	var (
		progMu sync.Mutex
		progs  []*lllb.Program
	)
	buildFunc := func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res := gateway.NewResult()
		var ps exptypes.Platforms
		steps := map[string]lllb.Step{}
		var target digest.Digest
		for i, platform := range targets {
			p, err := req.compile(ctx, lllb.Options{Resolver: &gatewayResolver{c: c}, Platform: platform, RerunFinal: req.rerunFinal, RunID: opt.Ref})
			if err != nil {
				return nil, err
			}
			progMu.Lock()
			progs = append(progs, p)
			progMu.Unlock()
			maps.Copy(steps, p.Steps)
			if i == 0 {
				target = finalExec(p.Def)
			}
			mon.setProgram(maps.Clone(steps), target)
			sreq := gateway.SolveRequest{Definition: p.Def.ToPB(), Evaluate: true}
			for _, im := range opt.CacheImports {
				sreq.CacheImports = append(sreq.CacheImports, gateway.CacheOptionsEntry{Type: im.Type, Attrs: im.Attrs})
			}
			r, err := c.Solve(ctx, sreq)
			if err != nil {
				return nil, err
			}
			ref, err := r.SingleRef()
			if err != nil {
				return nil, err
			}
			var cfg []byte
			if p.Kind == lllb.KindContainer {
				if cfg, err = json.Marshal(p.Image); err != nil {
					return nil, fmt.Errorf("encoding image config: %w", err)
				}
			}
			if len(targets) == 1 {
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

	resp, solveErr := e.c.Build(ctx, opt, "lading", buildFunc, ch)
	wait()
	progMu.Lock()
	defer progMu.Unlock()
	if solveErr != nil {
		return nil, e.solveError(ctx, solveErr, progs, mon)
	}
	for _, x := range exports {
		if x.commit != nil {
			if err := x.commit(); err != nil {
				return nil, err
			}
		}
	}
	res = &Result{Summary: mon.summary(time.Since(start)), BuildID: opt.Ref}
	if resp != nil {
		res.Digest = resp.ExporterResponse[exptypes.ExporterImageDigestKey]
	}
	if req.rerunFinal {
		res.stdout, res.stderr = mon.captured(StreamStdout), mon.captured(StreamStderr)
	}
	return res, nil
}

// sourceDateEpoch returns the epoch for exporters in Unix seconds, or "".
func (e *Engine) sourceDateEpoch() (string, error) {
	if e.s.epoch != nil {
		return strconv.FormatInt(e.s.epoch.Unix(), 10), nil
	}
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return "", nil
	}
	if _, err := strconv.ParseInt(v, 10, 64); err != nil {
		return "", fmt.Errorf("SOURCE_DATE_EPOCH=%q: want Unix seconds", v)
	}
	return v, nil
}

// gatewayResolver resolves base image configs through the build's gateway
// session, so that registry credentials and mirrors apply.
type gatewayResolver struct {
	c gateway.Client
}

func (r *gatewayResolver) ResolveImageConfig(ctx context.Context, ref string, platform ocispecs.Platform) (string, []byte, error) {
	_, dgst, cfg, err := r.c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: "default"},
	})
	if err != nil {
		return "", nil, fmt.Errorf("resolving image %q: %w", ref, err)
	}
	return dgst.String(), cfg, nil
}

// readSecrets reads each secret's value from its env var, file or literal.
func readSecrets(srcs []lllb.SecretSource) (map[string][]byte, error) {
	values := make(map[string][]byte, len(srcs))
	for _, s := range srcs {
		name := s.Name
		if name == "" {
			name = s.ID
		}
		switch {
		case s.Env != "":
			v, ok := os.LookupEnv(s.Env)
			if !ok {
				return nil, fmt.Errorf("secret %q: environment variable %s is not set", name, s.Env)
			}
			values[s.ID] = []byte(v)
		case s.File != "":
			v, err := os.ReadFile(s.File)
			if err != nil {
				return nil, fmt.Errorf("secret %q: %w", name, err)
			}
			values[s.ID] = v
		default:
			values[s.ID] = s.Value
		}
	}
	return values, nil
}

// localMounts opens the host directories the graph reads, filtered by their
// include and exclude patterns.
func localMounts(locals []lllb.LocalDir) (map[string]fsutil.FS, error) {
	mounts := make(map[string]fsutil.FS, len(locals))
	for _, l := range locals {
		fs, err := fsutil.NewFS(l.Path)
		if err != nil {
			return nil, fmt.Errorf("host directory %s: %w", l.Path, err)
		}
		if len(l.Include) > 0 || len(l.Exclude) > 0 {
			fs, err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{IncludePatterns: l.Include, ExcludePatterns: l.Exclude})
			if err != nil {
				return nil, fmt.Errorf("host directory %s: %w", l.Path, err)
			}
		}
		mounts[l.Name] = fs
	}
	return mounts, nil
}

// ops decodes a definition's ops by digest, and returns the digest of the
// vertex its output points at.
func ops(def *bkllb.Definition) (map[digest.Digest]*pb.Op, digest.Digest) {
	all := make(map[digest.Digest]*pb.Op, len(def.Def))
	var last *pb.Op
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.Unmarshal(dt); err != nil {
			continue
		}
		all[digest.FromBytes(dt)] = &op
		last = &op
	}
	if last == nil || len(last.Inputs) == 0 {
		return all, ""
	}
	return all, digest.Digest(last.Inputs[0].Digest)
}

// finalExec returns the digest of the last exec step on the output's
// primary input chain, or "" if there is none.
func finalExec(def *bkllb.Definition) digest.Digest {
	if def == nil {
		return ""
	}
	all, cur := ops(def)
	for seen := 0; cur != "" && seen <= len(all); seen++ {
		op, ok := all[cur]
		if !ok {
			return ""
		}
		if op.GetExec() != nil {
			return cur
		}
		if len(op.Inputs) == 0 {
			return ""
		}
		cur = digest.Digest(op.Inputs[0].Digest)
	}
	return ""
}

// execArgs returns the args of the exec op dgst in def.
func execArgs(def *bkllb.Definition, dgst digest.Digest) []string {
	if def == nil {
		return nil
	}
	all, _ := ops(def)
	if op, ok := all[dgst]; ok && op.GetExec() != nil && op.GetExec().Meta != nil {
		return op.GetExec().Meta.Args
	}
	return nil
}

// usesProxy reports whether any exec step sets proxy variables, in which
// case the solve is marked internal so that the values stay out of the
// daemon's build history.
// entitlements lists what the graph needs the daemon to allow: a step run
// with sdk.Insecure needs "security.insecure" (the daemon must also be
// started with --allow-insecure-entitlement security.insecure).
func entitlements(def *bkllb.Definition) []string {
	all, _ := ops(def)
	for _, op := range all {
		if ex := op.GetExec(); ex != nil && ex.Security == pb.SecurityMode_INSECURE {
			return []string{"security.insecure"}
		}
	}
	return nil
}

func usesProxy(def *bkllb.Definition) bool {
	if def == nil {
		return false
	}
	all, _ := ops(def)
	for _, op := range all {
		if ex := op.GetExec(); ex != nil && ex.Meta != nil && ex.Meta.ProxyEnv != nil {
			return true
		}
	}
	return false
}
