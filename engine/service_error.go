package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ServiceError is returned when a service bound to a step (see
// sdk.Container.WithServiceBinding) could not be started, never became
// healthy, or exited while the step ran. Use errors.As to get it; when the
// step itself failed as well, errors.As also finds its [*ExecError].
type ServiceError struct {
	// Alias is the host name the service was bound under.
	Alias string
	// Location is the Go file:line of the AsService call.
	Location string
	// Reason says what went wrong.
	Reason string
	// Log holds the last lines the service wrote to stdout and stderr.
	Log []string

	err error
}

// Error names the service, its Go line, what went wrong and its last log
// lines.
func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %q (%s): %s", e.Alias, e.Location, e.Reason)
	if len(e.Log) > 0 {
		b.WriteString("\nlast lines of its log:")
		for _, l := range e.Log {
			b.WriteString("\n  ")
			b.WriteString(l)
		}
	} else {
		b.WriteString("\n(it wrote nothing to its log)")
	}
	if e.err != nil {
		b.WriteString("\n")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Unwrap returns the step's error, if the step failed too.
func (e *ServiceError) Unwrap() error { return e.err }

// failed turns a failed solve into lading's error, keeping a service's
// failure around the step's own.
func (r *run) failed(ctx context.Context, err error) error {
	if acc, ok := r.readStep(err); ok {
		return acc
	}
	var se *ServiceError
	if !errors.As(err, &se) {
		return r.e.solveError(ctx, err, r.progs, r.mon)
	}
	if se.err != nil {
		se.err = r.e.solveError(ctx, se.err, r.progs, r.mon)
	}
	if ctx.Err() != nil {
		return wrapCanceled(ctx, fmt.Errorf("build cancelled: %w", err))
	}
	return se
}
