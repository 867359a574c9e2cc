package sdktest_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// updateAtInit is the -update flag as this test binary found it once
// sdktest was initialized: sdktest must not register one.
var updateAtInit = flag.Lookup("update")

// TestPlanAgreesWithBuild: whatever a build rejects before the daemon, a
// plan rejects with the same error, and the other way round.
func TestPlanAgreesWithBuild(t *testing.T) {
	t.Parallel()
	base := sdk.From("debian:bookworm")
	var (
		nilContainer *sdk.Container
		nilDirectory *sdk.Directory
		nilFile      *sdk.File
	)
	cases := []struct {
		name  string
		v     sdk.Value
		valid bool
	}{
		{"valid", base.WithExec([]string{"true"}), true},
		{"two secrets, one name", base.WithMountedSecret("/a", sdk.SecretFromValue("tok", "1")).
			WithSecretEnv("B", sdk.SecretFromValue("tok", "2")).WithExec([]string{"true"}), false},
		{"the same secret twice", base.WithMountedSecret("/a", sdk.SecretFromValue("tok", "1")).
			WithSecretEnv("B", sdk.SecretFromValue("tok", "1")).WithExec([]string{"true"}), true},
		{"bad argument", base.WithWorkdir("src"), false},
		{"nil value", nil, false},
		{"nil container", nilContainer, false},
		{"nil directory", nilDirectory, false},
		{"nil file", nilFile, false},
		{"zero container", &sdk.Container{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			planErr := sdktest.PlanOf(tc.v).Err()
			_, buildErr := llb.CompileValue(t.Context(), tc.v, llb.Options{})
			if tc.valid {
				require.NoError(t, planErr)
				require.NoError(t, buildErr)
				return
			}
			var pv, bv *sdk.ValidationError
			require.ErrorAs(t, planErr, &pv, "the plan must reject it")
			require.ErrorAs(t, buildErr, &bv, "the build must reject it")
			assert.Equal(t, bv.Error(), pv.Error())
			assert.Contains(t, sdktest.PlanOf(tc.v).String(), "error: ")
			assert.Empty(t, sdktest.PlanOf(tc.v).Steps())
		})
	}
}

// TestGoldenFailsOnInvalidValue: Golden must fail on an invalid value and
// write nothing, even when asked to update.
func TestGoldenFailsOnInvalidValue(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	bad := sdk.From("debian:bookworm").WithWorkdir("relative")
	for _, update := range []string{"", "1"} {
		t.Setenv(sdktest.UpdateEnv, update)
		r := run(t, func(tb testing.TB) { sdktest.Golden(tb, bad) })
		assert.True(t, r.failed, "update=%q: Golden passed on an invalid value", update)
		assert.Contains(t, r.msg, "trust_test.go:", "name the call that made the bad step")
		_, err := os.Stat(filepath.Join(dir, "testdata"))
		require.ErrorIs(t, err, os.ErrNotExist, "update=%q: Golden wrote testdata", update)
	}
	// A golden file that recorded the error (as older versions wrote)
	// does not make it pass either.
	t.Setenv(sdktest.UpdateEnv, "")
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	name := filepath.Join("testdata", t.Name()+".plan")
	require.NoError(t, os.WriteFile(name, []byte(sdktest.PlanOf(bad).String()), 0o644))
	r := run(t, func(tb testing.TB) { sdktest.Golden(tb, bad) })
	assert.True(t, r.failed)
}

// TestUpdateWithoutGlobalFlag: sdktest defines no -update flag (a test
// package may define its own, as this one does), honours one the test
// binary defined, and honours LADING_UPDATE_GOLDEN=1.
func TestUpdateWithoutGlobalFlag(t *testing.T) {
	require.Nil(t, updateAtInit, "sdktest registered a global -update flag")
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files") // panics if sdktest defined one
	}
	t.Chdir(t.TempDir())
	v := sdk.From("debian:bookworm").WithExec([]string{"true"})
	file := filepath.Join("testdata", t.Name()+".plan")

	t.Setenv(sdktest.UpdateEnv, "")
	r := run(t, func(tb testing.TB) { sdktest.Golden(tb, v) })
	assert.True(t, r.failed, "no golden file and no update: fail")

	require.NoError(t, flag.Set("update", "true"))
	t.Cleanup(func() { _ = flag.Set("update", "false") })
	r = run(t, func(tb testing.TB) { sdktest.Golden(tb, v) })
	require.False(t, r.failed, r.msg)
	require.FileExists(t, file)
	require.NoError(t, flag.Set("update", "false"))
	require.NoError(t, os.Remove(file))

	t.Setenv(sdktest.UpdateEnv, "1")
	r = run(t, func(tb testing.TB) { sdktest.Golden(tb, v) })
	require.False(t, r.failed, r.msg)
	require.FileExists(t, file)

	t.Setenv(sdktest.UpdateEnv, "")
	r = run(t, func(tb testing.TB) { sdktest.Golden(tb, v) })
	assert.False(t, r.failed, "the file just written must match: %s", r.msg)
}

// TestRequireOrderNeedsDependency: two steps on separate branches appear
// in some order in the plan, but neither feeds the other; RequireOrder
// must fail on them, naming both steps' Go lines, and pass for a chain
// or a step that mounts the other's output.
func TestRequireOrderNeedsDependency(t *testing.T) {
	t.Parallel()
	base := sdk.From("golang:1.26")
	vet := base.WithExec([]string{"go", "vet"})
	vetLine := lineOf(-1)
	build := base.WithExec([]string{"go", "build"})
	buildLine := lineOf(-1)
	both := sdk.From("debian:bookworm").
		WithFile("/vet", vet.File("/out")).
		WithFile("/app", build.File("/out"))
	p := sdktest.PlanOf(both)
	require.Less(t, p.Exec(t, "go", "vet").Index, p.Exec(t, "go", "build").Index, "the plan lists vet first")
	r := run(t, func(tb testing.TB) { p.RequireOrder(tb, []string{"go", "vet"}, []string{"go", "build"}) })
	require.True(t, r.failed, "independent steps passed RequireOrder")
	assert.Contains(t, r.msg, vetLine)
	assert.Contains(t, r.msg, buildLine)

	chained := sdktest.PlanOf(vet.WithExec([]string{"go", "build"}))
	r = run(t, func(tb testing.TB) { chained.RequireOrder(tb, []string{"go", "vet"}, []string{"go", "build"}) })
	assert.False(t, r.failed, r.msg)
	r = run(t, func(tb testing.TB) { chained.RequireOrder(tb, []string{"go", "build"}, []string{"go", "vet"}) })
	assert.True(t, r.failed, "the reverse order passed")

	mounted := sdktest.PlanOf(base.WithMountedDirectory("/vet", vet.Directory("/out")).WithExec([]string{"go", "build"}))
	r = run(t, func(tb testing.TB) { mounted.RequireOrder(tb, []string{"go", "vet"}, []string{"go", "build"}) })
	assert.False(t, r.failed, "a mounted output is a dependency: %s", r.msg)
}

// TestFailuresNameGoLines: every assertion's failure names the Go
// file:line of the steps involved.
func TestFailuresNameGoLines(t *testing.T) {
	t.Parallel()
	root := sdk.From("debian:bookworm").
		WithEnv("API_TOKEN", "x").
		WithExec([]string{"make"}, sdk.Env("DB_PASSWORD", "y"))
	line := lineOf(-1)
	p := sdktest.PlanOf(root)
	cases := map[string]func(tb testing.TB){
		"RequireNonRoot":       func(tb testing.TB) { p.RequireNonRoot(tb) },
		"RequireCacheMount":    func(tb testing.TB) { p.Exec(tb, "make").RequireCacheMount(tb, "/cache") },
		"RequireSecretMount":   func(tb testing.TB) { p.Exec(tb, "make").RequireSecretMount(tb, "/s", "s") },
		"Exec":                 func(tb testing.TB) { p.Exec(tb, "go") },
		"RequireNoSecretInEnv": func(tb testing.TB) { p.RequireNoSecretInEnv(tb) },
		"RequireNoEnv":         func(tb testing.TB) { p.RequireNoEnv(tb, "API_TOKEN") },
		"RequireOrder":         func(tb testing.TB) { p.RequireOrder(tb, []string{"make"}, []string{"make"}) },
		"RequireNonRoot on a directory": func(tb testing.TB) {
			sdktest.PlanOf(root.Directory("/etc")).RequireNonRoot(tb)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := run(t, f)
			require.True(t, r.failed, "the assertion should have failed")
			assert.Contains(t, r.msg, line, "name the step's Go line")
		})
	}
}
