package main

import (
	"testing"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// TestLockIsCurrent keeps the committed lading.lock in step with the
// graph: every base image recorded, nothing recorded that the graph no
// longer pulls. On failure: `lading lock update ./examples/java-war`.
func TestLockIsCurrent(t *testing.T) {
	t.Parallel()
	sdktest.RequireLockCurrent(t, "lading.lock", Image(Build(sdk.Host("app"), sdk.Proxy{}), "dev"))
}
