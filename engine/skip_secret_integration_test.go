package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestSkipReasonHoldsNoSecret: the skip check runs before the build reads
// its secrets, and its reason names a step ("the graph changed at step
// …"); a secret's value that the step's arguments contain must not reach
// the progress output or Summary.Skipped (a regression: it did).
func TestSkipReasonHoldsNoSecret(t *testing.T) {
	var progress lockedBuffer
	eng, _ := testEngine(t, WithRecords(t.TempDir()), WithProgramName("skip-secret"), WithSkipUnchanged(),
		WithProgress(ProgressPlain), WithProgressOutput(&progress))
	sentinel := "sentinel-skip-" + uniqueTag(t)
	v := func(arg string) *sdk.Container {
		return ltContainer(t).
			WithSecretEnv("TOKEN", sdk.SecretFromValue("token", sentinel)).
			WithExec([]string{"/bin/lt", "echo", arg})
	}
	_, err := eng.Build(t.Context(), v("one"))
	require.NoError(t, err)
	res, err := eng.Build(t.Context(), v("token="+sentinel))
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Skipped)
	assert.Contains(t, progress.String(), "not skipped: the graph changed at step exec /bin/lt echo token=***")
	assert.NotContains(t, progress.String(), sentinel)
	assert.NotContains(t, res.Summary.String(), sentinel)
}
