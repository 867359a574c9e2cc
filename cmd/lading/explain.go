package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ladingbuild/lading/internal/explain"
)

const explainUsage = `usage: lading explain OLD NEW
       lading explain -list [-dir DIR]

Compares two build records (JSON: written by the engine after every build,
or by sdktest.WriteRecord) and says which steps of NEW run again and why,
with the Go file:line of each. -list shows the records the engine keeps.
`

func runExplain(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lading explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, explainUsage) }
	list := fs.Bool("list", false, "list the engine's build records")
	dir := fs.String("dir", "", "the records' directory (default: $LADING_RECORDS, else lading/records in the user cache directory)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *list {
		return listRecords(*dir, stdout)
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, explainUsage)
		return errUsage
	}
	old, err := readRecord(fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := readRecord(fs.Arg(1))
	if err != nil {
		return err
	}
	if old.Program != cur.Program || old.Target != cur.Target {
		fmt.Fprintf(stdout, "note: the records are of different programs or targets (%s; %s)\n", describe(old), describe(cur))
	}
	fmt.Fprint(stdout, explain.Format(explain.Reruns(old, cur), len(cur.Steps)))
	return nil
}

// readRecord reads a record file.
func readRecord(path string) (*explain.Record, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading build record: %w (lading explain -list shows the records the engine keeps; sdktest.WriteRecord writes one)", err)
	}
	r, err := explain.Decode(dt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

func describe(r *explain.Record) string {
	s := strings.TrimSpace(r.Program + " " + r.Target)
	if s == "" {
		return "unnamed"
	}
	return s
}

// listRecords prints the records of a store, newest first.
func listRecords(dir string, stdout io.Writer) error {
	if dir == "" {
		var err error
		if dir, err = explain.DefaultDir(); err != nil {
			return err
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	type row struct {
		path string
		r    *explain.Record
	}
	var rows []row
	var broken []string
	for _, p := range paths {
		r, err := readRecord(p)
		if err != nil {
			broken = append(broken, err.Error())
			continue
		}
		rows = append(rows, row{p, r})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].r.Time.After(rows[j].r.Time) })
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTEPS\tPROGRAM\tTARGET\tFILE")
	for _, x := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", x.r.Time.Local().Format(time.DateTime), len(x.r.Steps), x.r.Program, x.r.Target, x.path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range broken {
		fmt.Fprintf(stdout, "not listed: %s\n", b)
	}
	return nil
}
