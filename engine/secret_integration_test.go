package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

func TestSecretsAreScrubbed(t *testing.T) {
	const value = "s3cr3t-VALUE-from-env-42"
	t.Setenv("LADING_TEST_SECRET", value)
	var progress logBuffer
	var events []Event
	e, _ := testEngine(t, WithProgress(ProgressPlain), WithProgressOutput(&progress),
		WithEvents(func(ev Event) { events = append(events, ev) }))

	secret := sdk.SecretFromEnv("LADING_TEST_SECRET")
	c := ltContainer(t).
		WithSecretEnv("TOKEN", secret).
		WithExec([]string{"/bin/lt", "envfail", "TOKEN", uniqueTag(t)})
	_, err := e.Build(t.Context(), c)
	require.Error(t, err)

	var xe *ExecError
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, 1, xe.ExitCode)
	assert.Contains(t, xe.Output, "value is *** (end)")
	assert.NotContains(t, err.Error(), value)
	assert.Contains(t, err.Error(), "value is *** (end)")
	assert.NotContains(t, progress.String(), value)
	assert.Contains(t, progress.String(), "value is *** (end)")
	var sawLog bool
	for _, ev := range events {
		assert.NotContains(t, ev.Line, value)
		assert.NotContains(t, ev.Error, value)
		if ev.Kind == StepLog && strings.Contains(ev.Line, "value is *** (end)") {
			sawLog = true
		}
	}
	assert.True(t, sawLog, "the scrubbed line arrives as an event")

	// A mounted secret read to stdout comes back scrubbed too.
	file := sdk.SecretFromValue("token", "another-s3cret-value")
	out, err := e.Stdout(t.Context(), ltContainer(t).
		WithMountedSecret("/run/secrets/token", file).
		WithExec([]string{"/bin/lt", "cat", "/run/secrets/token"}))
	require.NoError(t, err)
	assert.Equal(t, "***", out)
}
