package reliability

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// symlinkTree makes a host directory "shared" whose symlinks point out of
// it — absolutely, relatively, at /etc/passwd, at a whole directory —
// next to a directory "outside" holding a file with a marker that must
// never reach the engine.
func symlinkTree(t *testing.T) (shared, outside, marker string, links map[string]string) {
	t.Helper()
	root := t.TempDir()
	shared = filepath.Join(root, "shared")
	outside = filepath.Join(root, "outside")
	marker = "rel-outside-" + token(t)
	require.NoError(t, os.MkdirAll(filepath.Join(shared, "sub"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "outside.txt"), []byte(marker+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(shared, "in.txt"), []byte("inside\n"), 0o644))
	links = map[string]string{
		"abs-link":    filepath.Join(outside, "outside.txt"),
		"rel-link":    "../outside/outside.txt",
		"passwd-link": "/etc/passwd",
		"dir-link":    outside,
		"sub/up-link": "../../outside/outside.txt",
	}
	for name, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(shared, name)))
	}
	return shared, outside, marker, links
}

// TestHostSymlinksStayInside sends a host directory whose symlinks point
// out of it to the engine in every way a program can use one — copied
// into a container, exported back, mounted, one file or subdirectory of
// it taken through a symlink, filtered with a pattern that names a path
// behind a symlink — and checks that each symlink arrives as a symlink
// (or not at all) and that the content it points at never does.
func TestHostSymlinksStayInside(t *testing.T) {
	e, _ := sharedEngine(t)
	shared, _, marker, links := symlinkTree(t)
	passwd, err := os.ReadFile("/etc/passwd")
	require.NoError(t, err)
	host := sdk.Host(shared)
	base := sdk.From("debian:bookworm")

	t.Run("exported back", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		require.NoError(t, e.Export(t.Context(), host, out))
		assertNoEscape(t, out, marker, string(passwd), links)
	})

	t.Run("copied into a container", func(t *testing.T) {
		c := base.WithDirectory("/ctx", host)
		out, err := e.Stdout(t.Context(), c.WithExec([]string{"sh", "-c",
			`cd /ctx && for f in abs-link rel-link passwd-link dir-link sub/up-link; do [ -L "$f" ] && echo "$f -> $(readlink "$f")"; done; ` +
				`cat /ctx/* /ctx/sub/* /ctx/dir-link/* 2>/dev/null | grep -c ` + marker + `; true`}))
		require.NoError(t, err)
		for name, target := range links {
			assert.Contains(t, out, name+" -> "+target+"\n", "a symlink, pointing where it did")
		}
		assert.True(t, strings.HasSuffix(out, "\n0\n"), "the marker is not readable in the container:\n%s", out)

		// Nor is it anywhere in an image written out (on scratch, so that
		// the tarball holds nothing but the shared directory).
		tarball := filepath.Join(t.TempDir(), "image.tar")
		_, err = e.Build(t.Context(), sdk.Scratch().WithDirectory("/ctx", host), engine.OCITarball(tarball))
		require.NoError(t, err)
		layers := ociBlobs(t, tarball)
		var sawLink bool
		for _, l := range layers {
			assert.NotContains(t, string(l), marker, "the outside file's content is not in the image")
			tr := tar.NewReader(bytes.NewReader(l))
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				if h.Name == "ctx/abs-link" {
					sawLink = true
					assert.Equal(t, byte(tar.TypeSymlink), h.Typeflag)
					assert.Equal(t, links["abs-link"], h.Linkname)
				}
			}
		}
		assert.True(t, sawLink, "control: the layer holds ctx/abs-link")
	})

	t.Run("mounted", func(t *testing.T) {
		out, err := e.Stdout(t.Context(), base.WithMountedDirectory("/m", host).WithExec([]string{"sh", "-c",
			`cat /m/abs-link /m/rel-link /m/sub/up-link /m/dir-link/outside.txt 2>&1; ls -l /m | grep -c -- '->'; true`}))
		require.NoError(t, err)
		assert.NotContains(t, out, marker)
		assert.True(t, strings.HasSuffix(out, "\n4\n"), "four symlinks at the top of the mount:\n%s", out)
	})

	t.Run("one file through a symlink", func(t *testing.T) {
		for _, name := range []string{"abs-link", "rel-link", "sub/up-link"} {
			out, err := e.Stdout(t.Context(), base.WithFile("/f", host.File(name)).
				WithExec([]string{"sh", "-c", "ls -l /f; cat /f; true"}))
			if err != nil {
				t.Logf("%s: refused: %v", name, firstLine(err))
				continue
			}
			t.Logf("%s: copied as %q", name, out)
			assert.NotContains(t, out, marker, name)
			assert.True(t, strings.HasPrefix(out, "l"), "%s arrives as the symlink itself: %s", name, out)
		}
	})

	t.Run("a subdirectory through a symlink", func(t *testing.T) {
		out, err := e.Stdout(t.Context(), base.WithDirectory("/d", host.Directory("dir-link")).
			WithExec([]string{"sh", "-c", "ls -la /d; cat /d/* 2>/dev/null; true"}))
		if err != nil {
			t.Logf("refused: %v", firstLine(err))
			return
		}
		t.Logf("copied as:\n%s", out)
		assert.NotContains(t, out, marker)
		assert.True(t, strings.HasPrefix(out, "l"), "dir-link arrives as the symlink itself: %s", out)
	})

	t.Run("a pattern behind a symlink", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		err := e.Export(t.Context(), sdk.Host(shared, sdk.Include("dir-link/outside.txt", "dir-link/**", "in.txt")), out)
		require.NoError(t, err)
		assertNoEscape(t, out, marker, string(passwd), links)
		assert.NoFileExists(t, filepath.Join(out, "dir-link", "outside.txt"))
	})

	t.Run("a pattern with ..", func(t *testing.T) {
		// Patterns are matched against paths inside the directory, so
		// ".." never matches: the pattern compiles, and selects nothing.
		out := filepath.Join(t.TempDir(), "out")
		err := e.Export(t.Context(), sdk.Host(shared, sdk.Include("../outside/outside.txt", "../outside/**")), out)
		require.NoError(t, err)
		assert.Empty(t, dirNames(t, out))
		c := base.WithDirectory("/ctx", host, sdk.Include("../outside/*", "../**"))
		got, err := e.Stdout(t.Context(), c.WithExec([]string{"sh", "-c", "find /ctx | sort; cat /ctx/* 2>/dev/null; true"}))
		require.NoError(t, err)
		assert.NotContains(t, got, marker)
		assert.Equal(t, "/ctx\n", got, "nothing matches")
	})
}

// assertNoEscape checks an exported copy of the shared directory: every
// symlink is still a symlink with its target, and no regular file holds
// the outside content or the host's /etc/passwd.
func assertNoEscape(t *testing.T, dir, marker, passwd string, links map[string]string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			require.NoError(t, err)
			assert.Equal(t, links[rel], target, "%s stays a symlink to where it pointed", rel)
			return nil
		}
		dt, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(dt), marker, "%s holds the outside file's content", rel)
		assert.NotEqual(t, passwd, string(dt), "%s holds /etc/passwd", rel)
		return nil
	}))
}

// ociBlobs returns every blob of an OCI layout tarball, uncompressed.
func ociBlobs(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var blobs [][]byte
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return blobs
		}
		require.NoError(t, err)
		if strings.HasPrefix(h.Name, "blobs/") {
			dt, err := io.ReadAll(tr)
			require.NoError(t, err)
			blobs = append(blobs, gunzip(t, dt))
		}
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// TestHostPathsWithDotDotRejected checks that a path with ".." that would
// reach out of a host directory (or out of a container path) is refused
// when the graph is compiled, with a ValidationError naming the call, not
// sent to the engine. A ".." in the host path given to sdk.Host itself is
// an ordinary host path, resolved against the working directory.
func TestHostPathsWithDotDotRejected(t *testing.T) {
	shared, _, _, _ := symlinkTree(t)
	host := sdk.Host(shared)
	base := sdk.From("debian:bookworm")
	for _, tc := range []struct {
		name string
		v    sdk.Value
		op   string
	}{
		{"subdirectory ../", host.Directory("../outside"), "Directory.Directory"},
		{"subdirectory a/../../", host.Directory("sub/../../outside"), "Directory.Directory"},
		{"file ../", host.File("../outside/outside.txt"), "Directory.File"},
		{"file deep ../", host.File("sub/../../outside/outside.txt"), "Directory.File"},
		{"new file ../ in a host directory", host.WithNewFile("../planted", "x"), "Directory.WithNewFile"},
		{"copy into a host directory at ../", host.WithFile("../planted", host.File("in.txt")), "Directory.WithFile"},
		{"container target ../", base.WithDirectory("/ctx/../../etc", host), "WithDirectory"},
		{"container file target ../", base.WithFile("/../etc/passwd", host.File("in.txt")), "WithFile"},
		{"mount target ../", base.WithMountedDirectory("/m/../..", host), "WithMountedDirectory"},
		{"container subdirectory ../", base.WithDirectory("/ctx", host).Directory("/ctx/../.."), "Directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := llb.CompileValue(t.Context(), tc.v, llb.Options{})
			var verr *sdk.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tc.op, verr.Op)
			assert.Contains(t, verr.Problem, "..")
			assert.Equal(t, "reliability/hostdir_test.go", verr.Location.File)
		})
	}

	// sdk.Host("<dir>/../shared") names the same host directory.
	p, err := llb.CompileValue(t.Context(), sdk.Host(filepath.Join(shared, "..", "shared")), llb.Options{})
	require.NoError(t, err)
	require.Len(t, p.Locals, 1)
	assert.Equal(t, shared, p.Locals[0].Path)
}
