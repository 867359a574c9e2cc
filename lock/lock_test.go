package lock

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	dA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	dB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func sample() *File {
	f := New()
	f.SetImage("docker.io/library/debian:bookworm", "linux/arm64", dB)
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", dA)
	f.SetGit("https://github.com/org/repo.git", "main", "0123456789abcdef0123456789abcdef01234567")
	f.SetHTTP("https://example.com/tool.tgz", dA)
	return f
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), DefaultPath)
	require.NoError(t, sample().Write(path))
	f, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, sample().Bytes(), f.Bytes())
	assert.Empty(t, Diff(sample(), f))
	d, ok := f.Image("docker.io/library/debian:bookworm", "linux/arm64")
	assert.True(t, ok)
	assert.Equal(t, dB, d)
	_, ok = f.Image("docker.io/library/debian:bookworm", "linux/s390x")
	assert.False(t, ok)
	assert.True(t, f.HasImage("docker.io/library/debian:bookworm"))
	c, ok := f.GitCommit("https://github.com/org/repo.git", "main")
	assert.True(t, ok)
	assert.Equal(t, "0123456789abcdef0123456789abcdef01234567", c)
	c, ok = f.Checksum("https://example.com/tool.tgz")
	assert.True(t, ok)
	assert.Equal(t, dA, c)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
}

// TestBytesAreSorted: the file is the same whatever order entries were
// recorded in, and sorted for review.
func TestBytesAreSorted(t *testing.T) {
	t.Parallel()
	f := New()
	f.SetHTTP("https://example.com/tool.tgz", dA)
	f.SetGit("https://github.com/org/repo.git", "main", "0123456789abcdef0123456789abcdef01234567")
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", dA)
	f.SetImage("docker.io/library/debian:bookworm", "linux/arm64", dB)
	assert.Equal(t, sample().Bytes(), f.Bytes())
	want := `{
  "version": 1,
  "images": [
    {
      "ref": "docker.io/library/debian:bookworm",
      "platform": "linux/amd64",
      "digest": "` + dA + `"
    },
    {
      "ref": "docker.io/library/debian:bookworm",
      "platform": "linux/arm64",
      "digest": "` + dB + `"
    }
  ],
  "git": [
    {
      "url": "https://github.com/org/repo.git",
      "ref": "main",
      "commit": "0123456789abcdef0123456789abcdef01234567"
    }
  ],
  "http": [
    {
      "url": "https://example.com/tool.tgz",
      "checksum": "` + dA + `"
    }
  ]
}
`
	assert.Equal(t, want, string(f.Bytes()))
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Read(filepath.Join(dir, "missing.lock"))
	require.ErrorIs(t, err, ErrNoLock)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "lading lock update")
	for _, tc := range []struct{ name, content, want string }{
		{"not json", "{", "bad lock file"},
		{"unknown field", `{"version":1,"extra":1}`, "unknown field"},
		{"old version", `{"version":0}`, "version 0"},
		{"no version", `{"images":[]}`, "no \"version\""},
		{"bad digest", `{"version":1,"images":[{"ref":"a","platform":"linux/amd64","digest":"sha256:zz"}]}`, "needs ref, platform and a digest"},
		{"short commit", `{"version":1,"git":[{"url":"u","ref":"main","commit":"abc123"}]}`, "a full commit id"},
		{"bad checksum", `{"version":1,"http":[{"url":"u","checksum":"md5:1"}]}`, "needs url and checksum"},
		{"image without digest", `{"version":1,"images":[{"ref":"a","platform":"linux/amd64"}]}`, "needs ref, platform and a digest"},
		{"git without commit", `{"version":1,"git":[{"url":"u","ref":"main"}]}`, "needs url and commit"},
		{"http without checksum", `{"version":1,"http":[{"url":"u"}]}`, "needs url and checksum"},
		{"duplicate image", `{"version":1,"images":[` + imageJSON(dA) + `,` + imageJSON(dB) + `]}`, "image docker.io/library/debian:bookworm (linux/amd64) is recorded twice"},
		{"duplicate git", `{"version":1,"git":[` + gitJSON + `,` + gitJSON + `]}`, "Git https://github.com/org/repo.git#main is recorded twice"},
		{"duplicate http", `{"version":1,"http":[` + httpJSON + `,` + httpJSON + `]}`, "download https://example.com/tool.tgz is recorded twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tc.name+".lock")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			_, err := Read(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
			require.ErrorIs(t, err, ErrBadLock, "lading lock update may rewrite it")
		})
	}
}

func imageJSON(d string) string {
	return `{"ref":"docker.io/library/debian:bookworm","platform":"linux/amd64","digest":"` + d + `"}`
}

const (
	gitJSON  = `{"url":"https://github.com/org/repo.git","ref":"main","commit":"0123456789abcdef0123456789abcdef01234567"}`
	httpJSON = `{"url":"https://example.com/tool.tgz","checksum":"` + dA + `"}`
)

// TestReadNewerVersion: a lock a newer lading wrote, with a section this
// one does not know, says to upgrade lading (not "unknown field"), and is
// not ErrBadLock, so that lock update does not overwrite it.
func TestReadNewerVersion(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"version":2,"oci":[{"path":"x"}]}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "written by a newer lading")
	assert.Contains(t, err.Error(), "upgrade lading")
	assert.NotContains(t, err.Error(), "unknown field")
	require.NotErrorIs(t, err, ErrBadLock)
}

func TestDiff(t *testing.T) {
	t.Parallel()
	old := sample()
	updated := sample().Merge(nil)
	updated.SetImage("docker.io/library/debian:bookworm", "linux/amd64", dB)
	updated.SetImage("docker.io/library/golang:1.26", "linux/amd64", dA)
	gone := New().Merge(updated)
	gone.http = map[string]string{}
	assert.Equal(t, []Change{
		{Kind: "image", Source: "docker.io/library/debian:bookworm (linux/amd64)", From: dA, To: dB},
		{Kind: "image", Source: "docker.io/library/golang:1.26 (linux/amd64)", To: dA},
		{Kind: "http", Source: "https://example.com/tool.tgz", From: dA},
	}, Diff(old, gone))
	assert.Equal(t, "image docker.io/library/golang:1.26 (linux/amd64): added "+dA, Diff(old, gone)[1].String())
	assert.Equal(t, "http https://example.com/tool.tgz: removed (was "+dA+")", Diff(old, gone)[2].String())
	assert.Contains(t, Diff(old, gone)[0].String(), "moved "+dA+" -> "+dB)
	assert.Len(t, Diff(nil, old), 4)
}

func TestParseMode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Mode{"": Live, "live": Live, "Pinned": Pinned, " frozen ": Frozen} {
		got, err := ParseMode(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		if in != "" {
			assert.Equal(t, want.String(), got.String())
		}
	}
	_, err := ParseMode("sometimes")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want live, pinned or frozen")
	assert.Equal(t, "lock.Mode(7)", Mode(7).String())
}

func TestImageRef(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"debian":                         "docker.io/library/debian:latest",
		"debian:bookworm":                "docker.io/library/debian:bookworm",
		"debian:bookworm@" + dA:          "docker.io/library/debian:bookworm",
		"127.0.0.1:5000/team/app:v1":     "127.0.0.1:5000/team/app:v1",
		"registry.example.com/app@" + dA: "registry.example.com/app:latest",
	} {
		got, err := ImageRef(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ImageRef("Not A Ref")
	require.Error(t, err)
}

func TestNotLockedError(t *testing.T) {
	t.Parallel()
	err := &NotLockedError{Kind: "image", Source: "docker.io/library/debian:bookworm", Platform: "linux/amd64", Location: "ci/main.go:12", Path: "lading.lock"}
	assert.Equal(t, "ci/main.go:12: image docker.io/library/debian:bookworm (linux/amd64) is not in the lock lading.lock, and the build is frozen: run `lading lock update` and commit the lock", err.Error())
}

// TestSourceURLMasksCredentials: a URL's user and password never reach
// the file, and the program's URL still finds its entry (the raw URL
// was written before).
func TestSourceURLMasksCredentials(t *testing.T) {
	t.Parallel()
	const (
		dl  = "https://ci:s3cr3t-sentinel@downloads.example.com/tool.tgz"
		git = "https://ci:s3cr3t-sentinel@git.example.com/org/repo.git"
	)
	f := New()
	f.SetHTTP(dl, dA)
	f.SetGit(git, "main", "0123456789abcdef0123456789abcdef01234567")
	assert.NotContains(t, string(f.Bytes()), "s3cr3t-sentinel")
	assert.NotContains(t, string(f.Bytes()), "ci:")
	got, ok := f.Checksum(dl)
	require.True(t, ok)
	assert.Equal(t, dA, got)
	_, ok = f.GitCommit(git, "main")
	assert.True(t, ok)
	assert.Equal(t, "https://xxxxx:xxxxx@downloads.example.com/tool.tgz", f.Downloads()[0].URL)

	// A lock written with the raw URL reads masked.
	old, err := Parse([]byte(`{"version":1,"http":[{"url":"` + dl + `","checksum":"` + dA + `"}]}`))
	require.NoError(t, err)
	assert.NotContains(t, string(old.Bytes()), "s3cr3t-sentinel")
	_, ok = old.Checksum(dl)
	assert.True(t, ok)
}
