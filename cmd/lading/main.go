package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one top-level subcommand of lading.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists lading's subcommands, one file each.
var commands = []command{
	{"engine", "start, stop, inspect and prune the build engine", runEngine},
	{"explain", "say which steps of a build run again and why, from two records", runExplain},
	{"lint", "lint a pipeline program's images (offline)", runLint},
	{"lock", "update or check a pipeline program's lading.lock", runLock},
	{"inspect", "show an image's config, provenance and SBOM (registry or OCI tarball)", runInspect},
	{"bundle", "offline bundles: several images in one OCI layout; ls, verify, push", runBundle},
	{"fleet", "check a fleet of engines and say where keys are routed", runFleet},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lading:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("invalid usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		for _, c := range commands {
			if c.name == args[0] {
				return c.run(ctx, args[1:], stdout, stderr)
			}
		}
	}
	fmt.Fprint(stderr, usage())
	return errUsage
}

// usage lists the subcommands.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: lading <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	return b.String()
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func bytesString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
