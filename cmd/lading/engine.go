package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ladingbuild/lading/engine"
)

const engineUsage = `usage: lading engine <command> [flags]

commands:
  start    start the local engine (reuses a running one)
  stop     stop the local engine
  status   show the engine's address, pid, version and workers
  du       show the engine's cache volumes and build cache usage
  prune    remove unused build cache (cache volumes only when named or -all)
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
		disk     *string
		prune    pruneFlags
		verbose  *bool
	)
	switch cmd {
	case "start":
		fs.Var(&mirrors, "mirror", "registry mirror as registry=mirror-host (repeatable), e.g. docker.io=127.0.0.1:5000")
		fs.Var(&insecure, "insecure-registry", "registry host reached over plain HTTP (repeatable)")
		disk = fs.String("disk", "", "disk budget of the build cache, e.g. 10GB or 15% (default: LADING_ENGINE_DISK, else 10% of the disk, at most 10 GiB)")
	case "prune":
		prune.register(fs)
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
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, strayArgs(cmd, fs.Args()))
		return errUsage
	}
	if cmd == "prune" && prune.all && len(prune.volumes) > 0 {
		fmt.Fprintln(stderr, errAllAndVolume)
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
		if *disk != "" {
			opts = append(opts, engine.WithDiskBudget(*disk))
		}
		started := time.Now()
		le, err := engine.StartLocal(ctx, opts...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "engine ready at %s (pid %d, %s, %s)\n", le.Address, le.PID, localMode(le), time.Since(started).Round(time.Millisecond))
		if le.Source != nil {
			fmt.Fprintf(stdout, "binary: %s\n", le.Source)
		}
		if le.DiskBudget > 0 {
			fmt.Fprintf(stdout, "disk budget: %s\n", bytesString(le.DiskBudget))
		}
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
	if n := len(eng.Members()); n > 1 {
		// status, du and prune speak to one daemon: say which, and where the rest are.
		fmt.Fprintf(stdout, "fleet of %d engines (LADING_FLEET): this is the first that answered; `lading fleet` lists all, -addr picks one\n", n)
	}

	switch cmd {
	case "status":
		st, err := eng.Status(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "address:  %s (%s)\n", st.Address, st.Origin)
		if le, _ := engine.LocalStatus(ctx); le.Running && le.Address == st.Address {
			fmt.Fprintf(stdout, "pid:      %d\nmode:     %s\nroot:     %s\nlog:      %s\n", le.PID, localMode(le), le.Root, le.LogFile)
			if le.Source != nil {
				fmt.Fprintf(stdout, "binary:   %s\n", le.Source)
			}
			if le.DiskBudget > 0 {
				fmt.Fprintf(stdout, "budget:   %s of disk for the build cache\n", bytesString(le.DiskBudget))
			}
		}
		if st.Revision != "" {
			fmt.Fprintf(stdout, "version:  buildkit %s (%s)\n", st.Version, st.Revision)
		} else {
			fmt.Fprintf(stdout, "version:  buildkit %s\n", st.Version)
		}
		for _, w := range st.Workers {
			fmt.Fprintf(stdout, "worker:   %s %s executor=%s snapshotter=%s\n", w.ID, strings.Join(w.Platforms, ","),
				w.Labels["org.mobyproject.buildkit.worker.executor"], w.Labels["org.mobyproject.buildkit.worker.snapshotter"])
		}
	case "du":
		return diskUsage(ctx, eng, *verbose, stdout)
	case "prune":
		return prune.run(ctx, eng, stdout)
	}
	return nil
}
