package engine

import (
	"fmt"
	"os"
	"slices"

	"github.com/moby/buildkit/client"
)

// A directory cache of WithCache that cannot be written (a path under a
// file, a read-only mount, a directory of another user) would fail the
// build in BuildKit's client, before any step runs, although its export
// is marked ignore-error. It is dropped from the exports instead, with one
// warning naming it; imports from it go on.

// dropUnwritableCaches removes the exports to WithCache directories that
// cannot be written, warning once for each.
func (r *run) dropUnwritableCaches() {
	caches, err := r.e.travelCaches()
	if err != nil {
		return // reported by cacheOptions
	}
	for _, c := range caches {
		if c.kind != "local" || c.ro {
			continue
		}
		dir, ok := r.checkWritable(c)
		if ok {
			continue
		}
		r.opt.CacheExports = slices.DeleteFunc(r.opt.CacheExports, func(x client.CacheOptionsEntry) bool {
			return x.Type == "local" && x.Attrs["dest"] == dir && x.Attrs["ignore-error"] == "true"
		})
	}
}

// checkWritable says whether a local cache can be written, with a warning
// when it cannot (the cache's first, so that it is the one shown).
func (r *run) checkWritable(c Cache) (dir string, ok bool) {
	dir, err := localCacheWritable(r.e, c)
	if err != nil {
		r.cacheWarnf(c, "cannot be written (%v): neither the layer cache nor cache volumes are saved to it; give a directory this user can write", err)
		return dir, false
	}
	return dir, true
}

// localCacheWritable makes a local cache's directory and checks that a
// file can be made in it; it returns the directory.
func localCacheWritable(e *Engine, c Cache) (string, error) {
	attrs, err := e.cacheAttrs(c)
	if err != nil {
		return "", err
	}
	dir := attrs["dir"]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return dir, err
	}
	f, err := os.CreateTemp(dir, ".lading-probe-")
	if err != nil {
		return dir, fmt.Errorf("writing in %s: %w", dir, err)
	}
	f.Close()
	return dir, os.Remove(f.Name())
}
