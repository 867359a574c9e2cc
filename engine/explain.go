package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"

	"github.com/ladingbuild/lading/internal/explain"
	lllb "github.com/ladingbuild/lading/internal/llb"
)

// explainer is what a build knows for explaining its cache misses: the
// record of this build, the last one's, and their comparison.
type explainer struct {
	store     explain.Store
	prev, cur *explain.Record
	cmp       *explain.Comparison
	// digests maps a step identity to its vertex digest, to look up in
	// the monitor whether a parent ran; rerun is the step run again to
	// capture its output.
	digests map[string]digest.Digest
	ops     map[string]string // step identity → operation
	rerun   string
	slot    explain.Slot // where prev is in the store: the record this one replaces
	ready   bool         // explainProgram has run
	from    string       // the cache prev came from, when not from this machine
}

// explainPlan reads the last build's record and records this one's steps
// and host files, before the engine is contacted. When the build may be
// skipped and nothing changed, it returns the skipped build's result.
// Nothing here fails a build: a problem is a warning, and explanations
// are off for the build.
func (r *run) explainPlan(ctx context.Context, start time.Time) *Result {
	es := r.e.s.explain
	if es.off || r.req.value == nil {
		return nil
	}
	ex, err := r.newExplainer(ctx)
	if err != nil {
		r.warnf("explaining cache misses: %v", err)
		return nil
	}
	r.ex = ex
	if !es.skip {
		return nil
	}
	scrub, err := r.skipScrubber()
	if err != nil {
		return nil // the build reads its secrets next and says what is wrong
	}
	reason, ok := r.skippable(ctx, ex)
	reason = scrub.String(reason) // it names steps, whose arguments may hold a secret
	if !ok {
		r.progressf("not skipped: %s\n", reason)
		return nil
	}
	r.progressf("unchanged, skipped: %s\n", reason)
	r.scrub = scrub
	res := &Result{Digest: ex.prev.Digest, Summary: Summary{Skipped: reason, Duration: time.Since(start)}}
	r.reportSkipped(ctx, start, res, ex) // report_skip.go
	return res
}

// skipScrubber removes the build's secret values from what the skip check
// says: it runs before the session has read them.
func (r *run) skipScrubber() (*scrubber, error) {
	values, err := readSecrets(r.pre.Secrets)
	if err != nil {
		return nil, err
	}
	var secret [][]byte
	for _, s := range r.pre.Secrets {
		if !s.Public {
			secret = append(secret, values[s.ID])
		}
	}
	return newScrubber(secret), nil
}

// newExplainer records the value's steps and host files and loads the
// previous record.
func (r *run) newExplainer(ctx context.Context) (*explainer, error) {
	es := r.e.s.explain
	dir := es.dir
	if dir == "" {
		var err error
		if dir, err = explain.DefaultDir(); err != nil {
			return nil, err
		}
	}
	program := es.program
	if program == "" {
		program = explain.Identity()
	}
	m, err := lllb.ModelOf(r.req.value)
	if err != nil {
		return nil, err
	}
	steps, err := lllb.Inputs(ctx, m, lllb.Options{Platform: r.targets[0], Checksums: r.guard.checksums()})
	if err != nil {
		return nil, err
	}
	cur := &explain.Record{
		Version: explain.Version, Program: program, Time: time.Now().UTC(),
		Platform: platforms.Format(r.targets[0]), Steps: explain.FromSteps(steps),
	}
	cur.Outputs = r.outputNames()
	if cur.Result, err = r.resultKey(); err != nil {
		return nil, err
	}
	cur.Target = targetOf(cur, r.req.rerunFinal)
	ex := &explainer{store: explain.Store{Dir: dir}, cur: cur}
	ex.prev, ex.slot, err = ex.store.LoadBest(program, cur.Target, cur)
	if err != nil {
		r.warnf("comparing with the last build: %v", err)
	}
	for i := range cur.Steps {
		h := cur.Steps[i].Host
		if h == nil {
			continue
		}
		if err := explain.HashHost(ctx, h, ex.prevHost(h)); err != nil {
			h.Err = err.Error()
		}
	}
	ex.cmp = explain.Compare(ex.prev, cur)
	return ex, nil
}

// prevHost is the same host directory in the previous record, or nil.
func (ex *explainer) prevHost(h *explain.Host) *explain.Host {
	if ex.prev == nil {
		return nil
	}
	for _, s := range ex.prev.Steps {
		if p := s.Host; p != nil && p.Path == h.Path && slices.Equal(p.Include, h.Include) && slices.Equal(p.Exclude, h.Exclude) {
			return p
		}
	}
	return nil
}

// targetOf names what a build makes: the value's last step (its operation
// and Go line), what it is done for (output captured or not) and its
// outputs. Builds of one program are compared with the last build of the
// same target.
func targetOf(r *explain.Record, capture bool) string {
	var b strings.Builder
	if n := len(r.Steps); n > 0 {
		last := r.Steps[n-1]
		b.WriteString(last.Op + " at " + last.Location)
	}
	if capture {
		b.WriteString(" (output captured)")
	}
	for _, o := range r.Outputs {
		b.WriteString(" → " + o)
	}
	return b.String()
}

// outputNames describes the request's outputs.
func (r *run) outputNames() []string {
	var out []string
	for _, o := range r.req.outputs {
		switch o := o.(type) {
		case *registryOutput:
			out = append(out, "registry "+strings.Join(o.refs, ","))
		case *tarballOutput:
			out = append(out, o.kind+" tarball "+o.path)
		case *localOutput:
			out = append(out, "local "+o.path)
		case *bundleOutput:
			out = append(out, "bundle "+o.path+" "+o.ref)
		case fmt.Stringer:
			out = append(out, o.String())
		default:
			out = append(out, fmt.Sprintf("%T", o))
		}
	}
	return out
}

// resultKey digests what decides the build's result besides its steps:
// the image config as the program sets it (labels, entrypoint, env after
// the last step…), the manifest annotations, the epoch and the settings
// of the export.
func (r *run) resultKey() (string, error) {
	h := sha256.New()
	if r.pre != nil {
		cfg, err := json.Marshal(r.pre.Image)
		if err != nil {
			return "", fmt.Errorf("encoding image config: %w", err)
		}
		h.Write(cfg)
		// Manifest annotations: neither a step nor the image config,
		// but part of what a push makes (json sorts the keys).
		ann, err := json.Marshal(r.pre.Annotations)
		if err != nil {
			return "", fmt.Errorf("encoding annotations: %w", err)
		}
		h.Write([]byte("\x00annotations "))
		h.Write(ann)
	}
	if r.epoch != nil {
		fmt.Fprintf(h, "\x00epoch %d", r.epoch.Unix())
	}
	fmt.Fprintf(h, "\x00compat %d\x00settings %s", compatibilityVersion, r.exportKey())
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// exportKey describes the settings that change what a build exports.
func (r *run) exportKey() string {
	g := r.e.s.guard
	return fmt.Sprintf("platforms %v lock %v %s %s", r.targets, g.lockMode, g.lockPath, r.e.s.attest.attestKey()) // attestKey: attest.go
}

// skippable decides whether the build can skip the engine: nothing it
// depends on changed and its registry outputs still hold what the last
// build pushed (skip_outputs.go).
func (r *run) skippable(ctx context.Context, ex *explainer) (string, bool) {
	if r.req.rerunFinal {
		return "a step's output is read, so it must run", false
	}
	for _, o := range r.req.outputs {
		if _, ok := o.(*registryOutput); !ok {
			return "it writes files on this machine, which are written again on every build", false
		}
	}
	if len(r.targets) > 1 {
		return "a build for several platforms is never skipped", false
	}
	if r.e.s.guard.policy != nil {
		return "a source policy may rewrite what the build pulls", false
	}
	reason, ok := explain.Unchanged(ex.prev, ex.cur)
	if !ok {
		return reason, false
	}
	if why, ok := r.outputsInPlace(ctx, ex.prev.Digest); !ok {
		return why, false
	}
	return reason, true
}

// progressf prints a line on the progress output, unless quiet.
func (r *run) progressf(format string, args ...any) {
	if mode, _ := progressMode(r.e.s.progress); mode != ProgressQuiet && r.e.s.progressOut != nil {
		fmt.Fprintf(r.e.s.progressOut, format, args...)
	}
}

// explainProgram completes the record with what the gateway compile of
// the first platform knows (base image digests, vertex digests) and hands
// the explainer to the monitor.
func (r *run) explainProgram(p *lllb.Program) {
	ex := r.ex
	if ex == nil || ex.ready {
		return
	}
	ex.ready = true
	// From here the record holds no secret value: it is shown and saved.
	ex.cur.Seal(r.scrub.String)
	ex.cur.SetBases(p.Bases)
	ex.cmp = explain.Compare(ex.prev, ex.cur)
	ex.digests = make(map[string]digest.Digest, len(p.Steps))
	ex.ops = make(map[string]string, len(p.Steps))
	for d, s := range p.Steps {
		ex.digests[s.ID] = digest.Digest(d)
		ex.ops[s.ID] = s.Op
	}
	if r.req.rerunFinal {
		ex.rerun = p.Steps[p.FinalExec].ID
	}
	r.mon.mu.Lock()
	r.mon.explain = ex
	r.mon.mu.Unlock()
}

// why says why the step with identity id ran; "" if it did not (ran is
// false) or explanations are off. m.mu is held.
func (m *monitor) why(id string, ran bool) string {
	ex := m.explain
	if ex == nil || !ran || id == "" {
		return ""
	}
	if op, ok := ex.ops[id]; !ok || isSource(op) {
		return ""
	}
	if id == ex.rerun {
		return "run again to capture its output (Engine.Stdout, Engine.Stderr)"
	}
	w := ex.cmp.Why(id, func(pid string) bool {
		vs, ok := m.vertices[ex.digests[pid]]
		return ok && !vs.cached && vs.started != nil
	})
	if w == "" && ex.prev != nil {
		w = fmt.Sprintf("unknown: nothing lading records changed since the last build (%s); the engine's cache may no longer hold the result (pruned, another engine, or a cache not imported)",
			ex.prev.Time.Local().Format(time.DateTime))
	}
	return m.scrub.String(w)
}

// saveRecord writes this build's record, with which steps ran, for the
// next build to compare with.
func (r *run) saveRecord(ctx context.Context, res *Result) {
	ex := r.ex
	if ex == nil || !ex.ready {
		return
	}
	ran := map[string]bool{}
	for _, s := range res.Summary.Steps {
		ran[s.StepID] = !s.Cached
	}
	for i := range ex.cur.Steps {
		ex.cur.Steps[i].Ran = ran[ex.cur.Steps[i].ID]
	}
	ex.cur.Digest = res.Digest
	if err := ex.store.SaveOver(ex.cur, ex.slot); err != nil {
		r.warnf("%v", err)
	}
	r.saveTravellingRecord(ctx, ex.cur)
}
