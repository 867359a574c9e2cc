package sdktest_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

var (
	lockA = "sha256:" + strings.Repeat("a", 64)
	lockB = "sha256:" + strings.Repeat("b", 64)
)

func TestPlanWithLock(t *testing.T) {
	t.Parallel()
	f := lock.New()
	f.SetImage("docker.io/library/golang:1.26", "linux/amd64", lockA)
	f.SetImage("docker.io/library/debian:bookworm-slim", "linux/arm64", lockB)
	build := sdk.From("golang:1.26").WithExec([]string{"go", "build"})
	app := sdk.From("debian:bookworm-slim", sdk.ForPlatform("linux/arm64")).
		WithFile("/app", build.File("/out/app")).
		WithFile("/b", sdk.From("busybox:1").File("/bin/sh"))
	p := sdktest.PlanWithLock(app, f)
	require.NoError(t, p.Err())
	var froms []string
	for _, s := range p.Steps() {
		if s.Op == "from" {
			froms = append(froms, s.Args[0])
		}
	}
	assert.ElementsMatch(t, []string{"golang:1.26@" + lockA, "debian:bookworm-slim@" + lockB, "busybox:1"}, froms)
	assert.Contains(t, p.String(), "golang:1.26@"+lockA)
	assert.NotContains(t, sdktest.PlanOf(app).String(), lockA, "PlanOf is not changed")
}

func TestRequireLockCurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := sdk.From("debian:bookworm").WithDirectory("/src", sdk.Git("https://github.com/org/repo.git", "main"))
	good := lock.New()
	good.SetImage("docker.io/library/debian:bookworm", "linux/amd64", lockA)
	good.SetGit("https://github.com/org/repo.git", "main", strings.Repeat("c", 40))
	goodPath := filepath.Join(dir, "good.lock")
	require.NoError(t, good.Write(goodPath))
	r := run(t, func(tb testing.TB) { sdktest.RequireLockCurrent(tb, goodPath, app) })
	assert.False(t, r.failed, r.msg)

	stale := lock.New()
	stale.SetImage("docker.io/library/debian:bullseye", "linux/amd64", lockA)
	stalePath := filepath.Join(dir, "stale.lock")
	require.NoError(t, stale.Write(stalePath))
	r = run(t, func(tb testing.TB) { sdktest.RequireLockCurrent(tb, stalePath, app) })
	require.True(t, r.failed)
	assert.Contains(t, r.msg, "run `lading lock update`")
	assert.Contains(t, r.msg, "image docker.io/library/debian:bookworm is not recorded")
	assert.Contains(t, r.msg, "lock_test.go:")
	assert.Contains(t, r.msg, "Git https://github.com/org/repo.git#main is not recorded")
	assert.Contains(t, r.msg, "debian:bullseye (linux/amd64) is recorded but no graph pulls it")

	r = run(t, func(tb testing.TB) { sdktest.RequireLockCurrent(tb, filepath.Join(dir, "missing.lock"), app) })
	require.True(t, r.failed)
	assert.Contains(t, r.msg, "lading lock update")
}
