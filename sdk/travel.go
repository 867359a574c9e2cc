package sdk

import (
	"fmt"

	units "github.com/docker/go-units"

	"github.com/ladingbuild/lading/internal/llb"
)

// Travel options of WithMountedCache say how a cache volume's contents
// travel with the engine's caches (engine.WithCache, LADING_CACHE): by
// default every volume a build mounts is restored before its first use
// and saved after the build. They never change a step's cache key.

// localOnly is the LocalOnly option.
type localOnly struct{}

// LocalOnly keeps a cache volume on the engine that uses it: it is never
// restored from or saved to a cache, e.g. for a volume that only holds
// what is cheaper to fetch again than to save. One mount marked LocalOnly
// is enough for the whole volume.
var LocalOnly CacheOption = localOnly{}

func (localOnly) cacheOption(c *cacheOpts) { c.travel.LocalOnly = true }

// saveLimit is the SaveLimit option.
type saveLimit struct {
	size string
}

// SaveLimit caps the size of a cache volume that is saved to a cache, in
// human units ("500MB", "2GB"; binary multiples, as `docker builder prune`
// reads them): a larger volume is not saved, with a warning, and its
// previous save stays. When mounts give different limits, the smallest
// holds.
func SaveLimit(size string) CacheOption { return saveLimit{size} }

func (s saveLimit) cacheOption(c *cacheOpts) {
	n, err := units.RAMInBytes(s.size)
	if err != nil || n <= 0 {
		c.travelErr = fmt.Sprintf("save limit %q is not a size", s.size)
		return
	}
	c.travel.SaveLimit = n
}

// checkTravel reports a bad travel option.
func checkTravel(loc llb.Location, op string, o *cacheOpts) error {
	if o.travelErr != "" {
		return llb.Invalid(loc, op, "SaveLimit", o.travelErr, `give a positive size with a unit, e.g. sdk.SaveLimit("2GB")`)
	}
	return nil
}
