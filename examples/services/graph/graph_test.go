package graph

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// The graph is checked offline: it compiles, and the test step runs go
// test with the Redis address set and its build cache mounted.
func TestTestStep(t *testing.T) {
	t.Parallel()
	p := sdktest.PlanOf(Test(sdk.Host("../app")))
	require.NoError(t, p.Err())
	step := p.Exec(t, "go", "test")
	assert.True(t, step.HasEnv("REDIS_ADDR", "db:6379"))
	step.RequireCacheMount(t, "/root/.cache/go-build")
}
