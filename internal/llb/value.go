package llb

import (
	"context"
	"errors"
	"fmt"
)

// Value is a model value the compiler and the planner read: *Container,
// *Directory or *File. The interface is sealed; package sdk's public values
// wrap these.
type Value interface {
	isModel()
}

func (*Container) isModel() {}
func (*Directory) isModel() {}
func (*File) isModel()      {}

// SDK is how the public package sdk hands its values and its errors to the
// compiler, which cannot import it (sdk imports this package). Package sdk
// registers one from its init; engine, sdktest and the bench reach sdk
// values only through ModelOf and CompileValue.
type SDK struct {
	// Model returns the model behind a public value. It fails with a
	// *ValidationError for a nil value, and with another error for a value
	// that is not the SDK's.
	Model func(v any) (Value, error)
	// Public converts a ValidationError into the public type users match
	// with errors.As.
	Public func(e *ValidationError) error
	// As sets target to the public form of e when target points at the
	// public type (the errors.As protocol), and reports whether it did.
	As func(e *ValidationError, target any) bool
}

// registered is the SDK set by RegisterSDK; zero until sdk is linked in.
var registered SDK

// RegisterSDK installs package sdk's hooks. It is called once, from sdk's
// init, before any goroutine can compile; a second call replaces the first.
func RegisterSDK(s SDK) { registered = s }

// errNoSDK says package sdk is not linked into the program.
var errNoSDK = errors.New("compile: package sdk is not linked in (import github.com/ladingbuild/lading/sdk)")

// ModelOf returns the model behind an sdk value (*sdk.Container,
// *sdk.Directory or *sdk.File). A nil value is a *ValidationError; a value of
// another type an error that names it.
func ModelOf(v any) (Value, error) {
	if m, ok := v.(Value); ok {
		return m, nil
	}
	if registered.Model == nil {
		return nil, errNoSDK
	}
	return registered.Model(v)
}

// PublicError returns err with a *ValidationError at its top replaced by
// package sdk's public type. A ValidationError deeper in a wrapped chain
// stays, and still matches the public type with errors.As.
func PublicError(err error) error {
	// The top only, as documented: errors.As would reach into the chain.
	ve, ok := err.(*ValidationError) //nolint:errorlint // the top of the chain on purpose
	if !ok || registered.Public == nil {
		return err
	}
	return registered.Public(ve)
}

// CompileValue compiles an sdk value (*sdk.Container, *sdk.Directory or
// *sdk.File). A bad argument anywhere in the graph comes back as package
// sdk's *ValidationError.
func CompileValue(ctx context.Context, v any, opt Options) (*Program, error) {
	m, err := ModelOf(v)
	if err != nil {
		return nil, PublicError(err)
	}
	p, err := Compile(ctx, m, opt)
	if err != nil {
		return nil, PublicError(err)
	}
	return p, nil
}

// unsupported is the error for a value the compiler cannot read.
func unsupported(v any) error {
	return fmt.Errorf("compile: %T is not a lading value (want *sdk.Container, *sdk.Directory or *sdk.File)", v)
}
