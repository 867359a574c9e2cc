package engine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/inspect"
	"github.com/ladingbuild/lading/sdk"
)

func TestAttestProbe(t *testing.T) {
	e, env := testEngine(t)
	c := sdk.From("debian:bookworm-slim").
		WithDirectory("/bin2", sdk.Host(ltTool(t))).
		WithExec([]string{"/bin2/lt", "write", "/built", uniqueTag(t)})
	ref := env.Registry + "/lading-test/attest:" + uniqueTag(t)
	_, err := e.With(WithProvenance(ProvenanceMax)).Publish(t.Context(), c, ref)
	require.NoError(t, err)
	img, err := inspect.Read(t.Context(), ref)
	require.NoError(t, err)
	dt, _ := json.MarshalIndent(img, "", "  ")
	t.Logf("%s", dt)
	for _, a := range img.Platforms[0].Attestations {
		t.Logf("%s", a.Statement)
	}
}
