package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestEngineNotFromConnect calls every method of a nil *Engine, of a
// zero Engine{} and of a With copy of each: none panics, each returns an
// error wrapping ErrNoEngine that says how to get an engine.
func TestEngineNotFromConnect(t *testing.T) {
	t.Parallel()
	var zero Engine
	engines := map[string]*Engine{
		"nil *Engine":      nil,
		"zero Engine{}":    &zero,
		"With of zero":     zero.With(WithProgress(ProgressQuiet)),
		"With of nil":      (*Engine)(nil).With(WithProgress(ProgressQuiet)),
		"new(Engine)":      new(Engine),
		"With of new(...)": new(Engine).With(),
	}
	c := sdk.From("debian:bookworm").WithExec([]string{"true"})
	calls := map[string]func(context.Context, *Engine) error{
		"Build": func(ctx context.Context, e *Engine) error { _, err := e.Build(ctx, c); return err },
		"Publish": func(ctx context.Context, e *Engine) error {
			_, err := e.Publish(ctx, c, "127.0.0.1:5000/x:y")
			return err
		},
		"Stdout":       func(ctx context.Context, e *Engine) error { _, err := e.Stdout(ctx, c); return err },
		"Stderr":       func(ctx context.Context, e *Engine) error { _, err := e.Stderr(ctx, c); return err },
		"Export":       func(ctx context.Context, e *Engine) error { return e.Export(ctx, c, t.TempDir()) },
		"Status":       func(ctx context.Context, e *Engine) error { _, err := e.Status(ctx); return err },
		"DiskUsage":    func(ctx context.Context, e *Engine) error { _, err := e.DiskUsage(ctx); return err },
		"Prune":        func(ctx context.Context, e *Engine) error { _, err := e.Prune(ctx, PruneOptions{}); return err },
		"CacheVolumes": func(ctx context.Context, e *Engine) error { _, err := e.CacheVolumes(ctx); return err },
		"Close":        func(_ context.Context, e *Engine) error { return e.Close() },
	}
	for ename, e := range engines {
		for cname, call := range calls {
			t.Run(ename+"/"+cname, func(t *testing.T) {
				t.Parallel()
				var err error
				require.NotPanics(t, func() { err = call(t.Context(), e) })
				require.ErrorIs(t, err, ErrNoEngine)
				assert.Contains(t, err.Error(), "engine.Connect(ctx)", "says how to get an engine")
			})
		}
		t.Run(ename+"/Address and Origin", func(t *testing.T) {
			t.Parallel()
			require.NotPanics(t, func() {
				assert.Empty(t, e.Address())
				assert.Empty(t, e.Origin())
			})
		})
	}
}
