package sdktest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

func TestRequireLintClean(t *testing.T) {
	t.Parallel()
	pinned := "debian:bookworm@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, tc := range []struct {
		name  string
		value func() (sdk.Value, string)
		opts  []lint.Option
		fail  []string // what the failure must say; nil: passes
	}{
		{"clean", func() (sdk.Value, string) { return sdk.From(pinned).WithUser("10001"), "" }, nil, nil},
		{"warning passes by default", func() (sdk.Value, string) { return sdk.From("debian:bookworm").WithUser("10001"), "" }, nil, nil},
		{"warning fails with FailOn", func() (sdk.Value, string) {
			return sdk.From("debian:bookworm").WithUser("10001"), lineOf(0)
		}, []lint.Option{lint.FailOn(lint.Warning)}, []string{"[base-unpinned]"}},
		{"root and latest", func() (sdk.Value, string) {
			return sdk.From("debian").WithUser("root"), lineOf(0)
		}, nil, []string{"2 finding(s)", "[base-latest]", "[root-user]", "fix:"}},
		{"silenced", func() (sdk.Value, string) {
			return lint.Allow(sdk.From(pinned).WithUser("root"), lint.RootUser, "a test image"), ""
		}, nil, nil},
		{"invalid", func() (sdk.Value, string) { return sdk.From(""), "" }, nil, []string{"lint:", "image reference is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, line := tc.value()
			r := run(t, func(tb testing.TB) { sdktest.RequireLintClean(tb, v, tc.opts...) })
			if tc.fail == nil {
				assert.False(t, r.failed, r.msg)
				return
			}
			assert.True(t, r.failed)
			for _, s := range tc.fail {
				assert.Contains(t, r.msg, s)
			}
			if line != "" {
				assert.Contains(t, r.msg, line, "the failure names the step's Go line")
			}
		})
	}
}
