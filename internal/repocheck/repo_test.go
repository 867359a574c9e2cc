package repocheck

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepository is the rule itself: every file git tracks here is small
// and none is a compiled executable.
func TestRepository(t *testing.T) {
	requireGit(t)
	root, files, err := TrackedFiles(t.Context(), ".")
	require.NoError(t, err)
	require.NotEmpty(t, files, "git tracks no file in %s", root)
	problems, err := Check(root, files)
	require.NoError(t, err)
	for _, p := range problems {
		t.Error(p)
	}
}

// requireGit skips without git, except in CI (CI or LADING_REQUIRE_ENGINE
// set, as `make test` does), where the rule must be checked.
func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err == nil {
		return
	}
	if os.Getenv("CI") != "" || os.Getenv("LADING_REQUIRE_ENGINE") == "1" {
		t.Fatal("git is not on PATH: the repository rules cannot be checked")
	}
	t.Skip("git is not on PATH")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	self, err := os.Executable() // this test binary: ELF on Linux, Mach-O on macOS
	require.NoError(t, err)
	selfBytes, err := os.ReadFile(self)
	require.NoError(t, err)
	elf := header(0x7f454c46, 0x02010100) // "\x7fELF", 64-bit, little-endian, version 1

	machO := header(0xfeedfacf, 7)
	machOSwapped := header(0xcffaedfe, 7)
	fat := header(0xcafebabe, 2)
	javaClass := header(0xcafebabe, 52) // minor 0, major 52 (Java 8)
	pe := make([]byte, 0x100)
	copy(pe, "MZ")
	binary.LittleEndian.PutUint32(pe[0x3c:], 0x80)
	copy(pe[0x80:], "PE\x00\x00")
	mzText := []byte("MZ is how this text file starts, and nothing more follows here at all, really.")

	for _, tc := range []struct {
		name    string
		content []byte
		want    string // a substring of the problem, or "" for none
	}{
		{"small text", []byte("hello\n"), ""},
		{"empty", nil, ""},
		{"exactly the limit", make([]byte, MaxFileSize), ""},
		{"one byte over", make([]byte, MaxFileSize+1), "more than the 1048576"},
		{"ELF", elf, "ELF executable"},
		{"this test binary's start", selfBytes[:headSize], " executable"}, // whole, it is over the size limit too
		{"Mach-O 64", machO, "Mach-O executable"},
		{"Mach-O byte-swapped", machOSwapped, "Mach-O executable"},
		{"Mach-O universal", fat, "Mach-O executable"},
		{"Java class", javaClass, ""},
		{"PE", pe, "PE executable"},
		{"text starting with MZ", mzText, ""},
		{"shell script", []byte("#!/bin/sh\necho hi\n"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), tc.content, 0o644))
			problems, err := Check(dir, []string{"f"})
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, problems)
				return
			}
			require.Len(t, problems, 1)
			assert.Equal(t, "f", problems[0].Path)
			assert.Contains(t, problems[0].Problem, tc.want)
			assert.Contains(t, problems[0].String(), "f: ")
		})
	}
}

// header is an 8-byte file header: a big-endian magic and the next word.
func header(magic, next uint32) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b, magic)
	binary.BigEndian.PutUint32(b[4:], next)
	return b
}

func TestCheckSkipsWhatIsNotARegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644))
	require.NoError(t, os.Symlink(big, filepath.Join(dir, "link")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "submodule"), 0o755))
	problems, err := Check(dir, []string{"link", "submodule", "deleted-in-worktree"})
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// TestTrackedFiles: only what git tracks counts, from any directory of the
// repository, with paths relative to its root.
func TestTrackedFiles(t *testing.T) {
	requireGit(t)
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
	}
	run("init", "-q")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub", "dir"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "dir", "big.bin"), make([]byte, MaxFileSize+1), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "small.txt"), []byte("hi"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "untracked.bin"), make([]byte, MaxFileSize+1), 0o644))
	run("add", "sub/dir/big.bin", "small.txt")

	root, files, err := TrackedFiles(t.Context(), filepath.Join(dir, "sub"))
	require.NoError(t, err)
	wantRoot, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	assert.Equal(t, wantRoot, root)
	assert.ElementsMatch(t, []string{"sub/dir/big.bin", "small.txt"}, files)

	problems, err := Check(root, files)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Equal(t, "sub/dir/big.bin", problems[0].Path)
}

func TestTrackedFilesOutsideARepository(t *testing.T) {
	requireGit(t)
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	_, _, err := TrackedFiles(t.Context(), t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "git rev-parse --show-toplevel")
}
