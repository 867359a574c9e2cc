package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/errdefs"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	digest "github.com/opencontainers/go-digest"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// ErrNoEngine is returned (wrapped) by [Connect] when no BuildKit engine can
// be reached or started, by a build or another call when the engine went
// away during it, and by every method of an Engine not made by Connect (a
// nil *Engine or the zero Engine{}). The wrapping error names the address
// tried and what to do: the ways to get an engine, led by fixing
// BUILDKIT_HOST or the WithAddress address when the address came from
// there.
var ErrNoEngine = errors.New("no build engine")

// noEngineHelp lists the ways to get an engine; it ends every ErrNoEngine.
const noEngineHelp = `to get an engine, do one of:
  - run "lading engine start" to start the local engine (as root it needs runc: apt-get install runc; as another user it runs rootless and needs rootlesskit and uidmap: apt-get install rootlesskit uidmap runc)
  - set BUILDKIT_HOST to a running buildkitd (unix:///run/buildkit/buildkitd.sock, tcp://host:1234, docker-container://name, kube-pod://name, ssh://user@host)
  - pass engine.WithAddress(...) to engine.Connect`

// noEngineError builds an error that wraps ErrNoEngine: the address tried,
// why it failed, and the ways to get an engine, led by the one that fits
// where the address came from.
func noEngineError(addr string, origin Origin, cause error) error {
	return fmt.Errorf("%w at %s: %w\n%s%s", ErrNoEngine, clip(addr, maxQuoted), bounded(cause), originHint(addr, origin), noEngineHelp)
}

// originHint is the first thing to try when the engine at addr, found as
// origin says, does not answer; it ends with a newline when not empty.
func originHint(addr string, origin Origin) string {
	switch origin {
	case OriginEnv:
		return fmt.Sprintf("BUILDKIT_HOST is set to %s and no engine answers there: start that engine or fix BUILDKIT_HOST, "+
			"or unset BUILDKIT_HOST to use lading's local engine\n", quote(addr))
	case OriginOption:
		return fmt.Sprintf("the address %s was given with engine.WithAddress and no engine answers there: start that engine or fix the address; "+
			"without WithAddress, Connect uses BUILDKIT_HOST or lading's local engine\n", quote(addr))
	}
	return ""
}

// ExecError is returned when a step of the graph exits with a non-zero code.
// Use errors.As to get it from the error [Engine.Build] returns.
type ExecError struct {
	// Step is the step's human readable name.
	Step string
	// Args are the step's arguments (the command line).
	Args []string
	// ExitCode is the process's exit code.
	ExitCode int
	// Output holds the last lines the step wrote to stdout and stderr,
	// with secret values replaced by "***".
	Output []string
	// Location is the Go file:line that created the step, if known.
	Location string

	err error
}

// Error describes the failed step, its exit code and its last output lines.
func (e *ExecError) Error() string {
	var b strings.Builder
	name := e.Step
	if name == "" {
		name = strings.Join(e.Args, " ")
	}
	fmt.Fprintf(&b, "step %q", name)
	if e.Location != "" {
		fmt.Fprintf(&b, " (%s)", e.Location)
	}
	fmt.Fprintf(&b, " exited with code %d", e.ExitCode)
	if len(e.Output) > 0 {
		b.WriteString("; last output:\n  ")
		b.WriteString(strings.Join(e.Output, "\n  "))
	}
	return b.String()
}

// Unwrap returns BuildKit's underlying error.
func (e *ExecError) Unwrap() error { return e.err }

// exitCode reports the exit code and failing vertex of a BuildKit error.
func exitCode(err error) (code int, vertex string, ok bool) {
	var ee *gatewaypb.ExitError
	if !errors.As(err, &ee) {
		return 0, "", false
	}
	var ve *errdefs.VertexError
	if errors.As(err, &ve) && ve.Vertex != nil {
		vertex = ve.Digest
	}
	return int(ee.ExitCode), vertex, true
}

// canceledError makes errors.Is(err, context.Canceled) hold for an error
// caused by ctx's cancellation, keeping the original message.
type canceledError struct {
	err   error
	cause error
}

func (e *canceledError) Error() string   { return e.err.Error() }
func (e *canceledError) Unwrap() []error { return []error{e.err, e.cause} }

// wrapCanceled returns err unchanged unless ctx is done or err carries a
// gRPC Canceled/DeadlineExceeded status, in which case the result also
// matches context.Canceled (or context.DeadlineExceeded).
func wrapCanceled(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return err
		}
		return &canceledError{err: err, cause: ctxErr}
	}
	if s, ok := status.FromError(unwrapStatus(err)); ok {
		switch s.Code() {
		case codes.Canceled:
			if !errors.Is(err, context.Canceled) {
				return &canceledError{err: err, cause: context.Canceled}
			}
		case codes.DeadlineExceeded:
			if !errors.Is(err, context.DeadlineExceeded) {
				return &canceledError{err: err, cause: context.DeadlineExceeded}
			}
		}
	}
	return err
}

// unwrapStatus finds the innermost error carrying a gRPC status.
func unwrapStatus(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(interface{ GRPCStatus() *status.Status }); ok {
			return e
		}
	}
	return err
}

// solveError turns BuildKit's error into lading's: an *ExecError for a
// failed step, and errors.Is(err, context.Canceled) after cancellation.
func (e *Engine) solveError(ctx context.Context, err error, progs []*lllb.Program, mon *monitor) error {
	if ctx.Err() != nil {
		return wrapCanceled(ctx, fmt.Errorf("build cancelled: %w", err))
	}
	if code, vertex, ok := exitCode(err); ok {
		xe := &ExecError{ExitCode: code, err: err, Output: mon.tail(digest.Digest(vertex))}
		for _, prog := range progs {
			if st, ok := prog.Steps[vertex]; ok {
				xe.Step, xe.Args, xe.Location = st.Name, st.Args, st.Location
			}
		}
		if xe.Step == "" {
			xe.Step = mon.vertexName(digest.Digest(vertex))
		}
		return xe
	}
	return e.classify(ctx, err)
}

// classify turns an error of a solve that is not a failed step into
// lading's: cancellation (matching context.Canceled), an engine that went
// away (wrapping ErrNoEngine), a registry that refused credentials
// (*RegistryAuthError). A compile error (*llb.ValidationError) comes back
// as it is.
func (e *Engine) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ve *lllb.ValidationError
	if errors.As(err, &ve) {
		return err
	}
	if ctx.Err() != nil {
		return wrapCanceled(ctx, fmt.Errorf("build cancelled: %w", bounded(err)))
	}
	if e.gone(ctx, err) {
		return e.lostError("during the build", err)
	}
	if canceledStatus(err) {
		return wrapCanceled(ctx, fmt.Errorf("build cancelled: %w", bounded(err)))
	}
	if ae := e.registryAuthError(err); ae != nil {
		return ae
	}
	return fmt.Errorf("build failed: %w", bounded(err))
}

// rpcError is classify for the engine's other calls (status, disk usage,
// prune): what names the call.
func (e *Engine) rpcError(ctx context.Context, what string, err error) error {
	if ctx.Err() == nil && e.gone(ctx, err) {
		return e.lostError("during "+what, err)
	}
	return wrapCanceled(ctx, fmt.Errorf("%s: %w", what, bounded(err)))
}

// canceledStatus reports whether err carries a gRPC Canceled or
// DeadlineExceeded status.
func canceledStatus(err error) bool {
	s, ok := status.FromError(unwrapStatus(err))
	return ok && (s.Code() == codes.Canceled || s.Code() == codes.DeadlineExceeded)
}

// goneProbe bounds the check that the engine really is gone.
const goneProbe = time.Second

// gone reports whether err says the connection to the engine broke
// (gRPC Unavailable, or Canceled by an engine shutting down) and the
// engine does not answer any more. An engine that still answers passed on
// some other service's status.
func (e *Engine) gone(ctx context.Context, err error) bool {
	s, ok := status.FromError(unwrapStatus(err))
	if !ok || (s.Code() != codes.Unavailable && s.Code() != codes.Canceled) || e.c == nil {
		return false
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), goneProbe)
	defer cancel()
	_, perr := e.c.Info(pctx)
	return perr != nil
}

// lostError says that the engine went away (when: "during the build"),
// at which address, and what to do; it wraps ErrNoEngine and err.
func (e *Engine) lostError(when string, err error) error {
	var hint string
	switch e.origin {
	case OriginLocal, OriginStarted:
		hint = "the local engine stopped or crashed (its log: " + localEnginePaths().log + "); the next engine.Connect starts it again"
	case OriginEnv:
		hint = "the engine at BUILDKIT_HOST stopped or crashed, or the connection to it broke: check that engine, then run the build again"
	default:
		hint = "the engine stopped or crashed, or the connection to it broke: check that engine, then run the build again"
	}
	return fmt.Errorf("%w: the engine at %s (%s) went away %s: %w\n%s", ErrNoEngine, clip(e.addr, maxQuoted), e.origin, when, bounded(err), hint)
}
