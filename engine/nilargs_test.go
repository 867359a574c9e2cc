package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestNilArguments: nil values and outputs given to a real engine are
// errors, never panics.
func TestNilArguments(t *testing.T) {
	e, _ := testEngine(t)
	var nilContainer *sdk.Container
	c := sdk.Scratch().WithNewFile("/a", "a")
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"Build(nil)", func() error { _, err := e.Build(t.Context(), nil); return err }, "build: nil value"},
		{"Build(nil *Container)", func() error { _, err := e.Build(t.Context(), nilContainer); return err }, "the container is nil"},
		{"Export(nil *Container)", func() error { return e.Export(t.Context(), nilContainer, t.TempDir()) }, "the container is nil"},
		{"Build with a nil Output", func() error { _, err := e.Build(t.Context(), c, LocalPath(t.TempDir()), nil); return err }, "output 2 of 2 is nil"},
		{"Publish(nil)", func() error { _, err := e.Publish(t.Context(), nil, "127.0.0.1:5000/x:y"); return err }, "publish: nil container"},
		{"Stdout(nil)", func() error { _, err := e.Stdout(t.Context(), nil); return err }, "nil container"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.call() })
			require.ErrorContains(t, err, tc.want)
		})
	}
}
