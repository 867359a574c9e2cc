package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	assert.Equal(t, "attest provenance=min sbom=", def)
	assert.NotEqual(t, def, attestSettings{provenance: ProvenanceOff, provenanceSet: true}.attestKey())
	assert.NotEqual(t, def, attestSettings{sbom: DefaultSBOMScanner, sbomSet: true}.attestKey())
	t.Setenv("LADING_PROVENANCE", "max")
	assert.Equal(t, "attest provenance=max sbom=", attestSettings{}.attestKey(), "the env counts")
}
