package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/examples/multistage/graph"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// withVet is the example with a go vet step before the binary is taken.
func withVet(src *sdk.Directory) *sdk.Container {
	return graph.Build(src, sdk.Proxy{}).WithExec([]string{"go", "vet", "./..."})
}

// TestExplainAddedStep is the offline explanation docs/cache-misses.md
// shows: a step added before the image's copy re-runs that step and the
// copy, nothing else.
func TestExplainAddedStep(t *testing.T) {
	t.Parallel()
	src := sdk.Host("../app")
	e := sdktest.Explain(t, graph.Image(graph.Build(src, sdk.Proxy{}), "1.0"), graph.Image(withVet(src), "1.0"))
	t.Logf("%s", e)
	require.Len(t, e.Reruns, 2, "%s", e)
	assert.Equal(t, "a new step: the last build had no exec step at this line (graph/explain_test.go:16)", e.Reruns[0].Why)
	assert.Equal(t, "its parent step exec go vet ./... at graph/explain_test.go:16 runs again (graph/graph.go:30)", e.Reruns[1].Why)
	assert.Contains(t, e.String(), "re-runs 2 of 10 steps: #9–#10\n")
}

// A new image version label re-runs nothing: it is image config.
func TestExplainLabelRunsNothing(t *testing.T) {
	t.Parallel()
	src := sdk.Host("../app")
	e := sdktest.Explain(t, graph.Image(graph.Build(src, sdk.Proxy{}), "1.0"), graph.Image(graph.Build(src, sdk.Proxy{}), "1.1"))
	assert.Empty(t, e.Reruns, "%s", e)
}
