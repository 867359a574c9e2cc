package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A word left after the flags is refused before any engine is reached:
// "-keep-storage 10 GB" must not prune down to 10 bytes, and a volume named
// without -volume must not prune everything else.
func TestEngineRefusesStrayArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"prune", "--keep-storage", "10", "GB"}, "a number without a unit is bytes"},
		{[]string{"prune", "--keep-storage", "2000000", "GB"}, `argument "GB": write a size or duration without a space`},
		{[]string{"prune", "go-build"}, "-volume NAME"},
		{[]string{"prune", "--keep-duration", "3", "d"}, "e.g. 12h or 3d"},
		{[]string{"du", "go-build", "extra"}, `argument "go-build extra": flags come before`},
		{[]string{"status", "now"}, `argument "now"`},
		{[]string{"prune", "--keep-storage", "10"}, "a number without a unit is bytes, too few to keep; write a unit, e.g. 10GB"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"engine", tc.args[0], "--addr", "unix:///nonexistent.sock"}, tc.args[1:]...)
		err := run(t.Context(), args, &out, &errOut)
		require.ErrorIs(t, err, errUsage, "%v", tc.args)
		assert.Contains(t, errOut.String(), tc.want, "%v", tc.args)
		assert.Empty(t, out.String(), "%v", tc.args)
	}
}
