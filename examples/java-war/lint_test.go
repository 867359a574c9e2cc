package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// TestImagePassesLint: the example's image passes lint with its lock
// (`lading lint ./examples/java-war`): nothing fails, and the lock pins
// both bases, so no base-unpinned warning is left.
func TestImagePassesLint(t *testing.T) {
	t.Parallel()
	f, err := lock.Read("lading.lock")
	require.NoError(t, err)
	img := Image(Build(sdk.Host("app"), sdk.Proxy{}), "dev")
	sdktest.RequireLintClean(t, img, lint.WithLock(f))
	r, err := lint.Run(img, lint.WithLock(f))
	require.NoError(t, err)
	for _, x := range r.Findings() {
		require.NotEqual(t, lint.BaseUnpinned, x.Rule, "%v", x)
	}
}
