package engine

import (
	"cmp"
	"context"
	"errors"
	"io"

	gateway "github.com/moby/buildkit/frontend/gateway/client"
)

// prober runs health probes as processes of one long-lived container on
// the service's filesystem (read-only), whose first process is `cat`
// reading a pipe that stays open: starting a process in a running
// container is much quicker than making a container per probe. In
// BuildKit a process that exits non-zero ends its whole container, so a
// failed probe costs the prober, which the next probe makes anew; the
// service's own container is never touched.
type prober struct {
	ctr   gateway.Container
	stdin *io.PipeWriter
}

// newProber makes the probe container.
func (s *service) newProber(ctx context.Context) (*prober, error) {
	ctr, err := s.container(ctx, true)
	if err != nil {
		return nil, err
	}
	if !hasFile(ctx, ctr, "/bin/cat", "/usr/bin/cat") {
		releaseContainer(ctx, ctr)
		return nil, errNoCat
	}
	pr, pw := io.Pipe()
	if _, err := ctr.Start(ctx, gateway.StartRequest{
		Args: []string{"cat"}, Env: s.spec.Env, Cwd: "/", User: s.spec.User,
		Stdin: pr, Stdout: nopCloser{io.Discard}, Stderr: nopCloser{io.Discard},
	}); err != nil {
		releaseContainer(ctx, ctr)
		return nil, err
	}
	return &prober{ctr: ctr, stdin: pw}, nil
}

// errNoCat says the service's image has no cat for the probe container.
var errNoCat = errors.New("the image has no cat (/bin/cat, /usr/bin/cat)")

// hasFile says whether one of paths exists in ctr's root filesystem.
func hasFile(ctx context.Context, ctr gateway.Container, paths ...string) bool {
	for _, p := range paths {
		if _, err := ctr.StatFile(ctx, gateway.StatContainerRequest{StatRequest: gateway.StatRequest{Path: p}}); err == nil {
			return true
		}
	}
	return false
}

// prepareProber makes the probe container in the background.
func (s *service) prepareProber(ctx context.Context) {
	s.pending = make(chan *prober, 1)
	go func() {
		p, err := s.newProber(ctx)
		if err != nil {
			p = nil // the first probe makes one again, and reports why it cannot
		}
		s.pending <- p
	}()
}

// dropProber releases the probe container, waiting for one being made.
func (s *service) dropProber(ctx context.Context) {
	if s.pending != nil {
		s.probe = cmp.Or(s.probe, <-s.pending)
		s.pending = nil
	}
	s.probe.release(ctx)
	s.probe = nil
}

// run runs one probe, making the probe container first if there is none.
func (s *service) run(ctx context.Context, args []string, out *tailBuffer) error {
	if s.pending != nil {
		select {
		case s.probe = <-s.pending:
			s.pending = nil
		case <-ctx.Done():
			return ctx.Err() // dropProber takes the one being made
		}
	}
	if s.probe == nil {
		if s.noProber {
			return s.runAlone(ctx, args, out)
		}
		p, err := s.newProber(ctx)
		if errors.Is(err, errNoCat) {
			// The probe is then a container's first process.
			s.noProber = true
			return s.runAlone(ctx, args, out)
		}
		if err != nil {
			return err
		}
		s.probe = p
	}
	proc, err := s.probe.ctr.Start(ctx, gateway.StartRequest{
		Args: args, Env: s.spec.Env, Cwd: workdir(s.spec.Workdir), User: s.spec.User,
		Stdout: out, Stderr: out, RemoveMountStubsRecursive: true,
	})
	if err == nil {
		err = proc.Wait()
	}
	if err != nil {
		s.probe.release(ctx)
		s.probe = nil
	}
	return err
}

// release ends the probe container.
func (p *prober) release(ctx context.Context) {
	if p == nil {
		return
	}
	_ = p.stdin.Close()
	releaseContainer(ctx, p.ctr)
}

// releaseContainer releases ctr within serviceStopTimeout, even when ctx
// is cancelled.
func releaseContainer(ctx context.Context, ctr gateway.Container) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serviceStopTimeout)
	defer cancel()
	_ = ctr.Release(rctx)
}

// runAlone runs one probe as the first process of a container of its own.
func (s *service) runAlone(ctx context.Context, args []string, out *tailBuffer) error {
	ctr, err := s.container(ctx, true)
	if err != nil {
		return err
	}
	defer releaseContainer(ctx, ctr)
	proc, err := ctr.Start(ctx, gateway.StartRequest{
		Args: args, Env: s.spec.Env, Cwd: workdir(s.spec.Workdir), User: s.spec.User,
		Stdout: out, Stderr: out, RemoveMountStubsRecursive: true,
	})
	if err != nil {
		return err
	}
	return proc.Wait()
}
