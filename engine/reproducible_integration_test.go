package engine

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// exampleCopy copies examples/multistage into a module of its own under a
// temporary directory, with shift blank lines added at the top of every Go
// file (so that every call site moves), and returns the directory.
func exampleCopy(t *testing.T, shift int) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	src := filepath.Join(repo, "examples", "multistage")
	dst := filepath.Join(t.TempDir(), "multistage")
	const self = "github.com/ladingbuild/lading/examples/multistage"
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return os.MkdirAll(out, 0o755)
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dt, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// The service under app/ is the build's input: it stays as it is.
		if strings.HasSuffix(path, ".go") && !strings.HasPrefix(rel, "app"+string(filepath.Separator)) {
			text := strings.ReplaceAll(string(dt), self, "reprocheck")
			text = strings.Replace(text, "\npackage ", strings.Repeat("\n", shift)+"\npackage ", 1)
			if !strings.Contains(text, strings.Repeat("\n", shift)+"\npackage ") {
				text = strings.Repeat("\n", shift) + text
			}
			dt = []byte(text)
		}
		return os.WriteFile(out, dt, 0o644)
	})
	require.NoError(t, err)
	mod := "module reprocheck\n\ngo 1.26.8\n\nrequire github.com/ladingbuild/lading v0.0.0\n\nreplace github.com/ladingbuild/lading => " + repo + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dst, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dst, "go.sum"), sum, 0o644))
	return dst
}

// exportExample runs the example program in dir as a whole process
// against the engine at addr and returns the exported OCI tarball's bytes
// and its manifest digest.
func exportExample(t *testing.T, dir, addr, epoch string) ([]byte, string) {
	t.Helper()
	tar := filepath.Join(t.TempDir(), "hello.tar")
	cmd := exec.CommandContext(t.Context(), "go", "run", ".", "-src", filepath.Join(dir, "app"), "-oci", tar, "export")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+addr, "SOURCE_DATE_EPOCH="+epoch, "GOFLAGS=-mod=mod", "LADING_PROGRESS=quiet",
		// Byte-identical archives: without attestations, whose provenance
		// is dated by the build (attest_integration_test.go covers them).
		"LADING_PROVENANCE=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s: %s", filepath.Base(filepath.Dir(dir)), lastLines(string(out), 4))
	dt, err := os.ReadFile(tar)
	require.NoError(t, err)
	return dt, ociManifestDigest(t, tar)
}

// ociManifestDigest reads index.json out of an OCI tarball.
func ociManifestDigest(t *testing.T, tar string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "tar", "-xOf", tar, "index.json").Output()
	require.NoError(t, err)
	var idx struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	require.NoError(t, json.Unmarshal(out, &idx))
	require.Len(t, idx.Manifests, 1)
	return idx.Manifests[0].Digest
}

// The multistage example, run as a program with a fixed epoch, exports the
// same image on two fresh engines, one of which built other images (and
// the same steps from other Go lines) first; moving every Go line of the
// program changes nothing.
func TestExampleDigestIsReproducible(t *testing.T) {
	_, env := testEngine(t)
	const epoch = "1704164645"
	here := exampleCopy(t, 0)
	moved := exampleCopy(t, 3)

	first := secondEngine(t, env.Registry)
	// Other images first: golang pulled and built on, and the example's
	// own steps from other Go lines, cached with those lines' names.
	_, err := first.Build(t.Context(), ltContainer(t).WithExec([]string{"/bin/lt", "echo", uniqueTag(t)}))
	require.NoError(t, err)
	exportExample(t, moved, first.Address(), "1600000000")
	a, da := exportExample(t, here, first.Address(), epoch)

	second := secondEngine(t, env.Registry)
	b, db := exportExample(t, moved, second.Address(), epoch)

	assert.Equal(t, da, db, "same program, inputs and epoch: same digest on two engines, call sites moved")
	assert.Equal(t, a, b, "byte-identical archives")
	again, dagain := exportExample(t, moved, first.Address(), epoch)
	assert.Equal(t, da, dagain, "the same engine, fully cached, with the call sites moved")
	assert.Equal(t, a, again)

	// Another BuildKit version (the oldest supported, which has built
	// everything the suite built on it): the same digest.
	oldest := os.Getenv("LADING_TEST_BUILDKIT_HOST_OLDEST")
	if oldest == "" && testenv.Required() {
		t.Fatal("LADING_TEST_BUILDKIT_HOST_OLDEST is not set: eval \"$(hack/testenv.sh env)\"")
	}
	if oldest != "" && oldest != env.BuildkitHost {
		other, dother := exportExample(t, moved, oldest, epoch)
		assert.Equal(t, da, dother, "the same digest on BuildKit %s", os.Getenv("LADING_TEST_BUILDKIT_VERSION_OLDEST"))
		assert.Equal(t, a, other)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
