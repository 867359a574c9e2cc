package pipeline

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestSkipUnchanged runs a pipeline twice on the real engine: the second
// run's build is skipped, and a changed value builds again.
func TestSkipUnchanged(t *testing.T) {
	env := testenv.Require(t)
	nonce := time.Now().String()
	records := t.TempDir()
	run := func(content string) engine.Summary {
		p := New("skip")
		var out bytes.Buffer
		p.Output(&out)
		p.EngineOptions(engine.WithAddress(env.BuildkitHost), engine.Silent(), engine.WithProgress(engine.ProgressQuiet),
			engine.WithRecords(records), engine.WithProgramName("pipeline-skip"))
		p.SkipUnchanged()
		var sum engine.Summary
		p.Target("build", "", func(ctx context.Context, eng *engine.Engine) error {
			res, err := eng.Build(ctx, sdk.Scratch().WithNewFile("/a", content))
			if err == nil {
				sum = res.Summary
			}
			return err
		})
		require.NoError(t, p.Run(t.Context(), []string{"build"}), "%s", out.String())
		return sum
	}
	assert.Empty(t, run(nonce).Skipped, "nothing to compare with")
	assert.Contains(t, run(nonce).Skipped, "unchanged since the build of")
	assert.Empty(t, run(nonce+" changed").Skipped, "a changed value builds")
}
