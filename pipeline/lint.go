package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
)

// Lint configures the lint target LintTarget adds.
type Lint struct {
	// Images are the images to lint; empty means every image given to
	// ImageTargets (before or after LintTarget). The target lints what
	// each Image.Build returns (not Smoke, a test container).
	Images []Image
	// Options tune the rules: lint.Pinned, lint.FailOn, lint.LargeFileLimit…
	Options []lint.Option
	// Output is where the findings go; nil means the pipeline's Output,
	// else os.Stdout.
	Output io.Writer
}

// LintTarget adds a "lint" target that lints every image of l offline and
// fails (exit status 1 from Main) when a finding that is not silenced is
// at or above the FailOn severity (Error by default). What the lock file
// builds read records (LADING_LOCK_FILE, else lading.lock in the working
// directory) counts as pinned, as for `lading lint`. It prints the
// findings for people, or as JSON with the -json flag, which it also
// adds. Run with only the lint target, the pipeline does not connect to an
// engine:
//
//	p.ImageTargets(img)
//	p.LintTarget(pipeline.Lint{}) // every image given to ImageTargets
//	// go run ./ci lint; go run ./ci -json lint > lint.json
func (p *Pipeline) LintTarget(l Lint) {
	p.lintOpts = l.Options
	jsonFlag := p.flags.Lookup("json")
	if jsonFlag == nil {
		p.flags.Bool("json", false, "print the lint target's findings as JSON")
		jsonFlag = p.flags.Lookup("json")
	}
	p.Target("lint", "lint the images' build graphs (offline; -json for JSON)", func(context.Context, *engine.Engine) error {
		out := l.Output
		if out == nil {
			out = p.out
		}
		if out == nil {
			out = os.Stdout
		}
		if len(l.Images) == 0 {
			l.Images = p.images
		}
		var err error
		if l.Options, err = withLock(l.Options, buildsLock()); err != nil {
			return err
		}
		return lintImages(out, l, jsonFlag.Value.String() == "true")
	})
	connect := p.connect
	p.connect = func(ctx context.Context, opts ...engine.Option) (*engine.Engine, error) {
		if p.onlyLint() {
			return nil, nil
		}
		return connect(ctx, opts...)
	}
}

// buildsLock is the lock file the pipeline's builds read:
// LADING_LOCK_FILE, else lading.lock in the working directory.
func buildsLock() string {
	if p := os.Getenv("LADING_LOCK_FILE"); p != "" {
		return p
	}
	return lock.DefaultPath
}

// onlyLint reports whether the targets to run are the lint target alone:
// it needs no engine.
func (p *Pipeline) onlyLint() bool {
	names := p.flags.Args()
	if len(names) == 0 {
		switch {
		case p.fallback != "":
			names = []string{p.fallback}
		case len(p.order) > 0:
			names = p.order[:1]
		}
	}
	plan, err := p.plan(names)
	if err != nil || len(plan) == 0 {
		return false
	}
	for _, n := range plan {
		if n != "lint" {
			return false
		}
	}
	return true
}

// imageReport is one image's findings in the lint target's JSON.
type imageReport struct {
	Name   string       `json:"name"`
	Report *lint.Report `json:"report"`
}

// errLintFailed is the lint target's error when a finding fails.
var errLintFailed = errors.New("lint found problems")

// lintImages lints each image and writes the findings, text or JSON.
func lintImages(out io.Writer, l Lint, asJSON bool) error {
	var reports []imageReport
	failing := 0
	for _, img := range l.Images {
		if img.Build == nil {
			return fmt.Errorf("image %q has no Build function", img.Name)
		}
		r, err := lint.Run(img.Build(), l.Options...)
		if err != nil {
			return fmt.Errorf("linting image %s: %w", img.Name, err)
		}
		failing += len(r.Failing())
		reports = append(reports, imageReport{Name: img.Name, Report: r})
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"images": reports, "failing": failing}); err != nil {
			return err
		}
	} else {
		for _, ir := range reports {
			if _, err := fmt.Fprintf(out, "%s:\n", ir.Name); err != nil {
				return err
			}
			if err := ir.Report.WriteText(out); err != nil {
				return err
			}
		}
	}
	if failing > 0 {
		return fmt.Errorf("%w: %d finding(s) fail the check", errLintFailed, failing)
	}
	return nil
}
