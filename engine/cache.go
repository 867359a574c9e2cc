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
}

// RegistryCache is a build cache stored in a registry under ref
// ("registry.example.com/app:buildcache"). Exports use mode=max: every
// step's result, not only the final image's layers.
func RegistryCache(ref string) Cache { return Cache{kind: "registry", ref: ref} }

// LocalCache is a build cache stored in a host directory (an OCI layout).
func LocalCache(dir string) Cache { return Cache{kind: "local", ref: dir} }

// String returns the cache in the form LADING_CACHE_FROM and
// LADING_CACHE_TO accept: "registry:REF" or "local:DIR".
func (c Cache) String() string { return c.kind + ":" + c.ref }

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
		kind, ref, ok := strings.Cut(item, ":")
		if !ok || ref == "" || (kind != "registry" && kind != "local") {
			return nil, fmt.Errorf("%s: %q is not registry:REF or local:DIR", env, item)
		}
		caches = append(caches, Cache{kind: kind, ref: ref})
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
	for _, c := range to {
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
		exports = append(exports, client.CacheOptionsEntry{Type: c.kind, Attrs: attrs})
	}
	return imports, exports, nil
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
