package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// A directory cache of WithCache that cannot be written (a path under a
// file, a read-only mount, a directory of another user), or whose layer
// index is not JSON, would fail the build in BuildKit's client before any
// step runs, although its export is marked ignore-error. It is dropped
// from the solve's imports or exports instead, with one warning naming it.

// dropUnwritableCaches removes the layer cache imports and exports of
// WithCache directories that cannot be used, warning once for each.
func (r *run) dropUnwritableCaches() {
	caches, err := r.e.travelCaches()
	if err != nil {
		return // reported by cacheOptions
	}
	for _, c := range caches {
		if c.kind != "local" {
			continue
		}
		dir, writable, indexOK := r.checkLocalCache(c)
		if !indexOK {
			r.opt.CacheImports = slices.DeleteFunc(r.opt.CacheImports, func(x client.CacheOptionsEntry) bool {
				return x.Type == "local" && x.Attrs["src"] == dir
			})
		}
		if !writable || !indexOK {
			r.opt.CacheExports = slices.DeleteFunc(r.opt.CacheExports, func(x client.CacheOptionsEntry) bool {
				return x.Type == "local" && x.Attrs["dest"] == dir && x.Attrs["ignore-error"] == "true"
			})
		}
	}
}

// checkLocalCache says whether a local cache of WithCache can be written
// (read-only ones need not be) and whether its layer index can be read,
// with a warning when not: the cache's first, so that it is the one
// shown.
func (r *run) checkLocalCache(c Cache) (dir string, writable, indexOK bool) {
	probe := localCacheWritable
	if c.ro {
		probe = localCacheDir // never written: nothing to make or probe
	}
	dir, err := probe(r.e, c)
	if err != nil {
		r.cacheWarnf(c, "cannot be written (%v): neither the layer cache nor cache volumes are saved to it; give a directory this user can write", err)
		return dir, false, readLayerIndex(dir) == nil
	}
	if err := readLayerIndex(dir); err != nil {
		r.cacheWarnf(c, "cannot be read (%v): its layer cache is neither imported nor exported; remove %s to start it afresh", err, filepath.Join(dir, ocispecs.ImageIndexFile))
		return dir, true, false
	}
	return dir, true, true
}

// readLayerIndex checks that a local cache's index.json, if there is one,
// is an OCI index.
func readLayerIndex(dir string) error {
	dt, err := os.ReadFile(filepath.Join(dir, ocispecs.ImageIndexFile))
	if err != nil {
		return nil // none yet; a directory that cannot be read is reported as unwritable
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		return fmt.Errorf("%s: %w", ocispecs.ImageIndexFile, err)
	}
	return nil
}

// localCacheDir is a local cache's directory, absolute.
func localCacheDir(e *Engine, c Cache) (string, error) {
	attrs, err := e.cacheAttrs(c)
	if err != nil {
		return "", err
	}
	return attrs["dir"], nil
}

// localCacheWritable makes a local cache's directory and checks that a
// file can be made in it; it returns the directory.
func localCacheWritable(e *Engine, c Cache) (string, error) {
	dir, err := localCacheDir(e, c)
	if err != nil {
		return "", err
	}
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
