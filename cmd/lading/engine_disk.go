package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/units"
)

// diskUsage prints the engine's cache volumes, then (with verbose) every
// cache record, then the totals.
func diskUsage(ctx context.Context, eng *engine.Engine, verbose bool, stdout io.Writer) error {
	du, err := eng.DiskUsage(ctx)
	if err != nil {
		return err
	}
	vols := du.Volumes()
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	var volBytes int64
	if len(vols) > 0 {
		fmt.Fprintln(tw, "VOLUME\tSIZE\tLAST USED\tMOUNTED AT")
		for _, v := range vols {
			last := ago(now, v.LastUsed)
			if v.InUse {
				last = "in use"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, bytesString(v.Size), last, strings.Join(v.Targets, ", "))
			volBytes += v.Size
		}
		fmt.Fprintln(tw)
	}
	if verbose {
		recs := slices.Clone(du.Records)
		slices.SortStableFunc(recs, func(a, b engine.CacheRecord) int { return cmp.Compare(b.Size, a.Size) })
		fmt.Fprintln(tw, "ID\tTYPE\tSIZE\tIN USE\tLAST USED\tDESCRIPTION")
		for _, r := range recs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\n", short(r.ID), r.Type, bytesString(r.Size), r.InUse, ago(now, r.LastUsed), r.Description)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "volumes:      %d, %s\nrecords:      %d\ntotal:        %s\nreclaimable:  %s\n",
		len(vols), bytesString(volBytes), len(du.Records), bytesString(du.Total), bytesString(du.Reclaimable))
	return nil
}

// ago writes how long before now t was, or "-" for the zero time.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return units.FormatDuration(now.Sub(t)) + " ago"
}

// pruneFlags are the flags of lading engine prune.
type pruneFlags struct {
	all      bool
	volumes  multiFlag
	keepDur  time.Duration
	keepSize int64
}

func (p *pruneFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&p.all, "all", false, "remove all unused cache, cache volumes and host directory copies included")
	fs.Var(&p.volumes, "volume", "remove this cache volume (repeatable); nothing else is removed")
	fs.Func("keep-duration", "keep cache used within this duration, e.g. 12h or 3d", func(s string) (err error) {
		p.keepDur, err = units.ParseDuration(s)
		return err
	})
	fs.Func("keep-storage", "keep this much of the most recently used cache, e.g. 10GB or 512MiB", func(s string) (err error) {
		if p.keepSize, err = units.ParseSize(s); err != nil {
			return err
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n > 0 && n < 1<<20 {
			// "-keep-storage 10" meant 10GB, not 10 bytes.
			return fmt.Errorf("size %q: a number without a unit is bytes, too few to keep; write a unit, e.g. %dGB", s, n)
		}
		return nil
	})
}

// errAllAndVolume is returned for -all with -volume.
var errAllAndVolume = errors.New("lading engine prune: -all removes every volume and -volume only the named ones: give one of them")

func (p *pruneFlags) run(ctx context.Context, eng *engine.Engine, stdout io.Writer) error {
	rep, err := eng.Prune(ctx, engine.PruneOptions{All: p.all, Volumes: p.volumes, KeepDuration: p.keepDur, KeepBytes: p.keepSize})
	if err != nil {
		return err
	}
	for _, n := range rep.NotFound {
		fmt.Fprintf(stdout, "no cache volume named %q (lading engine du lists them)\n", n)
	}
	fmt.Fprintf(stdout, "removed %d records, reclaimed %s\n", rep.Records, bytesString(rep.Reclaimed))
	return nil
}
