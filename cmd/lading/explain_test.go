package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/explain"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

func explainGraph(goflags string) *sdk.Container {
	return sdk.From("golang:1.26").
		WithExec([]string{"go", "version"}).
		WithEnv("GOFLAGS", goflags).
		WithExec([]string{"go", "mod", "download"}).
		WithExec([]string{"go", "build", "./..."})
}

func TestExplainCommand(t *testing.T) {
	dir := t.TempDir()
	old, cur := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	sdktest.WriteRecord(t, explainGraph(""), old)
	sdktest.WriteRecord(t, explainGraph("-mod=mod"), cur)
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"explain", old, cur}, &out, &errOut))
	assert.Contains(t, out.String(), "re-runs 2 of 4 steps: #3–#4\n")
	assert.Contains(t, out.String(), `#3 exec go mod download: env GOFLAGS changed: "" → "-mod=mod" (lading/explain_test.go:21)`)
	assert.Contains(t, out.String(), `#4 exec go build ./...: env GOFLAGS changed: "" → "-mod=mod" (lading/explain_test.go:22)`)

	out.Reset()
	require.NoError(t, run(t.Context(), []string{"explain", cur, cur}, &out, &errOut))
	assert.Equal(t, "re-runs none of 4 steps\n", out.String())
}

func TestExplainCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version": 99}`), 0o644))
	var out, errOut bytes.Buffer
	require.ErrorIs(t, run(t.Context(), []string{"explain", bad}, &out, &errOut), errUsage)
	err := run(t.Context(), []string{"explain", bad, bad}, &out, &errOut)
	require.ErrorIs(t, err, explain.ErrVersion)
	assert.Contains(t, err.Error(), bad)
	require.ErrorIs(t, run(t.Context(), []string{"explain", filepath.Join(dir, "none.json"), bad}, &out, &errOut), os.ErrNotExist)

	// A hand-edited record whose steps read each other crashed the
	// command with a stack overflow; it is refused, naming the step.
	cycle := filepath.Join(dir, "cycle.json")
	require.NoError(t, os.WriteFile(cycle, []byte(`{"version":3,"steps":[{"id":"b","op":"exec","name":"exec make","key":"k","parents":["c"]},{"id":"c","op":"exec","key":"j","parents":["b"]}]}`), 0o644))
	err = run(t.Context(), []string{"explain", cycle, cycle}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), cycle+`: decoding a build record: step 1 ("exec make") reads step 2, listed at or after it: the record is damaged`)

	// -list names what it cannot read instead of leaving it out silently.
	out.Reset()
	require.NoError(t, run(t.Context(), []string{"explain", "-list", "-dir", dir}, &out, &errOut))
	assert.Contains(t, out.String(), "not listed: "+bad+": build record of version 99")
	assert.Contains(t, out.String(), "not listed: "+cycle+": decoding a build record")
}

func TestExplainList(t *testing.T) {
	dir := t.TempDir()
	store := explain.Store{Dir: dir}
	require.NoError(t, store.Save(&explain.Record{Version: explain.Version, Program: "prog", Target: "exec at ci/main.go:9"}))
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"explain", "-list", "-dir", dir}, &out, &errOut))
	assert.Contains(t, out.String(), "prog")
	assert.Contains(t, out.String(), "exec at ci/main.go:9")
}
