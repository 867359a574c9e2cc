package llb

import (
	bkllb "github.com/moby/buildkit/client/llb"
)

// VolumeTravel says how a cache volume's contents travel with the engine's
// caches (engine.WithCache). The zero value saves the volume with no size
// limit. It is not part of any step's identity or cache key: changing it
// re-runs nothing.
type VolumeTravel struct {
	// LocalOnly keeps the volume on the engine: it is neither restored
	// from nor saved to a cache.
	LocalOnly bool
	// SaveLimit, if positive, is the size in bytes above which the volume
	// is not saved.
	SaveLimit int64
}

// Volume is what the engine needs to restore and save one cache volume:
// where it is first mounted and how.
type Volume struct {
	// ID is the cache volume's id.
	ID string
	// Sharing is the sharing mode of its first mount.
	Sharing Sharing
	// Target is where its first mount puts it ("/root/.cache/go-build").
	Target string
	// Root is the root filesystem of the first exec step that mounts the
	// volume, to run the copy in; nil when that step starts from an empty
	// filesystem.
	Root *bkllb.Definition
	// Owner is the filesystem whose "/cache" directory the first mount is
	// based on (the volume's owner was set), or nil. A mount of the same
	// volume must use it too to see the same contents.
	Owner *bkllb.Definition
	// Travel merges the options of every mount of the volume: local-only
	// if any mount says so, the smallest save limit.
	Travel VolumeTravel
	// Location is the Go call site of its first mount (WithMountedCache),
	// for the warnings that name the volume.
	Location Location
}

// volumeSite is a cache volume's first use, found while compiling.
type volumeSite struct {
	base, owner *vertex
	sharing     Sharing
	target      string
	travel      VolumeTravel
	loc         Location
}

// noteVolume records a cache mount of an exec step whose root filesystem
// is base: the first one of each volume, and every mount's travel options.
func (c *compiler) noteVolume(base *vertex, m *Mount, owner *vertex) {
	if c.volumes == nil {
		c.volumes = map[string]*volumeSite{}
	}
	s, ok := c.volumes[m.CacheID]
	if !ok {
		s = &volumeSite{base: base, owner: owner, sharing: m.Sharing, target: m.Target, travel: m.Travel, loc: m.Loc}
		c.volumes[m.CacheID] = s
		return
	}
	s.travel.LocalOnly = s.travel.LocalOnly || m.Travel.LocalOnly
	if l := m.Travel.SaveLimit; l > 0 && (s.travel.SaveLimit == 0 || l < s.travel.SaveLimit) {
		s.travel.SaveLimit = l
	}
}

// volumeFacts lists the volumes with the definitions of their first
// use's filesystems. It runs after the program's own definition.
func (c *compiler) volumeFacts() []Volume {
	var out []Volume
	for _, id := range sortedKeys(c.volumes) {
		s := c.volumes[id]
		v := Volume{ID: id, Sharing: s.sharing, Target: s.target, Travel: s.travel, Location: s.loc}
		if !s.travel.LocalOnly {
			v.Root = c.subDefinition(s.base)
			v.Owner = c.subDefinition(s.owner)
		}
		out = append(out, v)
	}
	return out
}

// subDefinition is the definition of v's output alone, or nil for none (or
// when it cannot be marshalled, which the main definition would have
// reported first).
func (c *compiler) subDefinition(v *vertex) *bkllb.Definition {
	if v == nil {
		return nil
	}
	// definition marks the vertices it lists; clear the marks it left.
	seen := map[*vertex]bool{}
	stack := []*vertex{v}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen[top] {
			seen[top] = true
			top.done = false
			stack = append(stack, top.deps...)
		}
	}
	def, err := c.definition(v)
	if err != nil {
		return nil
	}
	return def
}
