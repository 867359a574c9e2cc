package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/ladingbuild/lading/engine"
)

const fleetUsage = `usage: lading fleet [-engines ADDR,ADDR,...] [KEY ...]

Checks each engine of a fleet (the -engines list, else LADING_FLEET) and
says, for each KEY, which engine its builds go to. A pipeline target's key
is PIPELINE/TARGET ("ci/build"). kube:// addresses need a program that
imports engine/kubefleet; list the pods' addresses here instead.
See docs/fleet.md.
`

func runFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lading fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fleetUsage) }
	list := fs.String("engines", "", "the fleet's engine addresses, comma-separated (default: $LADING_FLEET)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	for _, key := range fs.Args() {
		if strings.HasPrefix(key, "-") {
			return fmt.Errorf("%w: %q after the keys: flags go first (lading fleet -engines ADDR,ADDR KEY...)", errUsage, key)
		}
	}
	opts := []engine.Option{engine.Silent()}
	from, addrs := "-engines", fleetList(*list)
	switch {
	case *list != "" && len(addrs) == 0:
		return fmt.Errorf("%w: -engines %q holds no address: pass the engines' addresses, comma-separated", errUsage, *list)
	case *list != "":
		opts = append(opts, engine.WithFleet(addrs...))
	case os.Getenv("LADING_FLEET") == "":
		fmt.Fprint(stderr, fleetUsage)
		return fmt.Errorf("%w: no fleet: set LADING_FLEET or pass -engines", errUsage)
	default:
		from, addrs = "LADING_FLEET", fleetList(os.Getenv("LADING_FLEET"))
	}
	for _, a := range addrs {
		if strings.HasPrefix(a, "kube://") {
			return fmt.Errorf("%w: %s holds %q: the lading command does not link the Kubernetes discovery; "+
				"list the pods' addresses instead (tcp://buildkitd-0.buildkitd.NAMESPACE.svc:1234,…)", errUsage, from, a)
		}
	}
	eng, err := engine.Connect(ctx, opts...)
	if err != nil {
		return err
	}
	defer eng.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENGINE\tSTATE\tVERSION")
	for _, m := range eng.Members() {
		st, err := m.Status(ctx)
		switch {
		case err != nil && errors.Is(err, engine.ErrNoEngine):
			fmt.Fprintf(tw, "%s\tdown\t%s\n", m.Address(), downReason(err))
		case err != nil:
			fmt.Fprintf(tw, "%s\terror\t%s\n", m.Address(), firstLine(err))
		default:
			fmt.Fprintf(tw, "%s\tup\t%s\n", m.Address(), st.Version)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, key := range fs.Args() {
		to := eng.RouteFor(key)
		if to == "" {
			to = "(no engine answers)"
		}
		fmt.Fprintf(stdout, "%s -> %s\n", key, to)
	}
	return nil
}

// fleetList splits a comma-separated list of addresses as LADING_FLEET
// is read: spaces around an address and empty entries are dropped.
func fleetList(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// downReason is the cause at the end of a down engine's error: gRPC's
// description of the failed dial, else the error's first line.
func downReason(err error) string {
	msg := firstLine(err)
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = strings.Trim(msg[i+len("desc = "):], `"`)
		msg = strings.TrimPrefix(msg, "transport: Error while dialing: ")
	}
	return msg
}

// firstLine is the first line of an error's message.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
