package engine

import (
	"context"
	"slices"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
)

// Status describes a running engine.
type Status struct {
	// Address and Origin are as for [Engine.Address] and [Engine.Origin].
	Address string
	Origin  Origin
	// Version and Revision are the daemon's BuildKit version.
	Version, Revision string
	// Workers lists the daemon's workers.
	Workers []Worker
}

// Worker is one of the daemon's workers.
type Worker struct {
	// ID is the worker's id.
	ID string
	// Platforms lists the platforms it builds for ("linux/amd64").
	Platforms []string
	// Labels are the worker's labels (executor, snapshotter, hostname…).
	Labels map[string]string
}

// Status asks the daemon for its version and workers.
func (e *Engine) Status(ctx context.Context) (*Status, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	info, err := e.c.Info(ctx)
	if err != nil {
		return nil, e.rpcError(ctx, "engine info", err)
	}
	ws, err := e.c.ListWorkers(ctx)
	if err != nil {
		return nil, e.rpcError(ctx, "listing workers", err)
	}
	st := &Status{Address: e.addr, Origin: e.origin, Version: info.BuildkitVersion.Version, Revision: info.BuildkitVersion.Revision}
	for _, w := range ws {
		wk := Worker{ID: w.ID, Labels: w.Labels}
		for _, p := range w.Platforms {
			wk.Platforms = append(wk.Platforms, platforms.Format(p))
		}
		st.Workers = append(st.Workers, wk)
	}
	return st, nil
}

// CacheRecord is one entry of the engine's build cache.
type CacheRecord struct {
	// ID identifies the record.
	ID string
	// Type is the record's kind ("regular", "source.local", "exec.cachemount"…).
	Type string
	// Description says what produced it.
	Description string
	// Size is its size in bytes.
	Size int64
	// InUse and Shared report whether a build uses it now and whether
	// other records share its data.
	InUse, Shared bool
	// LastUsed is when a build last used it (zero if never).
	LastUsed time.Time
}

// DiskUsage reports the engine's build cache.
type DiskUsage struct {
	// Records lists the cache records.
	Records []CacheRecord
	// Total is the size of all records; Reclaimable the part prune can free.
	Total, Reclaimable int64
}

// DiskUsage lists the engine's build cache and its size.
func (e *Engine) DiskUsage(ctx context.Context) (*DiskUsage, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	recs, err := e.c.DiskUsage(ctx)
	if err != nil {
		return nil, e.rpcError(ctx, "disk usage", err)
	}
	du := &DiskUsage{}
	for _, r := range recs {
		cr := CacheRecord{ID: r.ID, Type: string(r.RecordType), Description: r.Description, Size: r.Size, InUse: r.InUse, Shared: r.Shared}
		if r.LastUsedAt != nil {
			cr.LastUsed = *r.LastUsedAt
		}
		du.Records = append(du.Records, cr)
		if !r.Shared {
			du.Total += r.Size
		}
		if !r.InUse && !r.Shared {
			du.Reclaimable += r.Size
		}
	}
	return du, nil
}

// PruneOptions select what [Engine.Prune] removes. The zero value removes
// every unused step result and keeps cache volumes ([sdk.CacheVolume]) and
// the copies of host directories kept for quicker transfers; All or
// Volumes remove those too. KeepDuration and KeepBytes narrow any of these.
type PruneOptions struct {
	// All removes every unused record, cache volumes and host directory
	// copies included.
	All bool
	// Volumes, when set, removes these cache volumes (by name) and
	// nothing else. Names the engine does not have are listed in
	// [PruneReport.NotFound].
	Volumes []string
	// KeepDuration keeps records used within this duration.
	KeepDuration time.Duration
	// KeepBytes keeps up to this much of the most recently used cache:
	// records are removed, least recently used first, until the whole
	// cache (kept volumes included) fits.
	KeepBytes int64
}

// PruneReport says what [Engine.Prune] removed.
type PruneReport struct {
	// Records is the number of records removed.
	Records int
	// Reclaimed is the number of bytes freed.
	Reclaimed int64
	// NotFound lists the names in [PruneOptions.Volumes] that the engine
	// has no cache volume for.
	NotFound []string
}

// keptByDefault is the prune filter that spares cache volumes and host
// directory copies: BuildKit's filters are ANDed within one string.
const keptByDefault = "type!=" + recordCacheMount + ",type!=" + string(client.UsageRecordTypeLocalSource)

// Prune removes unused build cache from the engine. Records in use by a
// running build are never removed.
func (e *Engine) Prune(ctx context.Context, opt PruneOptions) (*PruneReport, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	rep := &PruneReport{}
	var popts []client.PruneOption
	switch {
	case len(opt.Volumes) > 0:
		filters, notFound, err := e.volumeFilters(ctx, opt.Volumes)
		if err != nil {
			return nil, err
		}
		rep.NotFound = notFound
		if len(filters) == 0 {
			return rep, nil
		}
		popts = append(popts, client.WithFilter(filters))
	case opt.All:
		popts = append(popts, client.PruneAll)
	default:
		popts = append(popts, client.WithFilter([]string{keptByDefault}))
	}
	if opt.KeepDuration > 0 || opt.KeepBytes > 0 {
		popts = append(popts, client.WithKeepOpt(opt.KeepDuration, opt.KeepBytes, 0, 0))
	}
	ch := make(chan client.UsageInfo)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range ch {
			rep.Records++
			rep.Reclaimed += u.Size
		}
	}()
	err := e.c.Prune(ctx, ch, popts...)
	close(ch)
	<-done
	if err != nil {
		return nil, e.rpcError(ctx, "prune", err)
	}
	return rep, nil
}

// volumeFilters returns one prune filter per record of the named cache
// volumes (BuildKit ORs separate filters), and the names it has no volume
// for.
func (e *Engine) volumeFilters(ctx context.Context, names []string) (filters, notFound []string, err error) {
	du, err := e.DiskUsage(ctx)
	if err != nil {
		return nil, nil, err
	}
	found := map[string]bool{}
	for _, r := range du.Records {
		if name, _, ok := volumeName(r); ok && slices.Contains(names, name) {
			found[name] = true
			filters = append(filters, "id=="+r.ID)
		}
	}
	for _, n := range names {
		if !found[n] && !slices.Contains(notFound, n) {
			notFound = append(notFound, n)
		}
	}
	return filters, notFound, nil
}
