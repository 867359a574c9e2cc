package sdk

import (
	"strconv"

	"github.com/ladingbuild/lading/internal/llb"
)

// ValidationError reports a bad argument to a build step. Builders record
// it on the value they return, and compiling, planning (sdktest.PlanOf) or
// building the value reports it, before anything reaches the daemon. Match
// it with errors.As:
//
//	var verr *sdk.ValidationError
//	if errors.As(err, &verr) { fmt.Println(verr.Location, verr.Fix) }
type ValidationError struct {
	// Op is the builder that got the bad argument, e.g. "WithExec", or
	// "Directory.WithFile" for a method of Directory.
	Op string
	// Arg names the argument or option, e.g. "args", "path", "Workdir".
	Arg string
	// Location is the Go file:line of the call that made the step; zero
	// when no call site is known (a nil value handed to a build).
	Location Location
	// Problem says what is wrong. A long argument is quoted as its first
	// 200 bytes and its length.
	Problem string
	// Fix says how to correct the call.
	Fix string
}

// Error formats the error as "file:line: Op: invalid Arg: Problem (Fix)".
func (e *ValidationError) Error() string {
	return llb.Invalid(llb.Location{File: e.Location.File, Line: e.Location.Line}, e.Op, e.Arg, e.Problem, e.Fix).Error()
}

// Location is the Go source position that made a step.
type Location struct {
	// File is the source file with its directory, e.g. "ci/main.go".
	File string
	// Line is the 1-based line number.
	Line int
}

// String formats the location as "dir/file.go:line", or "unknown".
func (l Location) String() string {
	if l.File == "" {
		return "unknown"
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// publicError converts the compiler's error into the public type.
func publicError(e *llb.ValidationError) *ValidationError {
	return &ValidationError{Op: e.Op, Arg: e.Arg, Location: Location{File: e.Location.File, Line: e.Location.Line}, Problem: e.Problem, Fix: e.Fix}
}

// toPublic is the compiler's hook to convert its error.
func toPublic(e *llb.ValidationError) error { return publicError(e) }

// asPublic is the errors.As hook of the compiler's ValidationError.
func asPublic(e *llb.ValidationError, target any) bool {
	p, ok := target.(**ValidationError)
	if ok {
		*p = publicError(e)
	}
	return ok
}
