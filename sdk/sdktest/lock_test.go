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

// TestPlanWithLockShowsDownloadChecksum: a download the code leaves to the
// lock shows the locked checksum in a locked plan, and one with its own
// checksum keeps it.
func TestPlanWithLockShowsDownloadChecksum(t *testing.T) {
	t.Parallel()
	f := lock.New()
	f.SetHTTP("https://x.example/tool", lockA)
	f.SetHTTP("https://x.example/pinned", lockA)
	app := sdk.From("debian:bookworm").
		WithFile("/tool", sdk.HTTP("https://x.example/tool", "")).
		WithFile("/pinned", sdk.HTTP("https://x.example/pinned", lockB)).
		WithFile("/live", sdk.HTTP("https://x.example/live", ""))
	args := map[string][]string{}
	for _, s := range sdktest.PlanWithLock(app, f).Steps() {
		if s.Op == "http" {
			args[s.Args[0]] = s.Args
		}
	}
	assert.Equal(t, map[string][]string{
		"https://x.example/tool":   {"https://x.example/tool", lockA},
		"https://x.example/pinned": {"https://x.example/pinned", lockB},
		"https://x.example/live":   {"https://x.example/live"},
	}, args)
	assert.NotContains(t, sdktest.PlanOf(app).String(), lockA, "PlanOf is not changed")
}

// TestLockProblemsDownloads: a download without a checksum the lock does
// not record is stale, and so is an entry no download needs.
func TestLockProblemsDownloads(t *testing.T) {
	t.Parallel()
	app := sdk.From("debian:bookworm").
		WithFile("/tool", sdk.HTTP("https://x.example/tool", "")).
		WithFile("/pinned", sdk.HTTP("https://x.example/pinned", lockB))
	f := lock.New()
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", lockA)
	problems, err := sdktest.LockProblems(f, app)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0], "download https://x.example/tool is not recorded")
	assert.Contains(t, problems[0], "lock_test.go:")

	f.SetHTTP("https://x.example/tool", lockA)
	f.SetHTTP("https://x.example/gone", lockA)
	problems, err = sdktest.LockProblems(f, app)
	require.NoError(t, err)
	assert.Equal(t, []string{"download https://x.example/gone is recorded but no graph pulls it without a checksum"}, problems)
}
