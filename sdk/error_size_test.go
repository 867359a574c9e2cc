package sdk_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// TestHugeArgumentMakesShortError gives builders a 10 MB bad argument: the
// error must quote a bounded prefix of it once, with its length, not the
// whole argument (once or twice).
func TestHugeArgumentMakesShortError(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a", 10<<20)
	base := sdk.From("debian:bookworm")
	dir := sdk.NewDirectory().WithNewFile("f", "x")
	cases := []struct {
		name string
		v    func() sdk.Value
	}{
		{"From ref", func() sdk.Value { return sdk.From("A" + big) }},
		{"From ref with bad chars", func() sdk.Value { return sdk.From(big + "!") }},
		{"platform", func() sdk.Value { return sdk.Scratch(sdk.ForPlatform(sdk.Platform(big))) }},
		{"relative workdir", func() sdk.Value { return base.WithWorkdir(big) }},
		{"workdir with ..", func() sdk.Value { return base.WithWorkdir("/" + big + "/..") }},
		{"not UTF-8", func() sdk.Value { return base.WithExec([]string{"echo", big + "\xff"}) }},
		{"env name", func() sdk.Value { return base.WithEnv(big+"=", "x") }},
		{"user", func() sdk.Value { return base.WithUser(" " + big) }},
		{"protocol", func() sdk.Value { return base.WithExposedPort(80, sdk.Protocol(big)) }},
		{"git url", func() sdk.Value { return sdk.Git("https://x/"+big+" ", "main") }},
		{"http url", func() sdk.Value { return sdk.HTTP("ftp://"+big, "sha256:"+strings.Repeat("a", 64)) }},
		{"http checksum", func() sdk.Value { return sdk.HTTP("https://example.com/f", "sha256:"+big) }},
		{"secret name", func() sdk.Value { return base.WithSecretEnv("T", sdk.SecretFromValue(big+" ", "v")) }},
		{"mounted twice", func() sdk.Value { return base.WithMountedTemp("/" + big).WithMountedTemp("/" + big) }},
		{"secret name too long", func() sdk.Value {
			return base.WithSecretEnv("A", sdk.SecretFromValue(big, "1")).WithSecretEnv("B", sdk.SecretFromValue(big, "2")).WithExec([]string{"true"})
		}},
		{"CA bundle", func() sdk.Value { return base.WithProxy(sdk.Proxy{CABundle: "/" + big}) }},
		{"directory path", func() sdk.Value { return dir.Directory("../" + big) }},
		{"copy destination", func() sdk.Value { return base.WithDirectory(big, dir) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.v()
			for what, err := range map[string]error{"compile": compileErr(t, v), "plan": sdktest.PlanOf(v).Err()} {
				var verr *sdk.ValidationError
				require.ErrorAs(t, err, &verr, what)
				msg := err.Error()
				assert.Less(t, len(msg), 2000, "%s: a %d-byte error", what, len(msg))
				assert.Contains(t, msg, "bytes)", "%s: say how long the argument was", what)
				assert.Contains(t, msg, "error_size_test.go:", what)
			}
		})
	}
}

func compileErr(t *testing.T, v sdk.Value) error {
	t.Helper()
	_, err := compile(t, v)
	return err
}
