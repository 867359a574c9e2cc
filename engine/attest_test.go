package engine

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

func TestProvenanceEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want Provenance
		err  string
	}{
		{"", ProvenanceMin, ""},
		{"min", ProvenanceMin, ""},
		{"MAX", ProvenanceMax, ""},
		{"off", ProvenanceOff, ""},
		{"sometimes", 0, "LADING_PROVENANCE=\"sometimes\": want min, max or off"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("LADING_PROVENANCE", tc.env)
			got, _, err := attestSettings{}.modes()
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Setenv("LADING_PROVENANCE", "off")
	got, _, err := attestSettings{provenance: ProvenanceMax, provenanceSet: true}.modes()
	require.NoError(t, err)
	assert.Equal(t, ProvenanceMax, got, "the option wins over the env")
	assert.True(t, strings.HasPrefix(ProvenanceMax.String(), "max"))
}

func TestAttestKey(t *testing.T) {
	t.Setenv("LADING_PROVENANCE", "")
	t.Setenv("LADING_SBOM", "")
	def := attestSettings{}.attestKey()
	assert.Equal(t, "attest provenance=min sbom=default:"+DefaultSBOMScanner, def)
	assert.NotEqual(t, def, attestSettings{provenance: ProvenanceOff, provenanceSet: true}.attestKey())
	assert.NotEqual(t, def, attestSettings{sbom: DefaultSBOMScanner, sbomSet: true}.attestKey())
	assert.NotEqual(t, def, attestSettings{sbomSet: true}.attestKey())
	t.Setenv("LADING_PROVENANCE", "max")
	assert.Equal(t, "attest provenance=max sbom=default:"+DefaultSBOMScanner, attestSettings{}.attestKey(), "the env counts")
}

// The default SBOM is for registry pushes only; one asked for goes into
// OCI tarballs too; nothing asks the engine's attest:sbom processor (lading
// runs the scanner itself, so that the default can fall back).
func TestDefaultSBOMIsForPushes(t *testing.T) {
	t.Setenv("LADING_SBOM", "")
	t.Setenv("LADING_PROVENANCE", "")
	x := func(typ string) *export { return &export{entry: client.ExportEntry{Type: typ}} }
	for _, tc := range []struct {
		name    string
		opts    []Option
		exports []*export
		want    *sbomMode
	}{
		{"registry", nil, []*export{x(client.ExporterImage)}, &sbomMode{scanner: DefaultSBOMScanner}},
		{"registry and oci", nil, []*export{x(client.ExporterImage), x(client.ExporterOCI)}, &sbomMode{scanner: DefaultSBOMScanner}},
		{"oci", nil, []*export{x(client.ExporterOCI)}, nil},
		{"oci asked", []Option{WithSBOM("")}, []*export{x(client.ExporterOCI)}, &sbomMode{scanner: DefaultSBOMScanner, asked: true}},
		{"registry off", []Option{WithoutSBOM()}, []*export{x(client.ExporterImage)}, nil},
		{"docker", nil, []*export{x(client.ExporterDocker)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := defaultSettings()
			for _, o := range tc.opts {
				o(&s)
			}
			r := &run{e: &Engine{s: s}, exports: tc.exports, pre: &lllb.Program{}, opt: client.SolveOpt{FrontendAttrs: map[string]string{}}}
			require.NoError(t, r.requestAttestations(t.Context()))
			assert.NotContains(t, r.opt.FrontendAttrs, "attest:sbom")
			if tc.want == nil {
				assert.Nil(t, r.attest.sbom)
				return
			}
			require.NotNil(t, r.attest.sbom)
			assert.Equal(t, *tc.want, r.attest.sbom.mode)
			assert.Contains(t, r.features(), featureSBOM)
		})
	}
}
