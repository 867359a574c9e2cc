package docs

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// block is one ```go block of a Markdown file.
type block struct {
	md   string // Markdown file name, e.g. "cookbook.md"
	n    int    // 1-based number among the file's Go blocks
	line int    // line of the block's first code line in md
	code string
	file string // from a <!-- file: dir/name.go --> comment, or ""
}

func (b block) String() string { return fmt.Sprintf("%s block %d (line %d)", b.md, b.n, b.line) }

var fileHint = regexp.MustCompile(`^<!--\s*file:\s*(\S+\.go)\s*-->$`)

// extract returns the ```go blocks of a Markdown file.
func extract(md, text string) ([]block, error) {
	var (
		blocks []block
		lines  = strings.Split(text, "\n")
		prev   string // last non-blank line outside a block
	)
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(trimmed, "```") {
			if trimmed != "" {
				prev = trimmed
			}
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		fence := trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		info := strings.TrimSpace(trimmed[len(fence):])
		start := i + 1
		var body []string
		for i++; i < len(lines); i++ {
			t := strings.TrimSpace(lines[i])
			if strings.HasPrefix(t, fence) && strings.Trim(t, "`") == "" {
				break
			}
			l := lines[i]
			for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
				l = l[1:]
			}
			body = append(body, l)
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: code block is not closed", md, start)
		}
		if lang, _, _ := strings.Cut(info, " "); lang == "go" {
			b := block{md: md, n: len(blocks) + 1, line: start + 1, code: strings.Join(body, "\n") + "\n"}
			if m := fileHint.FindStringSubmatch(prev); m != nil {
				b.file = m[1]
			}
			blocks = append(blocks, b)
		}
		prev = ""
	}
	return blocks, nil
}

// packageClause returns the package name if the block is a whole file:
// its first line that is neither blank nor a // comment is a package
// clause.
func packageClause(code string) (string, bool) {
	for _, l := range strings.Split(code, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		if name, ok := strings.CutPrefix(t, "package "); ok {
			return strings.TrimSpace(name), true
		}
		return "", false
	}
	return "", false
}

const fragmentHeader = `package fragments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

var (
	_ = context.Background
	_ = errors.New
	_ = fmt.Sprint
	_ = os.Getenv
	_ = time.Now
	_ testing.TB
	_ = engine.Connect
	_ = sdk.From
	_ = sdktest.PlanOf
)

`

// fragmentFile wraps a fragment as the body of a function with ctx and eng
// in scope, named after the block so that all fragments of a Markdown file
// share one package (one package to vet instead of dozens). A //line
// directive makes the compiler report positions in the Markdown file.
func fragmentFile(b block) string {
	var s strings.Builder
	s.WriteString(fragmentHeader)
	fmt.Fprintf(&s, "func fragment%d(ctx context.Context, eng *engine.Engine) error {\n", b.n)
	fmt.Fprintf(&s, "//line %s:%d\n", absMD(b.md), b.line)
	s.WriteString(b.code)
	if !endsWithReturn(b.code) {
		s.WriteString("\treturn nil\n")
	}
	s.WriteString("}\n")
	return s.String()
}

// absMD returns the Markdown file's absolute path, for //line directives:
// a relative one would be taken relative to the generated file.
func absMD(md string) string {
	if abs, err := filepath.Abs(md); err == nil {
		return abs
	}
	return md
}

// endsWithReturn reports whether the last code line is a return statement
// at the fragment's top level, after which another return would be
// unreachable.
func endsWithReturn(code string) bool {
	lines := strings.Split(strings.TrimRight(code, "\n "), "\n")
	last := lines[len(lines)-1]
	return strings.HasPrefix(last, "return ") || last == "return"
}

func TestGoBlocksCompile(t *testing.T) {
	mds, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(mds) == 0 {
		t.Fatal("no Markdown files in docs/")
	}
	// Inside the module, so that the blocks import lading's packages as
	// they are here, without a go.mod of their own.
	root, err := os.MkdirTemp(".", ".build-") //nolint:usetesting // t.TempDir is outside the module
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })

	legend := map[string][]block{} // package directory -> its blocks
	total := 0
	for _, md := range mds {
		text, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := extract(md, string(text))
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(md, ".md")
		for _, b := range blocks {
			total++
			var dir, name, src string
			if _, whole := packageClause(b.code); whole {
				switch {
				case b.file != "":
					dir = base + "__" + strings.ReplaceAll(filepath.Dir(b.file), "/", "_")
					name = filepath.Base(b.file)
				default:
					dir = fmt.Sprintf("%s_%d", base, b.n)
					name = "main.go"
					if pkg, _ := packageClause(b.code); strings.HasSuffix(pkg, "_test") {
						name = "block_test.go"
					}
				}
				if formatted, err := format.Source([]byte(b.code)); err == nil && !bytes.Equal(formatted, []byte(b.code)) {
					t.Errorf("%s is not gofmt-formatted; gofmt gives:\n%s", b, formatted)
				}
				src = fmt.Sprintf("//line %s:%d\n%s", absMD(b.md), b.line, b.code)
			} else {
				dir = base + "_fragments"
				name = fmt.Sprintf("fragment%d.go", b.n)
				src = fragmentFile(b)
			}
			path := filepath.Join(root, dir, name)
			if _, err := os.Stat(path); err == nil {
				t.Fatalf("%s: %s is already written by another block", b, filepath.Join(dir, name))
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			legend[dir] = append(legend[dir], b)
		}
	}
	if total == 0 {
		t.Fatal("no ```go blocks found")
	}

	dirs := make([]string, 0, len(legend))
	for d := range legend {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	args := []string{"vet"}
	for _, d := range dirs {
		args = append(args, "./"+filepath.ToSlash(filepath.Join(root, d)))
	}
	cmd := exec.Command("go", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var where strings.Builder
		for _, d := range dirs {
			if strings.Contains(string(out), d) {
				fmt.Fprintf(&where, "  %s: %v\n", filepath.Join(root, d), legend[d])
			}
		}
		t.Fatalf("go vet of the docs' Go blocks failed: %v\n%s\nblocks named in the output:\n%s", err, out, where.String())
	}
	t.Logf("compiled %d Go blocks from %d Markdown files as %d packages", total, len(mds), len(dirs))
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]*)\)`)
	heading = regexp.MustCompile(`^#{1,6}\s+(.*)$`)
)

// slug is GitHub's anchor for a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors returns the anchors of a Markdown file's headings, outside code
// blocks.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			continue
		}
		if m := heading.FindStringSubmatch(l); m != nil && !inCode {
			s := slug(m[1])
			for n := 1; out[s]; n++ {
				s = fmt.Sprintf("%s-%d", slug(m[1]), n)
			}
			out[s] = true
		}
	}
	return out
}

// TestLinks checks that relative links between the docs name files and
// headings that exist. performance.md and reliability.md belong to other
// authors and may not exist yet.
func TestLinks(t *testing.T) {
	mds, _ := filepath.Glob("*.md")
	texts := map[string]string{}
	for _, md := range mds {
		dt, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		texts[md] = string(dt)
	}
	for _, md := range mds {
		inCode := false
		for i, l := range strings.Split(texts[md], "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				inCode = !inCode
			}
			if inCode {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				file, anchor, _ := strings.Cut(target, "#")
				if file == "" {
					file = md
				}
				if !strings.HasSuffix(file, ".md") || strings.Contains(file, "/") {
					if _, err := os.Stat(file); err != nil {
						t.Errorf("%s:%d: link to %s: %v", md, i+1, target, err)
					}
					continue
				}
				text, ok := texts[file]
				if !ok {
					if file != "performance.md" && file != "reliability.md" {
						t.Errorf("%s:%d: link to missing file %s", md, i+1, file)
					}
					continue
				}
				if anchor != "" && !anchors(text)[anchor] {
					t.Errorf("%s:%d: link to %s: no heading with anchor #%s", md, i+1, target, anchor)
				}
			}
		}
	}
}
