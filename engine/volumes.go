package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VolumeUsage is one cache volume ([sdk.CacheVolume]) kept by the engine.
type VolumeUsage struct {
	// Name is the volume's name, as given to sdk.CacheVolume.
	Name string
	// Size is the disk it uses, in bytes.
	Size int64
	// LastUsed is when a build last mounted it (zero if never recorded).
	LastUsed time.Time
	// InUse reports whether a build has it mounted now.
	InUse bool
	// Records is the number of BuildKit cache records that hold it: one,
	// or more when builds mount it with private sharing or with different
	// owners.
	Records int
	// Targets are the paths it was mounted at ("/go/pkg/mod"), sorted.
	Targets []string
}

// CacheVolumes lists the engine's cache volumes by name, largest first:
// BuildKit keeps each as records of type exec.cachemount whose
// description carries the volume's name. It is [Engine.DiskUsage]
// followed by [DiskUsage.Volumes].
func (e *Engine) CacheVolumes(ctx context.Context) ([]VolumeUsage, error) {
	du, err := e.DiskUsage(ctx)
	if err != nil {
		return nil, err
	}
	return du.Volumes(), nil
}

// Volumes groups the cache volumes' records by volume name, largest
// first, as [Engine.CacheVolumes] does. A nil DiskUsage has none.
func (du *DiskUsage) Volumes() []VolumeUsage {
	if du == nil {
		return nil
	}
	return volumesOf(du.Records)
}

// volumesOf groups the cache mount records by volume name.
func volumesOf(recs []CacheRecord) []VolumeUsage {
	byName := map[string]*VolumeUsage{}
	for _, r := range recs {
		name, target, ok := volumeName(r)
		if !ok {
			continue
		}
		v := byName[name]
		if v == nil {
			v = &VolumeUsage{Name: name}
			byName[name] = v
		}
		v.Size += r.Size
		v.Records++
		v.InUse = v.InUse || r.InUse
		if r.LastUsed.After(v.LastUsed) {
			v.LastUsed = r.LastUsed
		}
		if !slices.Contains(v.Targets, target) {
			v.Targets = append(v.Targets, target)
		}
	}
	out := make([]VolumeUsage, 0, len(byName))
	for _, v := range byName {
		slices.Sort(v.Targets)
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b VolumeUsage) int {
		if a.Size != b.Size {
			if a.Size > b.Size {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// volumeName reads a cache mount record's volume name and mount target
// from its description, which BuildKit writes as
//
//	cached mount /go/pkg/mod from exec go mod download with id "go-mod"
//
// (after "from", the name of the step that made it), leaving out the id
// when it equals the target.
func volumeName(r CacheRecord) (name, target string, ok bool) {
	if r.Type != recordCacheMount {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(r.Description, "cached mount ")
	if !ok {
		return "", "", false
	}
	target, rest, ok = strings.Cut(rest, " from ")
	if !ok {
		return "", "", false
	}
	// The step's name may hold anything; the quoted id, last, holds no
	// unescaped quote.
	if i := strings.LastIndex(rest, ` with id "`); i >= 0 {
		if n, err := strconv.Unquote(rest[i+len(" with id "):]); err == nil {
			return n, target, true
		}
		return "", "", false
	}
	return target, target, true
}
