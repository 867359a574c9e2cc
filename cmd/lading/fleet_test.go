package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

func TestFleetCommand(t *testing.T) {
	env := testenv.Require(t)
	dead := "unix://" + t.TempDir() + "/dead.sock"
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"fleet", "-engines", env.BuildkitHost + " , " + dead + ",", "ci/build", "ci/test"}, &out, &errOut))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	assert.Regexp(t, `^ENGINE\s+STATE\s+VERSION$`, lines[0])
	assert.Regexp(t, `^`+env.BuildkitHost+`\s+up\s+v\d`, lines[1])
	assert.Regexp(t, `^`+dead+`\s+down\s+dial unix .*dead.sock: connect: no such file or directory$`, lines[2])
	assert.Equal(t, "ci/build -> "+env.BuildkitHost, lines[3], "the engine that is up")
	assert.Equal(t, "ci/test -> "+env.BuildkitHost, lines[4])
}

func TestFleetCommandErrors(t *testing.T) {
	t.Setenv("LADING_FLEET", "")
	var out, errOut bytes.Buffer
	require.ErrorIs(t, run(t.Context(), []string{"fleet"}, &out, &errOut), errUsage)
	assert.Contains(t, errOut.String(), "usage: lading fleet")
	dead := "unix://" + t.TempDir() + "/dead.sock"
	require.ErrorIs(t, run(t.Context(), []string{"fleet", "-engines", dead}, &out, &errOut), engine.ErrNoEngine)
	err := run(t.Context(), []string{"fleet", "ci/build", "-engines", dead}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	require.ErrorContains(t, err, `"-engines" after the keys: flags go first`)
	err = run(t.Context(), []string{"fleet", "-engines", " , "}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	require.ErrorContains(t, err, `-engines " , " holds no address`)
	t.Setenv("LADING_FLEET", "kube://ci/statefulset/buildkitd")
	err = run(t.Context(), []string{"fleet"}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	assert.ErrorContains(t, err, "list the pods' addresses instead")
}

// With LADING_FLEET set, `lading engine status` speaks to one daemon and
// says so, pointing at `lading fleet` for the rest.
func TestEngineStatusOnAFleetSaysWhichEngine(t *testing.T) {
	env := testenv.Require(t)
	dead := "unix://" + t.TempDir() + "/dead.sock"
	t.Setenv("LADING_FLEET", env.BuildkitHost+","+dead)
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "status"}, &out, &errOut))
	assert.Contains(t, out.String(), "fleet of 2 engines (LADING_FLEET): this is the first that answered")
	assert.Contains(t, out.String(), "version:  buildkit v")
}
