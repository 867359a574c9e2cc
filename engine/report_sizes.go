package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/ladingbuild/lading/internal/explain"
)

// Asking the engine for cache volume sizes is one DiskUsage call, which
// walks every record the engine holds under its cache lock: ~60 ms with
// 1,800 records, and the solve running beside it waits for it. So the run
// report keeps the last measurement per engine beside the build records
// and shows it, with its time, until a build in which a step ran (which
// may have written into a volume) makes the next report measure again.
const volumeSizesMaxAge = time.Hour

// sizeGuard orders a build's measurement against its own drop of the
// kept sizes: a measurement that lands after a step ran is not kept.
type sizeGuard struct {
	mu    sync.Mutex
	stale bool
}

// cacheSizes returns the sizes of the cache volumes the build mounts: the
// kept measurement when it is recent and names them all, else the
// engine's answer. A volume the engine does not list (or a call that
// fails) is "unknown".
func (r *run) cacheSizes(ctx context.Context) []reportCache {
	ids := r.pre.CacheVolumes
	if len(ids) == 0 {
		return nil
	}
	store := r.sizeStore()
	if v, ok := store.load(ids); ok {
		return v.report(ids, true)
	}
	v, err := r.engineVolumeSizes(ctx, ids)
	if err != nil {
		return unknownSizes(ids)
	}
	r.rep.sizes.mu.Lock()
	if !r.rep.sizes.stale {
		store.save(v)
	}
	r.rep.sizes.mu.Unlock()
	return v.report(ids, false)
}

// sizesChanged forgets the kept measurement after a build in which a step
// other than a source ran.
func (r *run) sizesChanged(sum Summary) {
	for _, s := range sum.Steps {
		if !s.Cached && !isSource(s.Op) {
			r.rep.sizes.mu.Lock()
			r.rep.sizes.stale = true
			r.sizeStore().forget()
			r.rep.sizes.mu.Unlock()
			return
		}
	}
}

// volumeSizeSet is one measurement: each volume's size in bytes, or -1 for
// a volume the engine did not list.
type volumeSizeSet struct {
	Measured time.Time        `json:"measured"`
	Bytes    map[string]int64 `json:"bytes"`
}

// report renders the sizes of ids; a kept measurement says when it was
// made.
func (v volumeSizeSet) report(ids []string, kept bool) []reportCache {
	out := unknownSizes(ids)
	for i, c := range out {
		if n, ok := v.Bytes[c.ID]; ok && n >= 0 {
			out[i].Size = formatBytes(n)
			if kept {
				out[i].Size += " (as of " + v.Measured.Local().Format(time.TimeOnly) + ")"
			}
		}
	}
	return out
}

// engineVolumeSizes asks the engine: one DiskUsage call filtered to cache
// mounts.
func (r *run) engineVolumeSizes(ctx context.Context, ids []string) (volumeSizeSet, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	recs, err := r.e.c.DiskUsage(ctx, client.WithFilter([]string{"type==" + string(client.UsageRecordTypeCacheMount)}))
	if err != nil {
		return volumeSizeSet{}, err
	}
	v := volumeSizeSet{Measured: time.Now().UTC(), Bytes: map[string]int64{}}
	for _, id := range ids {
		v.Bytes[id] = -1
	}
	for _, rec := range recs {
		id, ok := cacheMountID(rec.Description)
		if n, want := v.Bytes[id]; ok && want && rec.Size > 0 {
			v.Bytes[id] = max(n, 0) + rec.Size
		}
	}
	return v, nil
}

// sizeStore is the file keeping the last measurement of one engine, beside
// the build records; "" when there is no place for it.
type sizeStore string

func (r *run) sizeStore() sizeStore {
	dir := r.e.s.explain.dir
	if dir == "" {
		d, err := explain.DefaultDir()
		if err != nil {
			return ""
		}
		dir = d
	}
	return sizeStoreIn(dir, r.e.addr)
}

// sizeStoreIn is the file for the engine at addr in the records dir.
func sizeStoreIn(dir, addr string) sizeStore {
	sum := sha256.Sum256([]byte(addr))
	return sizeStore(filepath.Join(dir, "volume-sizes", hex.EncodeToString(sum[:8])+".json"))
}

// load returns the kept measurement when it is recent and names every id.
func (s sizeStore) load(ids []string) (volumeSizeSet, bool) {
	if s == "" {
		return volumeSizeSet{}, false
	}
	dt, err := os.ReadFile(string(s))
	if err != nil {
		return volumeSizeSet{}, false
	}
	var v volumeSizeSet
	if json.Unmarshal(dt, &v) != nil || time.Since(v.Measured) > volumeSizesMaxAge || v.Measured.After(time.Now()) {
		return volumeSizeSet{}, false
	}
	for _, id := range ids {
		if _, ok := v.Bytes[id]; !ok {
			return volumeSizeSet{}, false
		}
	}
	return v, true
}

// save keeps v; a failure only means the next report measures again.
func (s sizeStore) save(v volumeSizeSet) {
	if s == "" {
		return
	}
	dt, err := json.Marshal(v)
	if err != nil || os.MkdirAll(filepath.Dir(string(s)), 0o755) != nil {
		return
	}
	_ = writeFileAtomic(string(s), dt)
}

// forget removes the kept measurement.
func (s sizeStore) forget() {
	if s != "" {
		_ = os.Remove(string(s))
	}
}
