package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/pipeline"
)

const lockUsage = `usage: lading lock update|check [-lock FILE] [DIR [PROGRAM ARGS...]]

Resolves the base images, Git refs and downloads without a checksum of the
pipeline program in DIR (default "."; it
runs ` + "`go run DIR`" + ` with the pipeline's engine options) live through the
engine, and compares them with the lock (default DIR/lading.lock):

  update   write the lock, listing what moved
  check    fail (exit 1) when the lock is stale, listing what moved
`

// errLockStale is lock check's error when the lock differs from the
// sources resolved now.
var errLockStale = errors.New("the lock is stale")

func runLock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || (args[0] != "update" && args[0] != "check") {
		fmt.Fprint(stderr, lockUsage)
		return errUsage
	}
	cmd := args[0]
	fs := flag.NewFlagSet("lading lock "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lockUsage); fs.PrintDefaults() }
	prog := programFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	p, err := prog()
	if err != nil {
		return err
	}
	old, err := lock.Read(p.lock)
	switch {
	case errors.Is(err, lock.ErrNoLock):
		old, err = lock.New(), nil
	case errors.Is(err, lock.ErrBadLock) && cmd == "update":
		// The errors say to run lock update: it writes the lock anew.
		fmt.Fprintf(stderr, "lading lock update: %v: writing it anew\n", err)
		old, err = lock.New(), nil
	}
	if err != nil {
		return err
	}
	ans, err := p.ask(ctx, pipeline.GraphLock, stderr)
	if err != nil {
		return err
	}
	now, err := lock.Parse(ans.Lock)
	if err != nil {
		return fmt.Errorf("the pipeline's lock: %w", err)
	}
	changes := lock.Diff(old, now)
	for _, c := range changes {
		fmt.Fprintln(stdout, c)
	}
	if cmd == "check" {
		if len(changes) > 0 {
			return fmt.Errorf("%w: %s differs in %d entr(ies) from what the sources resolve to now: run `lading lock update %s` and commit it", errLockStale, p.lock, len(changes), p.dir)
		}
		fmt.Fprintf(stdout, "%s is current\n", p.lock)
		return nil
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "%s is current\n", p.lock)
		return nil
	}
	if err := now.Write(p.lock); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d change(s))\n", p.lock, len(changes))
	return nil
}
