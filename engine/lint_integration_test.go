package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
)

// TestLintBeforeBuild: at LintError a failing finding stops the build
// before anything is solved (the base does not even exist: nothing listens on 127.0.0.1:1), naming the Go
// line; at LintWarn findings become the build's warnings.
func TestLintBeforeBuild(t *testing.T) {
	e, env := testEngine(t)
	bad, at := sdk.From("127.0.0.1:1/lading-test/app:latest"), lllb.Caller(0)
	_, err := e.With(WithLint(LintError)).Build(t.Context(), bad)
	var ce *lint.CheckError
	require.ErrorAs(t, err, &ce)
	require.NotEmpty(t, ce.Findings)
	assert.Equal(t, lint.BaseLatest, ce.Findings[0].Rule)
	assert.Equal(t, at.String(), ce.Findings[0].Location.String())

	// Silenced, it goes on to the engine (and fails resolving the base).
	_, err = e.With(WithLint(LintError)).Build(t.Context(), lint.Allow(bad, lint.BaseLatest, "a test of the silence"))
	require.Error(t, err)
	require.NotErrorAs(t, err, &ce)

	ref := fmt.Sprintf("%s/lading-test/lint-%d:v1", env.Registry, time.Now().UnixNano())
	pushMarker(t, e, ref, "one")
	res, err := e.With(WithLint(LintWarn)).Build(t.Context(), sdk.From(ref).WithUser("10001"))
	require.NoError(t, err)
	var warned bool
	for _, w := range res.Summary.Warnings {
		if strings.HasPrefix(w, "lint: ") && strings.Contains(w, "[base-unpinned]") {
			warned = true
		}
	}
	assert.True(t, warned, "warnings: %q", res.Summary.Warnings)

	res, err = e.Build(t.Context(), sdk.From(ref).WithUser("10001"))
	require.NoError(t, err)
	assert.Empty(t, res.Summary.Warnings, "lint is opt-in")
}

// TestLintFromEnvironment: LADING_LINT=error turns the check on; a bad
// value is an error naming the variable.
func TestLintFromEnvironment(t *testing.T) {
	e, _ := testEngine(t)
	t.Setenv("LADING_LINT", "error")
	_, err := e.Build(t.Context(), sdk.From("127.0.0.1:1/lading-test/app:latest"))
	var ce *lint.CheckError
	require.ErrorAs(t, err, &ce)
	t.Setenv("LADING_LINT", "loud")
	_, err = e.Build(t.Context(), sdk.Scratch())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "LADING_LINT")
}
