package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"engine"}, {"build"}, {"engine", "explode"}, {"engine", "status", "--nope"}} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, &out, &errOut)
		require.ErrorIs(t, err, errUsage, "%v", args)
	}
}

func TestNoEngine(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"engine", "status", "--addr", "unix://" + t.TempDir() + "/none.sock"}, &out, &errOut)
	require.ErrorIs(t, err, engine.ErrNoEngine)
}

func TestStatusDiskUsagePrune(t *testing.T) {
	env := testenv.Require(t)
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"engine", "status", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.Contains(t, out.String(), "address:  "+env.BuildkitHost)
	assert.Contains(t, out.String(), "version:  buildkit v")
	assert.Contains(t, out.String(), "executor=oci")

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"engine", "du", "--addr", env.BuildkitHost}, &out, &errOut))
	assert.Contains(t, out.String(), "reclaimable:")

	out.Reset()
	// Keeps everything used in the last hour: the shared engine's cache stays warm.
	require.NoError(t, run(t.Context(), []string{"engine", "prune", "--addr", env.BuildkitHost, "--keep-duration", "1h"}, &out, &errOut))
	assert.Contains(t, out.String(), "removed")
}

func TestBytesString(t *testing.T) {
	assert.Equal(t, "512 B", bytesString(512))
	assert.Equal(t, "1.5 KiB", bytesString(1536))
	assert.Equal(t, "2.0 GiB", bytesString(2<<30))
}
