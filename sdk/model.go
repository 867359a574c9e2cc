package sdk

import (
	"fmt"

	"github.com/ladingbuild/lading/internal/llb"
)

// Value is anything lading can build: *Container, *Directory or *File.
type Value interface {
	isValue()
}

func (*Container) isValue() {}
func (*Directory) isValue() {}
func (*File) isValue()      {}

// The compiler reads sdk values through these hooks; see "How engine
// reaches sdk values" in docs/architecture.md.
func init() {
	llb.RegisterSDK(llb.SDK{
		Model:  model,
		Public: toPublic,
		As:     asPublic,
	})
}

// model returns the compiler's model behind v. A nil value, or one not
// made by this package's constructors, is a ValidationError.
func model(v any) (llb.Value, error) {
	nilValue := func(what, fix string) error {
		return llb.Invalid(llb.Location{}, "build", "value", "the "+what+" is nil", fix)
	}
	switch v := v.(type) {
	case nil:
		return nil, nilValue("value", "pass a *sdk.Container, *sdk.Directory or *sdk.File")
	case *Container:
		if v == nil || v.m == nil {
			return nil, nilValue("container", "pass a container made by sdk.From or sdk.Scratch")
		}
		return v.m, nil
	case *Directory:
		if v == nil || v.m == nil {
			return nil, nilValue("directory", "pass a directory made by sdk.Host, sdk.Git, sdk.NewDirectory or Container.Directory")
		}
		return v.m, nil
	case *File:
		if v == nil || v.m == nil {
			return nil, nilValue("file", "pass a file made by sdk.HTTP, Container.File or Directory.File")
		}
		return v.m, nil
	}
	return nil, fmt.Errorf("compile: %T is not a lading value (want *sdk.Container, *sdk.Directory or *sdk.File)", v)
}
