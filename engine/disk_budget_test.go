package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/units"
)

// A budget written without its unit ("20" for 20GB or 20%) is refused
// rather than read as a few bytes, which would empty the cache after every
// build; a number of bytes large enough for a cache is still read.
func TestDiskBudgetWithoutUnit(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"20", "512", " 100 ", "1048575"} {
		_, err := parseBudget(in)
		require.ErrorIs(t, err, units.ErrSyntax, "%q", in)
		assert.Contains(t, err.Error(), "a number without a unit is bytes", "%q", in)
	}
	_, err := parseBudget("20")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write a unit (20GB) or a share (20%)")
	for in, want := range map[string]int64{"1048576": 1 << 20, "10737418240": 10 << 30, "20B": 20, "20GB": 20 << 30} {
		b, err := parseBudget(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, b.bytes, "%q", in)
	}
}
