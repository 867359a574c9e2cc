package explain_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/explain"
	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

const pinned = "debian:bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000001"

// record records v offline, host directories hashed, the previous
// record's hashes reused where the files' stat matches.
func record(t *testing.T, v sdk.Value, prev *explain.Record) *explain.Record {
	t.Helper()
	m, err := llb.ModelOf(v)
	require.NoError(t, err)
	steps, err := llb.Inputs(t.Context(), m, llb.Options{})
	require.NoError(t, err)
	r := &explain.Record{Version: explain.Version, Steps: explain.FromSteps(steps), Time: time.Now()}
	for i := range r.Steps {
		if h := r.Steps[i].Host; h != nil {
			var old *explain.Host
			if prev != nil {
				old = prev.Steps[i].Host
			}
			require.NoError(t, explain.HashHost(t.Context(), h, old))
		}
	}
	r.SetBases(nil)
	return r
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// srcDir is a host directory with sources and a .dockerignore'd file, its
// files dated in the past (outside the racy window).
func srcDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.go"), "package main\n")
	write(t, filepath.Join(dir, "lib/lib.go"), "package lib\n")
	write(t, filepath.Join(dir, "notes.txt"), "ignored\n")
	write(t, filepath.Join(dir, ".dockerignore"), "notes.txt\n")
	age(t, dir)
	return dir
}

// age dates every file of dir an hour back.
func age(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	require.NoError(t, filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	}))
}

func graph(base, env, dir string) *sdk.Container {
	return sdk.From(base).
		WithEnv("MODE", env).
		WithDirectory("/src", sdk.Host(dir)).
		WithExec([]string{"make"})
}

func TestUnchanged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// change alters the files or the graph after the first record.
		change   func(t *testing.T, dir string) (base, env string)
		skip     bool
		wantWhy  string
		wantSame string
	}{
		{"nothing", func(*testing.T, string) (string, string) { return pinned, "a" }, true, "unchanged since the build of", ""},
		{"touch without change", func(t *testing.T, dir string) (string, string) {
			now := time.Now()
			require.NoError(t, os.Chtimes(filepath.Join(dir, "main.go"), now, now))
			return pinned, "a"
		}, true, "4 steps", ""},
		{"a .dockerignored file", func(t *testing.T, dir string) (string, string) {
			write(t, filepath.Join(dir, "notes.txt"), "changed\n")
			return pinned, "a"
		}, true, "unchanged", ""},
		{"a moved file", func(t *testing.T, dir string) (string, string) {
			require.NoError(t, os.Rename(filepath.Join(dir, "lib/lib.go"), filepath.Join(dir, "lib/lib2.go")))
			return pinned, "a"
		}, false, "host files changed: 2 files of host ", "lib/lib.go (removed)"},
		{"same size, same time, new content", func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "main.go")
			info, err := os.Stat(p)
			require.NoError(t, err)
			write(t, p, "package mian\n")
			require.NoError(t, os.Chtimes(p, info.ModTime(), info.ModTime()))
			return pinned, "a"
		}, false, "host files changed: 1 file of host ", "main.go"}, // its change time moved
		{"an env value", func(*testing.T, string) (string, string) { return pinned, "b" }, false, "the graph changed at step exec make", ""},
		{"the base tag", func(*testing.T, string) (string, string) {
			return "debian:trixie@sha256:0000000000000000000000000000000000000000000000000000000000000001", "a"
		}, false, "the graph changed at step from debian:trixie", ""},
		{"an unpinned base", func(*testing.T, string) (string, string) { return "debian:bookworm", "a" }, false, "the graph changed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := srcDir(t)
			prev := record(t, graph(pinned, "a", dir), nil)
			base, env := tc.change(t, dir)
			cur := record(t, graph(base, env, dir), prev)
			why, ok := explain.Unchanged(prev, cur)
			assert.Equal(t, tc.skip, ok, why)
			assert.Contains(t, why, tc.wantWhy)
			assert.Contains(t, why, tc.wantSame)
		})
	}
}

func TestUnpinnedBaseNeverSkips(t *testing.T) {
	t.Parallel()
	dir := srcDir(t)
	prev := record(t, graph("debian:bookworm", "a", dir), nil)
	cur := record(t, graph("debian:bookworm", "a", dir), prev)
	why, ok := explain.Unchanged(prev, cur)
	assert.False(t, ok)
	assert.Contains(t, why, "base image debian:bookworm is not pinned by digest (explain/explain_test.go:")
	why, ok = explain.Unchanged(nil, cur)
	assert.False(t, ok)
	assert.Contains(t, why, "no earlier successful build")
}

func TestHostChangeIsExplained(t *testing.T) {
	t.Parallel()
	dir := srcDir(t)
	prev := record(t, graph(pinned, "a", dir), nil)
	for _, f := range []string{"a.go", "b.go", "c.go", "d.go", "e.go", "f.go"} {
		write(t, filepath.Join(dir, f), f)
	}
	write(t, filepath.Join(dir, "main.go"), "package main // changed\n")
	cur := record(t, graph(pinned, "a", dir), prev)
	rs := explain.Reruns(prev, cur)
	require.Len(t, rs, 2, "%v", rs)
	assert.Equal(t, "copy / /src", rs[0].Step.Name)
	assert.Regexp(t, `^7 files of host .* changed: a.go \(added\), b.go \(added\), c.go \(added\), d.go \(added\), e.go \(added\) and 2 more \(explain/explain_test.go:\d+\)$`, rs[0].Why)
	assert.Contains(t, rs[1].Why, "its parent step copy / /src at ")
}

func TestHashHostReadsOnlyChangedFiles(t *testing.T) {
	// Not parallel: it counts the files the package reads.
	dir := srcDir(t)
	for i := range 50 {
		write(t, filepath.Join(dir, "pkg", fmt.Sprintf("f%02d.go", i)), "package pkg\n")
	}
	age(t, dir)
	h := &explain.Host{Path: dir}
	require.NoError(t, explain.HashHost(t.Context(), h, nil))
	assert.Equal(t, 56, h.Count, "files and directories (no patterns given)")

	before := explain.FilesRead()
	again := &explain.Host{Path: dir}
	require.NoError(t, explain.HashHost(t.Context(), again, h))
	assert.Equal(t, int64(0), explain.FilesRead()-before, "no file whose stat is unchanged is read")
	assert.Equal(t, h.Digest, again.Digest)

	write(t, filepath.Join(dir, "pkg", "f07.go"), "package pkg // changed\n")
	before = explain.FilesRead()
	third := &explain.Host{Path: dir}
	require.NoError(t, explain.HashHost(t.Context(), third, again))
	assert.Equal(t, int64(1), explain.FilesRead()-before, "only the changed file is read")
	assert.NotEqual(t, h.Digest, third.Digest)
}

func TestHashHostRereadsRacyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "one")
	h := &explain.Host{Path: dir}
	require.NoError(t, explain.HashHost(t.Context(), h, nil))
	info, err := os.Stat(p)
	require.NoError(t, err)
	// Same size and time, new content, modified just as it was hashed.
	write(t, p, "two")
	require.NoError(t, os.Chtimes(p, info.ModTime(), info.ModTime()))
	again := &explain.Host{Path: dir}
	require.NoError(t, explain.HashHost(t.Context(), again, h))
	assert.NotEqual(t, h.Digest, again.Digest, "a file modified within the racy window is read again")
}

func TestStore(t *testing.T) {
	t.Parallel()
	s := explain.Store{Dir: filepath.Join(t.TempDir(), "records"), MaxBytes: 1}
	r, err := s.Load("p", "t")
	require.NoError(t, err)
	assert.Nil(t, r, "no record yet")
	require.NoError(t, s.Save(&explain.Record{Version: explain.Version, Program: "p", Target: "t"}))
	r, err = s.Load("p", "t")
	require.NoError(t, err)
	require.NotNil(t, r)
	assert.Equal(t, "p", r.Program)
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, s.Save(&explain.Record{Version: explain.Version, Program: "p", Target: "u"}))
	r, err = s.Load("p", "t")
	require.NoError(t, err)
	assert.Nil(t, r, "the oldest record goes when the store is over its cap")
	files, err := filepath.Glob(filepath.Join(s.Dir, "*"))
	require.NoError(t, err)
	assert.Len(t, files, 1, "no temporary file is left behind")
}

func TestStoreIgnoresBrokenRecords(t *testing.T) {
	t.Parallel()
	s := explain.Store{Dir: t.TempDir()}
	require.NoError(t, s.Save(&explain.Record{Version: explain.Version, Program: "p", Target: "t"}))
	files, err := filepath.Glob(filepath.Join(s.Dir, "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.NoError(t, os.WriteFile(files[0], []byte("{not json"), 0o600))
	r, err := s.Load("p", "t")
	require.Error(t, err)
	assert.Nil(t, r)
}

func TestFirstBuild(t *testing.T) {
	t.Parallel()
	cur := record(t, graph(pinned, "a", srcDir(t)), nil)
	c := explain.Compare(nil, cur)
	assert.Equal(t, explain.NoEarlier, c.Why(cur.Steps[len(cur.Steps)-1].ID, nil))
}

func TestFileListRoundTrip(t *testing.T) {
	t.Parallel()
	in := explain.FileList{
		{Path: "a b/c.go", Mode: 0o644, Size: 3, MTime: 1_700_000_000_123456789, CTime: 1_700_000_001_000000000, Ino: 42, UID: 1000, GID: 100, Hash: "00ff"},
		{Path: "dir", Mode: os.ModeDir | 0o755},
		{Path: "odd\nname", Mode: 0o600, Hash: "ab"},
		{Path: `"quoted"`, Mode: os.ModeSymlink | 0o777, Hash: "cd"},
	}
	dt, err := json.Marshal(in)
	require.NoError(t, err)
	var out explain.FileList
	require.NoError(t, json.Unmarshal(dt, &out))
	assert.Equal(t, in, out)
	require.Error(t, json.Unmarshal([]byte(`"x y\n"`), &out), "a short line is an error")
}

func TestGitMustNameACommit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref  string
		skip bool
	}{
		{"main", false},
		{"v1.2.3", false},
		{"0123456789abcdef0123456789abcdef01234567", true},
	} {
		v := sdk.Scratch().WithDirectory("/src", sdk.Git("https://example.com/repo.git", tc.ref))
		prev := record(t, v, nil)
		why, ok := explain.Unchanged(prev, record(t, v, prev))
		assert.Equal(t, tc.skip, ok, "%s: %s", tc.ref, why)
		if !tc.skip {
			assert.Contains(t, why, "is not pinned to a commit")
		}
	}
}

func TestNewStep(t *testing.T) {
	t.Parallel()
	before := sdk.From(pinned).WithExec([]string{"a"})
	after := sdk.From(pinned).WithExec([]string{"a"}).WithExec([]string{"b"})
	rs := explain.Reruns(record(t, before, nil), record(t, after, nil))
	require.Len(t, rs, 1)
	assert.Regexp(t, `^a new step: the last build had no exec step at this line \(explain/explain_test.go:\d+\)$`, rs[0].Why)
}

func TestMountedDirectoryReadsItsPath(t *testing.T) {
	t.Parallel()
	dir := srcDir(t)
	v := func() *sdk.Container {
		return sdk.From(pinned).WithMountedDirectory("/lib", sdk.Host(dir).Directory("lib")).WithExec([]string{"ls", "/lib"})
	}
	prev := record(t, v(), nil)
	write(t, filepath.Join(dir, "main.go"), "package main // outside lib\n")
	assert.Empty(t, explain.Reruns(prev, record(t, v(), prev)), "a change outside the mounted path re-runs nothing")
	write(t, filepath.Join(dir, "lib/lib.go"), "package lib // changed\n")
	rs := explain.Reruns(prev, record(t, v(), prev))
	require.Len(t, rs, 1)
	assert.Contains(t, rs[0].Why, "1 file of host "+dir+" changed: lib/lib.go")
}

func TestStoreIgnoresOtherVersions(t *testing.T) {
	t.Parallel()
	s := explain.Store{Dir: t.TempDir()}
	require.NoError(t, s.Save(&explain.Record{Version: explain.Version - 1, Program: "p", Target: "t"}))
	r, err := s.Load("p", "t")
	require.NoError(t, err, "a record of another version is no error, just none")
	assert.Nil(t, r)
}
