package main

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
)

// The build metric: examples/multistage through lading (engine.Build of
// its graph.Image, imported from examples/multistage/graph) against the same build as a
// Dockerfile built by buildctl with the dockerfile.v0 frontend, on the same
// engine, neither exporting anything.
//
// Cold. On an engine the benchmark may prune (-allow-prune, -own-engine)
// the whole build cache is pruned before each cold build: base images are
// pulled again and the cache mounts start empty. On a shared engine (the
// default: the test environment's) nothing is pruned; instead each cold
// build, on either side, gets a build context whose go.mod carries a unique
// comment line. go.mod is the input of the first step of both (COPY go.mod),
// so no step can come from the cache, while the graph and the Dockerfile
// stay exactly the example's. Base images stay pulled and the go-mod and
// go-build cache mounts stay warm — as on a CI runner that keeps its cache
// volumes — identically for both sides. (Each side has its own cache
// volumes: the Dockerfile frontend stores cache ids as "/go-mod" and
// "/go-build". The untimed warm-up builds fill both.)
//
// Cached: both sides build an unchanged context once (untimed), then every
// timed build must find every step in the cache.

//go:embed testdata/multistage.Dockerfile
var multistageDockerfile []byte

const (
	buildColdTarget   = 1.05
	buildCachedTarget = 1.10
)

// multistage prepares and runs the two sides of the build metric.
type multistage struct {
	c       *config
	dfDir   string   // holds multistage.Dockerfile
	goMod   []byte   // the example's go.mod
	args    []string // buildctl build args besides --local context=
	prune   bool
	counter int
}

func newMultistage(c *config) (*multistage, error) {
	if c.app == "" {
		return nil, fmt.Errorf("cannot find examples/multistage/app: run from the repository root or pass -app")
	}
	m := &multistage{c: c, dfDir: filepath.Join(c.work, "dockerfile"), prune: c.allowPrune}
	if err := os.MkdirAll(m.dfDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(m.dfDir, "multistage.Dockerfile"), multistageDockerfile, 0o644); err != nil {
		return nil, err
	}
	var err error
	if m.goMod, err = os.ReadFile(filepath.Join(c.app, "go.mod")); err != nil {
		return nil, err
	}
	m.args = []string{"--frontend", "dockerfile.v0", "--local", "dockerfile=" + m.dfDir, "--opt", "filename=multistage.Dockerfile"}
	// The example's steps see the proxy of the machine (benchProxy); the
	// Dockerfile gets the same values as the predefined proxy args.
	p := benchProxy()
	for _, kv := range [][2]string{{"HTTP_PROXY", p.HTTP}, {"HTTPS_PROXY", p.HTTPS}, {"FTP_PROXY", p.FTP}, {"NO_PROXY", p.NoProxy}, {"ALL_PROXY", p.All}} {
		if kv[1] != "" {
			m.args = append(m.args, "--opt", "build-arg:"+kv[0]+"="+kv[1])
		}
	}
	return m, nil
}

// benchProxy is the machine's proxy settings (sdk.ProxyFromEnv, as the
// example reads them) without the CA bundle: the Dockerfile has no
// counterpart of the bundle lading mounts into proxied steps, so with it
// the two sides would not build the same graph.
func benchProxy() sdk.Proxy {
	p := sdk.ProxyFromEnv()
	p.CABundle = ""
	return p
}

// caBundleVars are the variables sdk.ProxyFromEnv reads the CA bundle
// from; the process metric removes them from the example's environment,
// as benchProxy does for the build metric.
var caBundleVars = []string{"LADING_CA_BUNDLE", "SSL_CERT_FILE"}

// context returns a fresh copy of the example's service; a non-empty nonce
// is appended to its go.mod as a comment.
func (m *multistage) context(nonce string) (string, error) {
	m.counter++
	dir := filepath.Join(m.c.work, fmt.Sprintf("multistage-%d", m.counter))
	if err := copyDir(m.c.app, dir); err != nil {
		return "", err
	}
	if nonce != "" {
		mod := append(append([]byte(nil), m.goMod...), []byte("\n// lading bench nonce "+nonce+"\n")...)
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), mod, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func (m *multistage) lading(ctx context.Context, dir string) (sideResult, error) {
	if name, err := ladingLocalName(ctx, dir); err == nil {
		m.c.ownLocal(name)
	}
	return runLading(ctx, m.c, graph.Image(graph.Build(sdk.Host(dir), benchProxy()), "dev"))
}

func (m *multistage) buildctl(ctx context.Context, dir string) (sideResult, error) {
	return runBuildctl(ctx, m.c, nil, append(append([]string(nil), m.args...), "--local", "context="+dir)...)
}

// pruneAll empties the engine's build cache (only when allowed).
func (m *multistage) pruneAll(ctx context.Context) error {
	eng, err := engine.Connect(ctx, engine.WithAddress(m.c.addr), engine.Silent())
	if err != nil {
		return err
	}
	defer eng.Close()
	_, err = eng.Prune(ctx, engine.PruneOptions{All: true})
	return err
}

// cold runs one cold build of one side.
func (m *multistage) cold(ctx context.Context, side string, run func(context.Context, string) (sideResult, error)) (sideResult, error) {
	nonce := ""
	if m.prune {
		if err := m.pruneAll(ctx); err != nil {
			return sideResult{}, fmt.Errorf("prune: %w", err)
		}
	} else {
		nonce = fmt.Sprintf("%s-%d", side, time.Now().UnixNano())
	}
	dir, err := m.context(nonce)
	if err != nil {
		return sideResult{}, err
	}
	defer os.RemoveAll(dir)
	r, err := run(ctx, dir)
	if err == nil && r.ran == 0 {
		err = fmt.Errorf("%s: a cold build ran no step (%d cached): the cache busting failed", side, r.cached)
	}
	return r, err
}

// steps summarises step counts: "5 ran, 0 cached".
func steps(rs []sideResult) string {
	ran, cached := map[int]bool{}, map[int]bool{}
	for _, r := range rs {
		ran[r.ran], cached[r.cached] = true, true
	}
	keys := func(m map[int]bool) string {
		var s []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			s = append(s, fmt.Sprint(k))
		}
		return strings.Join(s, "/")
	}
	return keys(ran) + " ran, " + keys(cached) + " cached"
}

func runBuild(ctx context.Context, c *config) []Row {
	cold := newRow("build-cold", Seconds, Ratio, buildColdTarget)
	cached := newRow("build-cached", Seconds, Ratio, buildCachedTarget)
	rows := []Row{cold, cached}
	if err := c.needEngine(); err != nil {
		return failed(rows, err)
	}
	if err := c.needBuildctl(); err != nil {
		return failed(rows, err)
	}
	m, err := newMultistage(c)
	if err != nil {
		return failed(rows, err)
	}

	// Cached first: its untimed warm-up builds also pull the base images
	// and load the Dockerfile frontend, which the cold builds then find
	// ready, like the engine of a CI runner that has built before.
	dir, err := m.context("")
	if err != nil {
		return failed(rows, err)
	}
	defer os.RemoveAll(dir)
	wa, err := m.lading(ctx, dir)
	if err != nil {
		return failed(rows, err)
	}
	wb, err := m.buildctl(ctx, dir)
	if err != nil {
		return failed(rows, err)
	}
	c.logf("build warm-up: lading %s, buildctl %s", formatValue(wa.seconds, Seconds), formatValue(wb.seconds, Seconds))
	var la, bc []sideResult
	for i := range c.runs {
		a, err := m.lading(ctx, dir)
		if err == nil && a.ran > 0 {
			err = fmt.Errorf("lading: a cached build ran %d steps", a.ran)
		}
		if err != nil {
			return failed(rows, err)
		}
		b, err := m.buildctl(ctx, dir)
		if err == nil && b.ran > 0 {
			err = fmt.Errorf("buildctl: a cached build ran %d steps", b.ran)
		}
		if err != nil {
			return failed(rows, err)
		}
		la, bc = append(la, a), append(bc, b)
		c.logf("build cached run %d/%d: lading %s, buildctl %s", i+1, c.runs, formatValue(a.seconds, Seconds), formatValue(b.seconds, Seconds))
	}
	p := pair{secondsOf(la), secondsOf(bc)}
	rows[1] = p.row("build-cached", Seconds, Ratio, buildCachedTarget)
	rows[1].Note = fmt.Sprintf("the same, every step cached (steps: lading %s, buildctl %s); lading %s, buildctl %s",
		steps(la), steps(bc), spread(p.a, Seconds), spread(p.b, Seconds))

	// Cold.
	la, bc = nil, nil
	for i := range c.runs {
		a, err := m.cold(ctx, "lading", m.lading)
		if err != nil {
			return failed(rows, err)
		}
		b, err := m.cold(ctx, "buildctl", m.buildctl)
		if err != nil {
			return failed(rows, err)
		}
		la, bc = append(la, a), append(bc, b)
		c.logf("build cold run %d/%d: lading %s (%d ran, %d cached), buildctl %s (%d ran, %d cached)", i+1, c.runs,
			formatValue(a.seconds, Seconds), a.ran, a.cached, formatValue(b.seconds, Seconds), b.ran, b.cached)
	}
	p = pair{secondsOf(la), secondsOf(bc)}
	how := "a unique go.mod comment per build (nothing pruned; base images and cache mounts warm)"
	if m.prune {
		how = "the engine's whole cache pruned before each build"
	}
	rows[0] = p.row("build-cold", Seconds, Ratio, buildColdTarget)
	rows[0].Note = fmt.Sprintf("examples/multistage via engine.Build vs buildctl --frontend dockerfile.v0 (testdata/multistage.Dockerfile); cold = %s; "+
		"steps: lading %s, buildctl %s; lading %s, buildctl %s; %s", how, steps(la), steps(bc), spread(p.a, Seconds), spread(p.b, Seconds), execSplit(la, bc))
	return rows
}

// execSplit says how much of each side's median build was spent in its
// exec steps (the same go commands on both sides) and how much elsewhere
// (connecting, resolving images, sending the context, copies, the
// solver, the frontend), from the daemon's own step timings.
func execSplit(a, b []sideResult) string {
	split := func(rs []sideResult) (execs, rest []float64) {
		for _, r := range rs {
			e := r.progress.execSeconds()
			execs, rest = append(execs, e), append(rest, r.seconds-e)
		}
		return execs, rest
	}
	ae, ar := split(a)
	be, br := split(b)
	return fmt.Sprintf("median time in exec steps: lading %s, buildctl %s; outside them: lading %s, buildctl %s (per-run ratio %s)",
		formatValue(median(ae), Seconds), formatValue(median(be), Seconds), formatValue(median(ar), Seconds), formatValue(median(br), Seconds),
		formatRatio(median(pair{ar, br}.ratios())))
}

func secondsOf(rs []sideResult) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.seconds
	}
	return out
}
