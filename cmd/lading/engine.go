package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ladingbuild/lading/engine"
)

const engineUsage = `usage: lading engine <command> [flags]

commands:
  start    start the local engine (reuses a running one)
  stop     stop the local engine
  status   show the engine's address, pid, version and workers
  du       show the engine's build cache usage
  prune    remove unused build cache
`

func runEngine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		fmt.Fprint(stderr, engineUsage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	fs := flag.NewFlagSet("lading engine "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "engine address (default: BUILDKIT_HOST, else the local engine)")
	var (
		mirrors  multiFlag
		insecure multiFlag
		all      *bool
		keepDur  *time.Duration
		keepSize *int64
		verbose  *bool
	)
	switch cmd {
	case "start":
		fs.Var(&mirrors, "mirror", "registry mirror as registry=mirror-host (repeatable), e.g. docker.io=127.0.0.1:5000")
		fs.Var(&insecure, "insecure-registry", "registry host reached over plain HTTP (repeatable)")
	case "prune":
		all = fs.Bool("all", false, "remove all unused cache, including cache mounts and sources")
		keepDur = fs.Duration("keep-duration", 0, "keep cache used within this duration")
		keepSize = fs.Int64("keep-storage", 0, "keep this many bytes of the most recently used cache")
	case "du":
		verbose = fs.Bool("v", false, "list every cache record")
	case "stop", "status":
	default:
		fmt.Fprint(stderr, engineUsage)
		return errUsage
	}
	if err := fs.Parse(rest); err != nil {
		return errUsage
	}

	switch cmd {
	case "start":
		var opts []engine.Option
		for _, m := range mirrors {
			reg, mirror, ok := strings.Cut(m, "=")
			if !ok {
				return fmt.Errorf("--mirror %q: want registry=mirror-host", m)
			}
			opts = append(opts, engine.WithRegistryMirror(reg, mirror))
		}
		if len(insecure) > 0 {
			opts = append(opts, engine.WithInsecureRegistry(insecure...))
		}
		started := time.Now()
		le, err := engine.StartLocal(ctx, opts...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "engine ready at %s (pid %d, %s)\n", le.Address, le.PID, time.Since(started).Round(time.Millisecond))
		return nil
	case "stop":
		le, _ := engine.LocalStatus(ctx)
		if !le.Running {
			fmt.Fprintln(stdout, "the local engine is not running")
			return nil
		}
		if err := engine.StopLocal(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "stopped the local engine (pid %d)\n", le.PID)
		return nil
	}

	opts := []engine.Option{engine.WithoutAutoStart(), engine.Silent()}
	if *addr != "" {
		opts = append(opts, engine.WithAddress(*addr))
	}
	eng, err := engine.Connect(ctx, opts...)
	if err != nil {
		return err
	}
	defer eng.Close()

	switch cmd {
	case "status":
		st, err := eng.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "address:  %s (%s)\n", st.Address, st.Origin)
		if le, _ := engine.LocalStatus(ctx); le.Running && le.Address == st.Address {
			fmt.Fprintf(stdout, "pid:      %d\nroot:     %s\nlog:      %s\n", le.PID, le.Root, le.LogFile)
		}
		fmt.Fprintf(stdout, "version:  buildkit %s (%s)\n", st.Version, st.Revision)
		for _, w := range st.Workers {
			fmt.Fprintf(stdout, "worker:   %s %s executor=%s snapshotter=%s\n", w.ID, strings.Join(w.Platforms, ","),
				w.Labels["org.mobyproject.buildkit.worker.executor"], w.Labels["org.mobyproject.buildkit.worker.snapshotter"])
		}
	case "du":
		du, err := eng.DiskUsage(ctx)
		if err != nil {
			return err
		}
		if *verbose {
			sort.Slice(du.Records, func(i, j int) bool { return du.Records[i].Size > du.Records[j].Size })
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tSIZE\tIN USE\tLAST USED\tDESCRIPTION")
			for _, r := range du.Records {
				last := "-"
				if !r.LastUsed.IsZero() {
					last = time.Since(r.LastUsed).Round(time.Second).String() + " ago"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", short(r.ID), r.Type, bytesString(r.Size), r.InUse, last, r.Description)
			}
			tw.Flush()
		}
		fmt.Fprintf(stdout, "records:      %d\ntotal:        %s\nreclaimable:  %s\n", len(du.Records), bytesString(du.Total), bytesString(du.Reclaimable))
	case "prune":
		rep, err := eng.Prune(ctx, engine.PruneOptions{All: *all, KeepDuration: *keepDur, KeepBytes: *keepSize})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %d records, reclaimed %s\n", rep.Records, bytesString(rep.Reclaimed))
	}
	return nil
}
