package units

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"512MiB", 512 << 20},
		{"512MB", 512 << 20},
		{"512m", 512 << 20},
		{"10GB", 10 << 30},
		{"10 GB", 10 << 30},
		{"1.5GiB", 3 << 29},
		{"2T", 2 << 40},
		{" 300MB ", 300 << 20},
	} {
		got, err := ParseSize(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, in := range []string{"", "GB", "ten", "10XB", "-1GB", "10GB5"} {
		_, err := ParseSize(in)
		require.ErrorIs(t, err, ErrSyntax, in)
		assert.Contains(t, err.Error(), "e.g. 512MiB or 10GB", in)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"90s", 90 * time.Second},
		{"12h", 12 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"3d", 72 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"0.5d", 12 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1w2d3h", (9*24 + 3) * time.Hour},
	} {
		got, err := ParseDuration(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, in := range []string{"", "3", "d", "-3d", "3days", "3x", "h12", "1..5d"} {
		_, err := ParseDuration(in)
		require.ErrorIs(t, err, ErrSyntax, in)
		assert.Contains(t, err.Error(), "e.g. 12h or 3d", in)
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "45s", FormatDuration(45*time.Second))
	assert.Equal(t, "12m", FormatDuration(12*time.Minute+5*time.Second))
	assert.Equal(t, "30h", FormatDuration(30*time.Hour))
	assert.Equal(t, "3d", FormatDuration(80*time.Hour))
}
