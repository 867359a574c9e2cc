package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/containerd/console"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"

	"github.com/ladingbuild/lading/sdk"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// EnvInteractive turns on the shell at a failed step for programs that do
// not pass [Interactive] (go run ./ci): LADING_INTERACTIVE=1.
const EnvInteractive = "LADING_INTERACTIVE"

// Interactive opens an interactive shell (/bin/sh) in a failed exec
// step's container when standard input is a terminal: the step's
// filesystem as it was when its command failed, with its mounts (cache
// volumes, secrets, directories), env, workdir and user, the way
// `buildx debug` does. When the shell exits, the build returns the step's
// error. Without a terminal the option is ignored, with one warning saying
// why. LADING_INTERACTIVE=1 turns it on too. See docs/services.md.
func Interactive() Option {
	return func(s *settings) {
		s.only("Interactive", forBuilds, "it applies to builds")
		s.interactive = true
	}
}

// interactiveWanted says whether the build should open a shell at a
// failed step.
func (r *run) interactiveWanted() bool {
	if r.e.s.interactive {
		return true
	}
	v, _ := strconv.ParseBool(os.Getenv(EnvInteractive))
	return v
}

// debugTerminal is where the debug shell talks: the process's terminal.
// Tests replace it.
var debugTerminal = func() (in io.Reader, out io.Writer, tty console.Console, err error) {
	c, err := console.ConsoleFromFile(os.Stdin)
	if err != nil {
		return nil, nil, nil, err
	}
	return os.Stdin, os.Stdout, c, nil
}

// debugMu keeps two failing builds of one process from sharing the
// terminal.
var debugMu sync.Mutex

// debugShell opens the shell at the failed step of err, if asked for and
// possible. It never changes the build's outcome: what goes wrong is a
// warning.
func (r *run) debugShell(ctx context.Context, c gateway.Client, err error) {
	if !r.interactiveWanted() || ctx.Err() != nil {
		return
	}
	var se *errdefs.SolveError
	if !errors.As(err, &se) || se.Solve == nil {
		return
	}
	exec, ok := se.Op.GetOp().(*pb.Op_Exec)
	if !ok {
		return // a file step failed: there is no command to look at
	}
	debugMu.Lock()
	defer debugMu.Unlock()
	in, out, tty, terr := debugTerminal()
	if terr != nil {
		r.warnf("%s: standard input is not a terminal, so no shell is opened at the failed step", interactiveName(r))
		return
	}
	if derr := runDebugShell(ctx, c, exec.Exec, se.MountIDs, in, out, tty); derr != nil {
		r.warnf("the shell at the failed step could not run: %v", derr)
	}
}

func interactiveName(r *run) string {
	if r.e.s.interactive {
		return "engine.Interactive"
	}
	return EnvInteractive
}

// runDebugShell starts /bin/sh in a container made of the failed exec's
// mounts, as they were when it failed, and connects it to the terminal
// until it exits.
func runDebugShell(ctx context.Context, c gateway.Client, ex *pb.ExecOp, mountIDs []string, in io.Reader, out io.Writer, tty console.Console) error {
	if len(mountIDs) < len(ex.Mounts) {
		return fmt.Errorf("the engine kept %d of the step's %d mounts", len(mountIDs), len(ex.Mounts))
	}
	var mounts []gateway.Mount
	for i, m := range ex.Mounts {
		mounts = append(mounts, gateway.Mount{
			Selector: m.Selector, Dest: m.Dest, ResultID: mountIDs[i], Readonly: m.Readonly,
			MountType: m.MountType, CacheOpt: m.CacheOpt, SecretOpt: m.SecretOpt, SSHOpt: m.SSHOpt,
		})
	}
	return runShell(ctx, c, ex, mounts, in, out, tty, "lading: the step failed; a shell in its container (exit to go on):")
}

// runShell starts /bin/sh in a container of mounts, with ex's env,
// workdir, user, network and hosts, and connects it to the terminal until
// it exits.
func runShell(ctx context.Context, c gateway.Client, ex *pb.ExecOp, mounts []gateway.Mount, in io.Reader, out io.Writer, tty console.Console, banner string) error {
	req := gateway.NewContainerRequest{NetMode: ex.Network, Mounts: mounts}
	if ex.Meta != nil {
		req.ExtraHosts = ex.Meta.ExtraHosts
	}
	ctr, err := c.NewContainer(ctx, req)
	if err != nil {
		return err
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serviceStopTimeout)
		defer cancel()
		_ = ctr.Release(rctx)
	}()
	root := slices.IndexFunc(req.Mounts, func(m gateway.Mount) bool { return m.Dest == "/" })
	if _, err := ctr.StatFile(ctx, gateway.StatContainerRequest{StatRequest: gateway.StatRequest{Path: "/bin/sh"}, MountIndex: max(root, 0)}); err != nil {
		return fmt.Errorf("the step's container has no /bin/sh (%w); install a shell in the image to debug it this way", err)
	}
	if err := tty.SetRaw(); err != nil {
		return fmt.Errorf("putting the terminal in raw mode: %w", err)
	}
	defer func() { _ = tty.Reset() }()
	// The shell reads a pipe that is closed when it exits, so that no
	// reader is left behind on the terminal once the build returns.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.Copy(pw, in)
		_ = pw.Close()
	}()
	defer pr.Close()
	meta := ex.Meta
	if meta == nil {
		meta = &pb.Meta{}
	}
	fmt.Fprintf(out, "\r\n%s\r\n", banner)
	proc, err := ctr.Start(ctx, gateway.StartRequest{
		Args: []string{"/bin/sh"}, Env: meta.Env, User: meta.User, Cwd: meta.Cwd,
		SecretEnv: ex.Secretenv, SecurityMode: ex.Security, Tty: true,
		Stdin: pr, Stdout: nopCloser{out}, Stderr: nopCloser{out},
		RemoveMountStubsRecursive: meta.RemoveMountStubsRecursive,
	})
	if err != nil {
		return err
	}
	if size, err := tty.Size(); err == nil && size.Height > 0 {
		_ = proc.Resize(ctx, gateway.WinSize{Rows: uint32(size.Height), Cols: uint32(size.Width)})
	}
	_ = proc.Wait() // the shell's own exit status is the user's business
	return nil
}

// nopCloser is a writer the container may close without closing it.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// Terminal builds c and opens an interactive shell (/bin/sh) in its
// filesystem, with the env, workdir and user of its image config, in the
// build's own session; it returns when the shell exits. The mounts of c
// (cache volumes, secrets) are not applied: they belong to its exec steps.
// Standard input must be a terminal.
func (e *Engine) Terminal(ctx context.Context, c *sdk.Container) error {
	if err := e.usable(); err != nil {
		return err
	}
	if c == nil {
		return errors.New("terminal: nil container")
	}
	if _, _, _, err := debugTerminal(); err != nil {
		return fmt.Errorf("terminal: standard input is not a terminal: %w", err)
	}
	_, err := e.build(ctx, request{compile: compileValue(c, false), terminal: true})
	return err
}

// terminal opens the shell of [Engine.Terminal] in the built result.
func (r *run) terminal(ctx context.Context, c gateway.Client, ref gateway.Reference, p *lllb.Program) error {
	if !r.req.terminal || ref == nil {
		return nil
	}
	in, out, tty, err := debugTerminal()
	if err != nil {
		return fmt.Errorf("terminal: standard input is not a terminal: %w", err)
	}
	debugMu.Lock()
	defer debugMu.Unlock()
	cfg := p.Image.Config
	ex := &pb.ExecOp{
		Meta:   &pb.Meta{Env: cfg.Env, Cwd: workdir(cfg.WorkingDir), User: cfg.User, RemoveMountStubsRecursive: true},
		Mounts: []*pb.Mount{{Dest: "/", MountType: pb.MountType_BIND}},
	}
	return runShell(ctx, c, ex, []gateway.Mount{{Dest: "/", Ref: ref, MountType: pb.MountType_BIND}}, in, out, tty,
		"lading: a shell in the container (exit to go on):")
}
