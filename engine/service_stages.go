package engine

import (
	"context"
	"fmt"
	"slices"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// A service lives exactly as long as the steps bound to it: lading solves
// the graph up to each bound step in a gateway solve of its own (the same
// build, so the later solve of the whole graph finds the step done), and
// stops the service once all of its steps are solved. BuildKit gives a
// gateway client no signal when one step of a larger solve ends, so the
// stages are what make "stops when the step ends" hold.

// stages runs the bound steps of one program.
type stages struct {
	r *run
	c gateway.Client
	p *lllb.Program

	def     *pb.Definition
	started map[*lllb.ServiceRun]*service
	order   []*service // started, in start order
	solved  map[string]bool
}

// run solves every bound step in the order the graph runs them (a step's
// inputs first: the definition lists each op after its inputs), starting
// each service before the first of its steps and stopping it after the
// last.
func (st *stages) run(ctx context.Context) error {
	st.started = map[*lllb.ServiceRun]*service{}
	st.solved = map[string]bool{}
	st.def = st.p.Def.ToPB()
	pos := map[string]int{}
	for i, dt := range st.def.GetDef() {
		pos[digest.FromBytes(dt).String()] = i
	}
	var steps []string
	for _, spec := range st.p.Services {
		for _, step := range spec.Steps {
			if !slices.Contains(steps, step) {
				steps = append(steps, step)
			}
		}
	}
	slices.SortStableFunc(steps, func(a, b string) int { return pos[a] - pos[b] })
	for _, step := range steps {
		if err := st.solveStep(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// solveStep starts the services step is bound to while the steps it
// reads are built, solves the graph up to step and stops the services
// whose steps are all solved.
func (st *stages) solveStep(ctx context.Context, step string) error {
	var specs []*lllb.ServiceRun
	var inputs []string
	for _, spec := range st.p.Services {
		if !slices.Contains(spec.Steps, step) {
			continue
		}
		specs = append(specs, spec)
		for _, in := range spec.Inputs[step] {
			if !slices.Contains(inputs, in) {
				inputs = append(inputs, in)
			}
		}
	}
	// The step's inputs are built beside the services' start: they
	// do not need them (a step bound to a service is an input only once
	// solved, with its own service up).
	built := make(chan error, 1)
	go func() { built <- st.solveInputs(ctx, inputs) }()
	var bound []*service
	var startErr error
	for _, spec := range specs {
		s, err := st.start(ctx, spec)
		if err != nil {
			startErr = err
			break
		}
		bound = append(bound, s)
	}
	if err := <-built; startErr == nil && err != nil {
		return err
	}
	if startErr != nil {
		return startErr
	}
	def, err := upTo(st.def, digest.Digest(step))
	if err != nil {
		return err
	}
	if _, err := st.r.solveDef(ctx, st.c, def); err != nil {
		st.r.debugShell(ctx, st.c, err) // the services are still up
		for _, s := range bound {
			if exited, why := s.exited(); exited {
				return s.fail("exited while the step ran: "+why, err)
			}
		}
		return err
	}
	st.solved[step] = true
	for spec, s := range st.started {
		if !slices.ContainsFunc(spec.Steps, func(d string) bool { return !st.solved[d] }) {
			s.stop(ctx)
		}
	}
	return nil
}

// solveInputs builds the ops a bound step reads.
func (st *stages) solveInputs(ctx context.Context, inputs []string) error {
	for _, in := range inputs {
		def, err := upTo(st.def, digest.Digest(in))
		if err != nil {
			return err
		}
		if _, err := st.r.solveDef(ctx, st.c, def); err != nil {
			return err
		}
	}
	return nil
}

// start starts spec's service unless it runs already.
func (st *stages) start(ctx context.Context, spec *lllb.ServiceRun) (*service, error) {
	if s, ok := st.started[spec]; ok {
		return s, nil
	}
	s, err := st.r.startService(ctx, st.c, spec)
	if s != nil {
		st.started[spec] = s
		st.order = append(st.order, s)
	}
	return s, err
}

// stopAll stops every service still running and waits until all their
// containers are released.
func (st *stages) stopAll(ctx context.Context) {
	for _, s := range st.order {
		s.stop(ctx)
	}
	for _, s := range st.order {
		s.wait(ctx)
	}
}

// upTo returns def cut at the step whose vertex digest is step: the same
// ops, ending at that step's first output. BuildKit loads only what the
// last op reaches, so the rest of the graph is not solved.
func upTo(def *pb.Definition, step digest.Digest) (*pb.Definition, error) {
	if len(def.GetDef()) == 0 {
		return nil, fmt.Errorf("the build graph is empty: cannot solve its step %s", step)
	}
	term, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.Op{Inputs: []*pb.Input{{Digest: string(step), Index: 0}}})
	if err != nil {
		return nil, err
	}
	ops := def.GetDef()
	out := &pb.Definition{
		Def:      append(slices.Clone(ops[:len(ops)-1]), term),
		Metadata: def.GetMetadata(),
		Source:   def.GetSource(),
	}
	return out, nil
}

// solveDef evaluates def in the gateway, with the build's cache imports.
func (r *run) solveDef(ctx context.Context, c gateway.Client, def *pb.Definition) (gateway.Reference, error) {
	sreq := gateway.SolveRequest{Definition: def, Evaluate: true}
	for _, im := range r.opt.CacheImports {
		sreq.CacheImports = append(sreq.CacheImports, gateway.CacheOptionsEntry{Type: im.Type, Attrs: im.Attrs})
	}
	res, err := c.Solve(ctx, sreq)
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
