package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
)

// Cache is a remote build cache: a registry repository or a host
// directory, made by [RegistryCache] or [LocalCache]. Engines that import
// the cache another engine exported reuse its steps instead of running them.
type Cache struct {
	kind string // "registry" or "local"
	ref  string // image reference or directory
	ro   bool   // imported from, never exported to
}

// RegistryCache is a build cache stored in a registry under ref
// ("registry.example.com/app:buildcache"). Exports use mode=max: every
// step's result, not only the final image's layers.
func RegistryCache(ref string) Cache { return Cache{kind: "registry", ref: ref} }

// LocalCache is a build cache stored in a host directory (an OCI layout).
func LocalCache(dir string) Cache { return Cache{kind: "local", ref: dir} }

// ReadOnly returns the cache marked read-only: given to [WithCache], it is
// imported from (layers and cache volumes) but never written to, e.g. the
// main branch's cache read by pull-request builds.
func (c Cache) ReadOnly() Cache { c.ro = true; return c }

// String returns the cache in the form LADING_CACHE accepts:
// "registry:REF" or "local:DIR", with an "ro:" prefix when read-only.
// Without the prefix it is also what LADING_CACHE_FROM and LADING_CACHE_TO
// accept.
func (c Cache) String() string {
	if c.ro {
		return "ro:" + c.kind + ":" + c.ref
	}
	return c.kind + ":" + c.ref
}

// WithCache keeps builds warm across engines: every build imports
// BuildKit's layer cache and the contents of the cache volumes it mounts
// from the caches, and exports both to those that are not read-only
// ([Cache.ReadOnly]). Volumes are restored before their first use and
// saved after a successful build, only when they changed (see
// docs/ci-caches.md). Without it, LADING_CACHE is used: a comma-separated
// list of "registry:REF" and "local:DIR", each with an optional "ro:"
// prefix. It adds to WithCacheFrom and WithCacheTo (and their variables).
func WithCache(caches ...Cache) Option {
	return func(s *settings) {
		s.only("WithCache", forBuilds, "it is a build option")
		s.caches = append(s.caches, caches...)
	}
}

// WithCacheFrom imports build cache from the given caches in every build.
// Without it, LADING_CACHE_FROM is used: a comma-separated list of
// "registry:REF" and "local:DIR".
func WithCacheFrom(caches ...Cache) Option {
	return func(s *settings) {
		s.only("WithCacheFrom", forBuilds, "it is a build option")
		s.cacheFrom = append(s.cacheFrom, caches...)
	}
}

// WithCacheTo exports every build's cache (mode=max) to the given caches.
// Without it, LADING_CACHE_TO is used, in the form of LADING_CACHE_FROM.
func WithCacheTo(caches ...Cache) Option {
	return func(s *settings) {
		s.only("WithCacheTo", forBuilds, "it is a build option")
		s.cacheTo = append(s.cacheTo, caches...)
	}
}

// parseCacheList parses LADING_CACHE_FROM / LADING_CACHE_TO.
func parseCacheList(env, v string) ([]Cache, error) {
	var caches []Cache
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		c := Cache{}
		rest, ro := strings.CutPrefix(item, "ro:")
		if ro && env != "LADING_CACHE" {
			return nil, fmt.Errorf("%s: %q: the ro: prefix belongs in LADING_CACHE; %s is read-only or write-only already", env, item, env)
		}
		kind, ref, ok := strings.Cut(rest, ":")
		if !ok || ref == "" || (kind != "registry" && kind != "local") {
			return nil, fmt.Errorf("%s: %q is not registry:REF or local:DIR (with an optional ro: prefix in LADING_CACHE)", env, item)
		}
		c.kind, c.ref, c.ro = kind, ref, ro
		caches = append(caches, c)
	}
	return caches, nil
}

// cacheOptions returns the solve's cache imports and exports: the options,
// else the environment.
func (e *Engine) cacheOptions() (imports, exports []client.CacheOptionsEntry, err error) {
	from, to := e.s.cacheFrom, e.s.cacheTo
	if from == nil {
		if from, err = parseCacheList("LADING_CACHE_FROM", os.Getenv("LADING_CACHE_FROM")); err != nil {
			return nil, nil, err
		}
	}
	if to == nil {
		if to, err = parseCacheList("LADING_CACHE_TO", os.Getenv("LADING_CACHE_TO")); err != nil {
			return nil, nil, err
		}
	}
	travel, err := e.travelCaches()
	if err != nil {
		return nil, nil, err
	}
	from = append(slices.Clip(from), travel...)
	explicit := len(to)
	for _, c := range travel {
		if !c.ro {
			to = append(slices.Clip(to), c)
		}
	}
	for _, c := range from {
		attrs, err := e.cacheAttrs(c)
		if err != nil {
			return nil, nil, err
		}
		if c.kind == "local" {
			attrs = map[string]string{"src": attrs["dir"]}
			if _, err := os.Stat(filepath.Join(attrs["src"], "index.json")); err != nil {
				continue // nothing exported there yet
			}
		}
		imports = append(imports, client.CacheOptionsEntry{Type: c.kind, Attrs: attrs})
	}
	for i, c := range to {
		attrs, err := e.cacheAttrs(c)
		if err != nil {
			return nil, nil, err
		}
		if c.kind == "local" {
			attrs = map[string]string{"dest": attrs["dir"]}
		} else {
			attrs["image-manifest"] = "true"
			attrs["oci-mediatypes"] = "true"
		}
		attrs["mode"] = "max"
		if i >= explicit {
			// A cache of WithCache never fails a build: BuildKit reports
			// the failed export on the progress output instead.
			attrs["ignore-error"] = "true"
		}
		exports = append(exports, client.CacheOptionsEntry{Type: c.kind, Attrs: attrs})
	}
	return imports, exports, nil
}

// travelCaches returns the caches volumes travel with: the WithCache
// option, else LADING_CACHE.
func (e *Engine) travelCaches() ([]Cache, error) {
	if e.s.caches != nil {
		return dedupeCaches(e.s.caches), nil
	}
	caches, err := parseCacheList("LADING_CACHE", os.Getenv("LADING_CACHE"))
	return dedupeCaches(caches), err
}

// dedupeCaches keeps the first of caches naming the same place, writable
// if any of them is: two saves of one volume to one place would only race.
func dedupeCaches(caches []Cache) []Cache {
	var out []Cache
	for _, c := range caches {
		i := slices.IndexFunc(out, func(o Cache) bool { return o.kind == c.kind && o.ref == c.ref })
		if i < 0 {
			out = append(out, c)
			continue
		}
		out[i].ro = out[i].ro && c.ro
	}
	return out
}

// volumesTravel says builds restore and save cache volumes.
func (e *Engine) volumesTravel() bool {
	caches, err := e.travelCaches()
	return err == nil && len(caches) > 0
}

// cacheAttrs validates a cache and returns its base attributes.
func (e *Engine) cacheAttrs(c Cache) (map[string]string, error) {
	switch c.kind {
	case "registry":
		n, err := reference.ParseNormalizedNamed(c.ref)
		if err != nil {
			return nil, fmt.Errorf("registry cache %q: %w", c.ref, err)
		}
		attrs := map[string]string{"ref": reference.TagNameOnly(n).String()}
		if slices.Contains(e.s.insecure, reference.Domain(n)) {
			attrs["registry.insecure"] = "true"
		}
		return attrs, nil
	case "local":
		dir, err := filepath.Abs(c.ref)
		if err != nil {
			return nil, fmt.Errorf("local cache %q: %w", c.ref, err)
		}
		return map[string]string{"dir": dir}, nil
	}
	return nil, fmt.Errorf("unknown cache %q", c.String())
}
