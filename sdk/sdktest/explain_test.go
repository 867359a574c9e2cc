package sdktest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// explainedGraph is a small build in the shape of examples/multistage:
// module download, tests and build, with caches and a secret.
type explainedGraph struct {
	base, goflags, cache, platform, secret, test string
	sharing                                      sdk.CacheOption
}

func (g explainedGraph) value(src *sdk.Directory) *sdk.Container {
	return sdk.From(g.base, sdk.ForPlatform(sdk.Platform(g.platform))).
		WithMountedCache("/go/pkg/mod", sdk.CacheVolume(g.cache), g.sharing).
		WithEnv("GOFLAGS", g.goflags).
		WithWorkdir("/src").
		WithFile("/src/go.mod", src.File("go.mod")).
		WithExec([]string{"go", "mod", "download"}).
		WithDirectory("/src", src).
		WithSecretEnv("TOKEN", sdk.SecretFromValue("token", g.secret)).
		WithExec([]string{"go", "test", g.test}).
		WithExec([]string{"go", "build", "-o", "/out/app", "."})
}

func TestExplain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644))
	src := sdk.Host(dir)
	base := explainedGraph{base: "golang:1.26", goflags: "-mod=mod", cache: "go-mod", platform: "linux/amd64",
		secret: "sentinel-value-1", test: "./...", sharing: sdk.Shared}
	tests := []struct {
		name   string
		change func(g *explainedGraph)
		// why maps the steps that re-run to their explanation's start.
		why map[string]string
	}{
		{"env value", func(g *explainedGraph) { g.goflags = "" }, map[string]string{
			"exec go mod download": `env GOFLAGS changed: "-mod=mod" → ""`,
			"copy / /src":          "its parent step exec go mod download at ",
			"exec go test ./...":   `env GOFLAGS changed: "-mod=mod" → ""`,
			"exec go build":        `env GOFLAGS changed: "-mod=mod" → ""`,
		}},
		{"argument", func(g *explainedGraph) { g.test = "-short" }, map[string]string{
			"exec go test -short": `arguments changed: "go test ./..." → "go test -short"`,
			"exec go build":       "its parent step exec go test -short at ",
		}},
		{"base image tag", func(g *explainedGraph) { g.base = "golang:1.25" }, map[string]string{
			"copy /go.mod /src/go.mod": `base image changed: golang:1.26 → golang:1.25 (from at `,
			"exec go mod download":     `base image changed: "golang:1.26" → "golang:1.25"`,
			"copy / /src":              "its parent step exec go mod download at ",
			"exec go test ./...":       `base image changed: "golang:1.26" → "golang:1.25"`,
			"exec go build":            `base image changed: "golang:1.26" → "golang:1.25"`,
		}},
		{"platform", func(g *explainedGraph) { g.platform = "linux/arm64" }, map[string]string{
			"copy /go.mod /src/go.mod": "from golang:1.26 platform changed: \"linux/amd64\" → \"linux/arm64\"",
			"exec go mod download":     `platform changed: "linux/amd64" → "linux/arm64"`,
			"copy / /src":              "its parent step exec go mod download at ",
			"exec go test ./...":       `platform changed: "linux/amd64" → "linux/arm64"`,
			"exec go build":            `platform changed: "linux/amd64" → "linux/arm64"`,
		}},
		// BuildKit keeps cache volume ids, sharing and secret values out
		// of its cache keys: nothing runs again.
		{"cache volume id", func(g *explainedGraph) { g.cache = "go-mod-2" }, map[string]string{}},
		{"cache sharing", func(g *explainedGraph) { g.sharing = sdk.Locked }, map[string]string{}},
		{"secret value", func(g *explainedGraph) { g.secret = "sentinel-value-2" }, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			changed := base
			tc.change(&changed)
			e := sdktest.Explain(t, base.value(src), changed.value(src))
			t.Logf("%s", e)
			assert.Len(t, e.Reruns, len(tc.why), "%s", e)
			for name, want := range tc.why {
				r, ok := e.Rerun(name)
				if assert.True(t, ok, "step %s must re-run:\n%s", name, e) {
					assert.Contains(t, r.Why, want)
					assert.Contains(t, r.Why, "("+r.Location+")", "names the step's Go line")
				}
			}
			assert.NotContains(t, e.String(), "sentinel-value", "a secret's value never appears")
		})
	}
}

func TestExplainUnchanged(t *testing.T) {
	t.Parallel()
	v := sdk.From("debian:bookworm").WithExec([]string{"true"})
	e := sdktest.Explain(t, v, v)
	assert.Empty(t, e.Reruns)
	assert.Equal(t, "re-runs none of 2 steps\n", e.String())
}

func TestExplainNumbersLikeThePlan(t *testing.T) {
	t.Parallel()
	before := sdk.From("debian:bookworm").WithExec([]string{"a"}).WithExec([]string{"b"}).WithExec([]string{"c"})
	after := sdk.From("debian:bookworm").WithExec([]string{"a"}).WithEnv("X", "1").WithExec([]string{"b"}).WithExec([]string{"c"})
	e := sdktest.Explain(t, before, after)
	plan := sdktest.PlanOf(after).Steps()
	require.Len(t, e.Reruns, 2)
	for _, r := range e.Reruns {
		assert.Equal(t, plan[r.Index-1].Location, r.Location)
	}
	assert.Contains(t, e.String(), "re-runs 2 of 4 steps: #3–#4\n")
}
