package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// fleetSettings are the options of a fleet of engines.
type fleetSettings struct {
	addrs  []string // WithFleet
	set    bool     // WithFleet was given (perhaps with no address)
	key    string   // WithFleetKey; "" means the default key
	cache  string   // WithFleetCache: a registry repository
	routed bool     // set on the Engine a routed build runs on: no second routing
}

// WithFleet makes Connect return one Engine backed by several engines, a
// fleet: every build goes to one of them, chosen by the build's key
// ([WithFleetKey]) with rendezvous hashing, so that the same key lands on
// the same engine run after run and adding or removing an engine moves
// only that engine's share of the keys. Each engine is health-checked when
// Connect dials it; an unreachable one is skipped with one warning, and
// builds go to the next engine in their key's order. When an engine dies
// during a build, the build runs again, once, on the next engine
// ([Route.MovedFrom]); a build that fails by itself (a step exits non-zero)
// is never retried.
//
// Spaces around an address are ignored; an empty address is an error.
// Without WithFleet (and without [WithAddress]), Connect reads
// LADING_FLEET: a comma-separated list of addresses. A fleet there is used
// before BUILDKIT_HOST. Each address takes the forms of WithAddress; the
// TLS files of [WithTLS] apply to every tcp:// address. A connection
// option: Connect only. See docs/fleet.md.
func WithFleet(addrs ...string) Option {
	return func(s *settings) {
		s.only("WithFleet", forConnect, "it chooses the engines to connect to")
		s.fleet.set = true
		for i, a := range addrs {
			a = strings.TrimSpace(a)
			if a == "" && s.err == nil {
				s.err = fmt.Errorf("engine.WithFleet: address %d of %d is empty: pass each engine's address (unix://, tcp://, kube-pod://…) "+
					"and no empty one; to read a comma-separated list from the environment, use LADING_FLEET, which skips empty entries", i+1, len(addrs))
			}
			if a != "" {
				s.fleet.addrs = append(s.fleet.addrs, a)
			}
		}
	}
}

// WithFleetKey sets the key by which a fleet routes builds: builds with
// the same key go to the same engine, which holds their cache. The
// default is the pipeline target's name in a pipeline (package pipeline
// sets it for each target), else the Go file:line that made the built
// value; an empty key is an error. It has no effect on an Engine that is not a fleet. A build
// option: Connect and With (eng.With(engine.WithFleetKey("api")).Build(…)).
func WithFleetKey(key string) Option {
	return func(s *settings) {
		s.only("WithFleetKey", forBuilds, "it routes builds")
		if key == "" && s.err == nil {
			s.err = errors.New("engine.WithFleetKey was given an empty key: pass a non-empty key (a target's name, say), " +
				"or leave the option out to route by the pipeline target or the Go file:line that made the value")
		}
		s.fleet.key = key
	}
}

// WithFleetCache gives every routing key its own registry cache in repo
// ("registry.example.com/lading-cache"): the builds of key K import and
// export the cache repo:TAG, TAG made from K, as [WithCache] does (layers
// and cache volumes, never failing a build). Every engine of the fleet
// reads the same tag, so a key moved to another engine finds its cache
// there; and keys do not overwrite each other's cache, as builds exporting
// to one shared tag would. It applies on any Engine, a fleet or not.
// Without it, LADING_FLEET_CACHE is used (a repository). A build option:
// Connect and With.
func WithFleetCache(repo string) Option {
	return func(s *settings) {
		s.only("WithFleetCache", forBuilds, "it is a build option")
		s.fleet.cache = repo
	}
}

// keyCache returns the registry cache of a routing key in repo: the tag is
// the key's characters that a tag allows (others become '-', at most 64)
// and 12 hex digits of the key's SHA-256, so that different keys never
// share a tag.
func keyCache(repo, key string) Cache {
	var b strings.Builder
	for _, r := range key {
		switch {
		case b.Len() >= 64:
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	sum := sha256.Sum256([]byte(key))
	tag := strings.Trim(b.String(), "-.") + "-" + hex.EncodeToString(sum[:6])
	tag = strings.TrimLeft(tag, "-.")
	return RegistryCache(repo + ":" + tag)
}
