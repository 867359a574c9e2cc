package llb

import (
	"context"
	"fmt"
)

// unwrap turns a public sdk value into its model; sdk registers it.
var unwrap func(v any) (any, bool)

// RegisterUnwrap lets package sdk hand its values to the compiler. It is
// called once, from sdk's init.
func RegisterUnwrap(f func(v any) (any, bool)) { unwrap = f }

// Model returns the model behind an sdk value, or nil.
func Model(v any) any {
	if unwrap == nil {
		return nil
	}
	m, ok := unwrap(v)
	if !ok {
		return nil
	}
	return m
}

// CompileValue compiles an sdk value (*sdk.Container, *sdk.Directory or
// *sdk.File).
func CompileValue(ctx context.Context, v any, opt Options) (*Program, error) {
	m := Model(v)
	if m == nil {
		return nil, fmt.Errorf("compile: %T is not a lading value (want *sdk.Container, *sdk.Directory or *sdk.File)", v)
	}
	return Compile(ctx, m, opt)
}
