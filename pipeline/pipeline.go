package pipeline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/lint"
)

// RunFunc is the body of a target. The engine is shared by every target
// of a run; ctx is cancelled when another target fails or on Ctrl-C.
type RunFunc func(ctx context.Context, eng *engine.Engine) error

// Pipeline is a set of named targets.
type Pipeline struct {
	name     string
	flags    *flag.FlagSet
	targets  map[string]*target
	order    []string
	fallback string
	engOpts  []engine.Option
	out      io.Writer
	connect  func(ctx context.Context, opts ...engine.Option) (*engine.Engine, error)
	// interactive is the -i flag: engine.Interactive for every target.
	interactive bool
	images      []Image       // given to ImageTargets, for the lint target
	lintOpts    []lint.Option // the lint target's options, for `lading lint`
}

type target struct {
	name, help string
	deps       []string
	run        RunFunc
}

// New returns an empty pipeline; name is shown in usage and the summary.
func New(name string) *Pipeline {
	p := &Pipeline{
		name:    name,
		flags:   flag.NewFlagSet(name, flag.ContinueOnError),
		targets: map[string]*target{},
		out:     os.Stderr,
		connect: engine.Connect,
	}
	p.flags.Usage = p.usage
	p.flags.BoolVar(&p.interactive, "i", false, "open a shell in a step that fails (needs a terminal; see engine.Interactive)")
	return p
}

// Flags is the flag set parsed before the target names.
func (p *Pipeline) Flags() *flag.FlagSet { return p.flags }

// EngineOptions sets options for the engine the pipeline connects to.
func (p *Pipeline) EngineOptions(opts ...engine.Option) { p.engOpts = append(p.engOpts, opts...) }

// Output sets where usage and the summary go (default os.Stderr).
func (p *Pipeline) Output(w io.Writer) { p.out = w }

// Target adds a target that runs after the targets named in deps.
func (p *Pipeline) Target(name, help string, run RunFunc, deps ...string) {
	if _, dup := p.targets[name]; !dup {
		p.order = append(p.order, name)
	}
	p.targets[name] = &target{name: name, help: help, deps: deps, run: run}
}

// Default names the target run when none is given (else the first added).
func (p *Pipeline) Default(name string) { p.fallback = name }

// Main runs the pipeline with os.Args and exits: 0 on success, 1 when a
// target fails, 2 on bad usage.
func (p *Pipeline) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := p.Run(ctx, os.Args[1:])
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		fmt.Fprintln(p.out, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(p.out, "%s: %v\n", p.name, err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// Run parses args (flags, then target names) and runs the targets and
// their dependencies, independent ones concurrently. It returns the first
// target error.
func (p *Pipeline) Run(ctx context.Context, args []string) error {
	if err := p.flags.Parse(args); err != nil {
		return err
	}
	if done, err := p.graphRun(ctx); done { // `lading lint`, `lading lock` (graph.go)
		return err
	}
	names := p.flags.Args()
	if len(names) == 0 {
		switch {
		case p.fallback != "":
			names = []string{p.fallback}
		case len(p.order) > 0:
			names = []string{p.order[0]}
		default:
			return fmt.Errorf("%w: %s has no targets", errUsage, p.name)
		}
	}
	plan, err := p.plan(names)
	if err != nil {
		return err
	}
	opts := p.engOpts
	if p.interactive {
		opts = append(slices.Clip(opts), engine.Interactive())
	}
	eng, err := p.connect(ctx, opts...)
	if err != nil {
		return err
	}
	if eng != nil {
		defer eng.Close()
	}
	results := p.execute(ctx, eng, plan)
	p.summary(results)
	for _, name := range plan {
		if r := results[name]; r.err != nil && !errors.Is(r.err, errSkipped) {
			return fmt.Errorf("target %s: %w", name, r.err)
		}
	}
	return nil
}

// plan returns the targets to run, dependencies first, refusing unknown
// names and cycles.
func (p *Pipeline) plan(names []string) ([]string, error) {
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		t, ok := p.targets[name]
		if !ok {
			return fmt.Errorf("%w: unknown target %q (targets: %s)", errUsage, name, strings.Join(p.order, ", "))
		}
		switch state[name] {
		case 1:
			return fmt.Errorf("%w: targets depend on each other: %s", errUsage, strings.Join(append(path, name), " -> "))
		case 2:
			return nil
		}
		state[name] = 1
		for _, d := range t.deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, name)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type result struct {
	err      error
	start    time.Time
	duration time.Duration
}

var errSkipped = errors.New("skipped: a dependency failed")

// execute runs each target as soon as its dependencies succeed.
func (p *Pipeline) execute(ctx context.Context, eng *engine.Engine, plan []string) map[string]*result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := map[string]chan struct{}{}
	results := map[string]*result{}
	for _, n := range plan {
		done[n] = make(chan struct{})
		results[n] = &result{}
	}
	var wg sync.WaitGroup
	for _, n := range plan {
		t := p.targets[n]
		r := results[n]
		wg.Go(func() {
			defer close(done[t.name])
			for _, d := range t.deps {
				<-done[d]
				if results[d].err != nil {
					r.err = errSkipped
					return
				}
			}
			if ctx.Err() != nil {
				r.err = errSkipped
				return
			}
			r.start = time.Now()
			r.err = runTarget(ctx, t, eng.With(engine.WithFleetKey(p.name+"/"+t.name))) // a fleet routes by target
			r.duration = time.Since(r.start)
			if r.err != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return results
}

func (p *Pipeline) summary(results map[string]*result) {
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return results[a].start.Compare(results[b].start) })
	fmt.Fprintf(p.out, "\n%s summary:\n", p.name)
	for _, n := range names {
		r := results[n]
		status := "ok"
		switch {
		case errors.Is(r.err, errSkipped):
			status = "skipped"
		case r.err != nil:
			status = "FAILED"
		}
		fmt.Fprintf(p.out, "  %-12s %-8s %8.2fs\n", n, status, r.duration.Seconds())
	}
}

func (p *Pipeline) usage() {
	fmt.Fprintf(p.out, "usage: go run . [flags] [target ...]\n\ntargets:\n")
	for _, n := range p.order {
		t := p.targets[n]
		deps := ""
		if len(t.deps) > 0 {
			deps = " (after " + strings.Join(t.deps, ", ") + ")"
		}
		def := ""
		if n == p.fallback || (p.fallback == "" && n == p.order[0]) {
			def = " [default]"
		}
		fmt.Fprintf(p.out, "  %-12s %s%s%s\n", n, t.help, deps, def)
	}
	fmt.Fprintf(p.out, "\nflags:\n")
	p.flags.SetOutput(p.out)
	p.flags.PrintDefaults()
}

// runTarget runs one target, turning a panic in it into an error so that
// the other targets stop cleanly and the summary is still printed.
func runTarget(ctx context.Context, t *target, eng *engine.Engine) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("target %s panicked: %v", t.name, v)
		}
	}()
	if t.run == nil {
		return fmt.Errorf("target %s has no function", t.name)
	}
	return t.run(ctx, eng)
}
