package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/examples/services/graph"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// TestEndToEnd runs the service's tests on the real engine with the Redis
// service bound: the integration test must run (not skip) and pass.
func TestEndToEnd(t *testing.T) {
	env := testenv.Require(t)
	eng, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet), engine.WithInsecureRegistry(env.Registry))
	require.NoError(t, err)
	defer eng.Close()

	res, err := eng.Exec(t.Context(), graph.Test(sdk.Host("app")))
	require.NoError(t, err)
	assert.Contains(t, res.Stdout, "--- PASS: TestCounterAgainstRedis")
	assert.NotContains(t, res.Stdout, "SKIP")
}
