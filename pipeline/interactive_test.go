package pipeline

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
)

// -i adds engine.Interactive to the options the pipeline connects with.
func TestInteractiveFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{{[]string{"t"}, 1}, {[]string{"-i", "t"}, 2}} {
		p, _ := offline()
		p.EngineOptions(engine.Silent())
		var got int
		p.connect = func(_ context.Context, opts ...engine.Option) (*engine.Engine, error) {
			got = len(opts)
			return nil, nil
		}
		p.Target("t", "a target", func(context.Context, *engine.Engine) error { return nil })
		require.NoError(t, p.Run(t.Context(), tc.args))
		assert.Equal(t, tc.want, got, "%v", tc.args)
	}
}
