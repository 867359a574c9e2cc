package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// noEngine is an offline pipeline whose engine cannot be reached: the
// lint target must not need one.
func noEngine() (*Pipeline, *bytes.Buffer) {
	p, out := offline()
	p.connect = func(context.Context, ...engine.Option) (*engine.Engine, error) { return nil, engine.ErrNoEngine }
	return p, out
}

const pinnedBase = "debian:bookworm@sha256:2222222222222222222222222222222222222222222222222222222222222222"

func TestLintTarget(t *testing.T) {
	t.Parallel()
	good := Image{Name: "good", Build: func() *sdk.Container { return sdk.From(pinnedBase).WithUser("10001") }}
	warned := Image{Name: "warned", Build: func() *sdk.Container { return sdk.From("debian:bookworm").WithUser("10001") }}
	bad := Image{Name: "bad", Build: func() *sdk.Container { return sdk.From("debian").WithUser("root") }}
	silenced := Image{Name: "silenced", Build: func() *sdk.Container {
		return lint.Allow(sdk.From(pinnedBase).WithUser("root"), lint.RootUser, "a debug image")
	}}
	for _, tc := range []struct {
		name    string
		images  []Image
		opts    []lint.Option
		args    []string
		fails   bool
		outHas  []string
		isJSON  bool
		failing int
	}{
		{name: "clean", images: []Image{good, warned}, args: []string{"lint"}, outHas: []string{"good:", "warned:", "[base-unpinned]", "0 fail the check"}},
		{name: "error fails", images: []Image{good, bad}, args: []string{"lint"}, fails: true, outHas: []string{"bad:", "[base-latest]", "[root-user]", "pipeline/lint_test.go:"}},
		{name: "FailOn warning", images: []Image{warned}, opts: []lint.Option{lint.FailOn(lint.Warning)}, args: []string{"lint"}, fails: true},
		{name: "silenced passes", images: []Image{silenced}, args: []string{"lint"}, outHas: []string{"silenced at", "a debug image"}},
		{name: "json", images: []Image{bad, silenced}, args: []string{"-json", "lint"}, fails: true, isJSON: true, failing: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _ := noEngine()
			var out bytes.Buffer
			p.Target("build", "", func(context.Context, *engine.Engine) error { return nil })
			p.LintTarget(Lint{Images: tc.images, Options: tc.opts, Output: &out})
			err := p.Run(t.Context(), tc.args)
			if tc.fails {
				require.ErrorIs(t, err, errLintFailed)
			} else {
				require.NoError(t, err, out.String())
			}
			for _, s := range tc.outHas {
				assert.Contains(t, out.String(), s)
			}
			if tc.isJSON {
				var doc struct {
					Images []struct {
						Name   string `json:"name"`
						Report struct {
							Findings []lint.Finding `json:"findings"`
						} `json:"report"`
					} `json:"images"`
					Failing int `json:"failing"`
				}
				require.NoError(t, json.Unmarshal(out.Bytes(), &doc), out.String())
				assert.Equal(t, tc.failing, doc.Failing)
				require.Len(t, doc.Images, 2)
				require.NotEmpty(t, doc.Images[1].Report.Findings)
				assert.True(t, doc.Images[1].Report.Findings[0].Silenced, "silenced findings are in the JSON, marked")
			}
		})
	}
}

// TestLintTargetKeepsOtherTargets: other targets still connect to the
// engine, and fail without one.
func TestLintTargetKeepsOtherTargets(t *testing.T) {
	t.Parallel()
	p, _ := noEngine()
	ran := false
	p.Target("build", "", func(context.Context, *engine.Engine) error { ran = true; return nil })
	p.LintTarget(Lint{Output: &bytes.Buffer{}})
	err := p.Run(t.Context(), []string{"build", "lint"})
	require.ErrorIs(t, err, engine.ErrNoEngine)
	assert.False(t, ran)
	p.LintTarget(Lint{Output: &bytes.Buffer{}}) // twice: the -json flag is not defined again
}

// TestLintTargetDefaultsToImageTargets: with no Images, the lint target
// lints every image given to ImageTargets, before or after it.
func TestLintTargetDefaultsToImageTargets(t *testing.T) {
	t.Parallel()
	p, _ := noEngine()
	var out bytes.Buffer
	p.ImageTargets(Image{Name: "first", Build: func() *sdk.Container { return sdk.From(pinnedBase).WithUser("10001") }})
	p.LintTarget(Lint{Output: &out})
	err := p.Run(t.Context(), []string{"lint"})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "first:")
}

// TestLintTargetReadsTheBuildsLock: `go run ./ci lint` counts what the
// builds' lock file records as pinned, as `lading lint` does: the file
// LADING_LOCK_FILE names, else lading.lock in the working directory.
func TestLintTargetReadsTheBuildsLock(t *testing.T) {
	dir := t.TempDir()
	f := lock.New()
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", "sha256:"+strings.Repeat("a", 64))
	require.NoError(t, f.Write(filepath.Join(dir, lock.DefaultPath)))
	run := func() string {
		t.Helper()
		p, _ := noEngine()
		var out bytes.Buffer
		p.ImageTargets(Image{Name: "app", Build: func() *sdk.Container { return sdk.From("debian:bookworm").WithUser("10001") }})
		p.LintTarget(Lint{Output: &out})
		require.NoError(t, p.Run(t.Context(), []string{"lint"}))
		return out.String()
	}
	t.Chdir(t.TempDir())
	assert.Contains(t, run(), "[base-unpinned]", "no lock here")
	t.Setenv("LADING_LOCK_FILE", filepath.Join(dir, lock.DefaultPath))
	assert.NotContains(t, run(), "[base-unpinned]", "LADING_LOCK_FILE's lock pins the tag")
	t.Setenv("LADING_LOCK_FILE", "")
	t.Chdir(dir)
	assert.NotContains(t, run(), "[base-unpinned]", "lading.lock in the working directory pins the tag")
}
