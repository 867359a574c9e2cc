package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ladingbuild/lading/pipeline"
)

const lintUsage = `usage: lading lint [-json] [-lock FILE] [DIR [PROGRAM ARGS...]]

Lints the images of the pipeline program in DIR (default "."; it runs
` + "`go run DIR`" + `, which describes its images instead of building them),
offline. Tags and Git refs the lock records are pinned. Exits 1 when a
finding that is not silenced is at the failing severity (error).
`

// errLintFindings is lint's error when findings fail the check.
var errLintFindings = errors.New("lint found problems")

func runLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lading lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lintUsage); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	prog := programFlags(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	p, err := prog()
	if err != nil {
		return err
	}
	ans, err := p.ask(ctx, pipeline.GraphLint, stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		fmt.Fprintf(stdout, "%s\n", ans.Lint)
	} else {
		fmt.Fprint(stdout, ans.Text)
	}
	if ans.Failing > 0 {
		return fmt.Errorf("%w: %d finding(s) fail the check", errLintFindings, ans.Failing)
	}
	return nil
}
