package repocheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MaxFileSize is the largest a tracked file may be: 1 MiB.
const MaxFileSize = 1 << 20

// Problem is a tracked file that breaks a rule.
type Problem struct {
	// Path is the file's path relative to the repository root.
	Path string
	// Problem says which rule it breaks and how to fix it.
	Problem string
}

// String formats the problem as "path: problem".
func (p Problem) String() string { return p.Path + ": " + p.Problem }

// TrackedFiles lists the files git tracks in the repository that contains
// dir, relative to that repository's root, and returns the root.
func TrackedFiles(ctx context.Context, dir string) (root string, files []string, err error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", nil, err
	}
	root = strings.TrimSpace(string(out))
	out, err = git(ctx, root, "ls-files", "-z", "--cached")
	if err != nil {
		return "", nil, err
	}
	for _, f := range bytes.Split(out, []byte{0}) {
		if len(f) > 0 {
			files = append(files, string(f))
		}
	}
	return root, files, nil
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s in %s: %w: %s", strings.Join(args, " "), dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// Check applies the rules to files (paths relative to root) and returns
// the problems found, in the order of files. Files missing from the working
// tree, symlinks and submodules are skipped.
func Check(root string, files []string) ([]Problem, error) {
	var problems []Problem
	for _, name := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		st, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if st.Size() > MaxFileSize {
			problems = append(problems, Problem{name, fmt.Sprintf(
				"%d bytes, more than the %d a tracked file may have: keep generated or large data out of git (git rm --cached, and .gitignore it)",
				st.Size(), MaxFileSize)})
		}
		format, err := executableFormatOf(p)
		if err != nil {
			return nil, err
		}
		if format != "" {
			problems = append(problems, Problem{name, format +
				" executable: build outputs do not belong in git (git rm --cached, and add it to .gitignore)"})
		}
	}
	return problems, nil
}

// headSize is how much of a file executableFormat looks at.
const headSize = 4096

func executableFormatOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return executableFormat(head[:n]), nil
}

// executableFormat names the executable format whose header head (a
// file's first bytes) starts with: "ELF", "Mach-O", "PE", or "" for none.
func executableFormat(head []byte) string {
	if len(head) < 8 {
		return ""
	}
	switch be := binary.BigEndian.Uint32(head); be {
	case 0x7f454c46: // "\x7fELF"
		return "ELF"
	case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe: // 32/64-bit, either byte order
		return "Mach-O"
	case 0xcafebabe:
		// A universal (fat) Mach-O binary, or a Java class file with the same
		// magic: the former counts its architectures next (a few), the latter
		// has its class-file version there (major version 45 or more).
		if n := binary.BigEndian.Uint32(head[4:]); n > 0 && n < 45 {
			return "Mach-O"
		}
	}
	// PE: the DOS stub "MZ" points at the "PE\0\0" signature.
	if len(head) >= 0x40 && head[0] == 'M' && head[1] == 'Z' {
		off := int(binary.LittleEndian.Uint32(head[0x3c:]))
		if off >= 0x40 && off+4 <= len(head) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00")) {
			return "PE"
		}
	}
	return ""
}
