package engine

import (
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// gitServer serves a new repository over Git's smart HTTP protocol on
// loopback and returns its URL and a function that commits /marker =
// content on main, returning the commit id.
func gitServer(t *testing.T) (string, func(content string) string) {
	t.Helper()
	url, commit, _ := gitServerTags(t)
	return url, commit
}

// gitServerTags is gitServer that also returns a function that tags the
// head of main (annotated when message is not empty) and pushes the tag.
func gitServerTags(t *testing.T) (string, func(content string) string, func(name, message string)) {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(t.TempDir(), "work")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+root)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git(root, "init", "-q", "--bare", "-b", "main", "repo.git")
	git(root, "init", "-q", "-b", "main", work)
	srv := httptest.NewServer(&cgi.Handler{
		Path: "/usr/bin/git", Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	})
	t.Cleanup(srv.Close)
	commit := func(content string) string {
		require.NoError(t, os.WriteFile(filepath.Join(work, "marker"), []byte(content), 0o644))
		git(work, "add", "marker")
		git(work, "commit", "-q", "-m", content)
		git(work, "push", "-q", filepath.Join(root, "repo.git"), "main")
		return git(work, "rev-parse", "HEAD")
	}
	tag := func(name, message string) {
		args := []string{"tag", "-f", name}
		if message != "" {
			args = append(args, "-a", "-m", message)
		}
		git(work, args...)
		git(work, "push", "-q", "-f", filepath.Join(root, "repo.git"), "refs/tags/"+name)
	}
	return srv.URL + "/repo.git", commit, tag
}

// TestLockGit locks a branch, moves it, and checks that a pinned build
// checks out the locked commit while a live one takes the branch's head,
// that Lock reports the move, and that frozen refuses an unlocked ref.
func TestLockGit(t *testing.T) {
	e, _ := testEngine(t)
	url, commit := gitServer(t)
	first := commit("one")
	src := func() *sdk.Container { return sdk.Scratch().WithDirectory("/", sdk.Git(url, "main")) }

	locked, err := e.Lock(t.Context(), src())
	require.NoError(t, err)
	got, ok := locked.GitCommit(url, "main")
	require.True(t, ok, "lock: %s", locked.Bytes())
	assert.Equal(t, first, got)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, locked.Write(path))

	second := commit("two")
	assert.Equal(t, "one", markerOf(t, e.With(WithLock(path, lock.Pinned)), src()), "pinned: the locked commit")
	assert.Equal(t, "two", markerOf(t, e, src()), "live: the branch's head")
	assert.Equal(t, "one", markerOf(t, e.With(WithLock(path, lock.Frozen)), src()))

	updated, err := e.Lock(t.Context(), src())
	require.NoError(t, err)
	assert.Equal(t, []lock.Change{{Kind: "git", Source: url + "#main", From: first, To: second}}, lock.Diff(locked, updated))

	// The source policy sees the Git source, with its step's line.
	denyGit := WithSourcePolicy(func(s Source) Decision {
		if s.Kind == GitSource {
			return Deny("no Git in this build")
		}
		return Allow()
	})
	gitSrc, gitAt := sdk.Scratch().WithDirectory("/", sdk.Git(url, "main")), lllb.Caller(0)
	_, err = e.With(denyGit).Build(t.Context(), gitSrc)
	var pd *PolicyDeniedError
	require.ErrorAs(t, err, &pd)
	assert.Equal(t, gitAt.String(), pd.Source.Location)
	assert.Contains(t, pd.Source.Ref, "#main")

	other, at := sdk.Scratch().WithDirectory("/", sdk.Git(url, "other")), lllb.Caller(0)
	_, err = e.With(WithLock(path, lock.Frozen)).Build(t.Context(), other)
	var nl *lock.NotLockedError
	require.ErrorAs(t, err, &nl)
	assert.Equal(t, "git", nl.Kind)
	assert.Equal(t, url+"#other", nl.Source)
	assert.Equal(t, at.String(), nl.Location)
}

// TestLockGitTag: a lock records the commit a tag names, annotated or
// not (an annotated tag resolved to its tag object before), and a pinned
// build checks that commit out after the tag moved.
func TestLockGitTag(t *testing.T) {
	e, _ := testEngine(t)
	url, commit, tag := gitServerTags(t)
	first := commit("one")
	tag("light", "")
	tag("annotated", "release one")
	src := func(name string) *sdk.Container { return sdk.Scratch().WithDirectory("/", sdk.Git(url, name)) }
	locked, err := e.Lock(t.Context(), src("light"), src("annotated"))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "lading.lock")
	require.NoError(t, locked.Write(path))
	for _, name := range []string{"light", "annotated"} {
		got, ok := locked.GitCommit(url, name)
		require.True(t, ok, "lock: %s", locked.Bytes())
		assert.Equal(t, first, got, "%s: the lock records the commit, not a tag object", name)
	}
	commit("two")
	tag("light", "")
	tag("annotated", "release two")
	for _, name := range []string{"light", "annotated"} {
		assert.Equal(t, "one", markerOf(t, e.With(WithLock(path, lock.Pinned)), src(name)), "%s: pinned keeps the locked commit", name)
		assert.Equal(t, "two", markerOf(t, e, src(name)), "%s: live takes the moved tag", name)
	}
}
