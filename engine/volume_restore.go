package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Restoring cache volumes: before the build's own solve, in its session,
// one exec per volume mounts the volume (the same id, sharing and owner as
// its first use, so the same directory) and the last save found in the
// caches, and copies the save in when the volume is empty. It runs in the
// root filesystem of the volume's first use, which has a shell in
// practice; when it has none, or the save cannot be read, the volume
// starts empty with a warning. The build's own steps and cache keys are
// untouched: the save is no input of theirs.

// volumeMount is where the copy steps see the volume when its first use's
// path cannot serve.
const volumeMount = "/lading/volume"

// volumeRun is what one build knows of its volumes' saves.
type volumeRun struct {
	caches []Cache
	local  map[int]map[string]*localSave // cache index -> volume -> save found
	once   sync.Once
	mu     sync.Mutex
	found  map[int]map[string]*volumeBase // cache index -> volume -> save
	vols   []lllb.Volume
	plat   ocispecs.Platform
	out    sync.Mutex // one line at a time on the progress output
}

// volumeBase is a save found in a cache: its image, and how many layers it
// stacks.
type volumeBase struct {
	state  llb.State
	layers int
}

// prepareVolumes lists the caches volumes travel with and opens the local
// saves as content stores of the session. Problems are warnings.
func (r *run) prepareVolumes() {
	caches, err := r.e.travelCaches()
	if err != nil || len(caches) == 0 || len(r.pre.Volumes) == 0 {
		return // a bad LADING_CACHE is reported by cacheOptions
	}
	v := &volumeRun{caches: caches, local: map[int]map[string]*localSave{}, found: map[int]map[string]*volumeBase{}}
	r.vols = v
	for i, c := range caches {
		if c.kind != "local" {
			continue
		}
		r.checkLocalCache(c) // its warning first: it says more than a failed read
		dir, err := r.e.cacheAttrs(c)
		if err != nil {
			continue
		}
		v.local[i] = map[string]*localSave{}
		var missing []string
		for _, vol := range r.pre.Volumes {
			if vol.Travel.LocalOnly {
				continue
			}
			s, err := readLocalSave(dir["dir"], vol.ID)
			if errors.Is(err, fs.ErrNotExist) {
				missing = append(missing, vol.ID)
				continue
			}
			if err != nil {
				r.volumeWarn(c, "cannot be read (%v): cache volume %q starts empty", err, vol.ID)
				continue
			}
			if r.opt.OCIStores == nil {
				r.opt.OCIStores = map[string]content.Store{}
			}
			r.opt.OCIStores[s.storeID()] = s.store()
			v.local[i][vol.ID] = s
		}
		r.volumesMissing(c, missing)
	}
}

// volumeWarn warns once per cache.
func (r *run) volumeWarn(c Cache, format string, args ...any) {
	r.cacheWarnf(c, format, args...)
}

// volumesMissing warns that a cache holds no save of some volumes yet,
// unless the cache was warned about already. It does not count as the
// cache's warning: a save that then fails (a full disk, a refused push)
// still says so.
func (r *run) volumesMissing(c Cache, ids []string) {
	if len(ids) > 0 && !r.cacheFailed(c) {
		r.warnf("cache %s holds no save of cache volume %s yet: %s empty", c, quoteList(ids), map[bool]string{true: "it starts", false: "they start"}[len(ids) == 1])
	}
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}

// restoreVolumes finds each volume's saves in the caches and copies the
// first one found into the volume, before the program's own solve. It
// runs for the first program only.
func (r *run) restoreVolumes(ctx context.Context, c gateway.Client, p *lllb.Program) {
	if r.vols == nil {
		return
	}
	r.vols.once.Do(func() {
		r.vols.vols, r.vols.plat = p.Volumes, r.targets[0]
		r.findSaves(ctx, c)
		var wg sync.WaitGroup
		for _, vol := range p.Volumes {
			if vol.Travel.LocalOnly {
				continue
			}
			for i, cache := range r.vols.caches {
				if b := r.vols.found[i][vol.ID]; b != nil {
					wg.Go(func() { r.restoreVolume(ctx, c, vol, cache, b) })
					break
				}
			}
		}
		wg.Wait()
	})
}

// findSaves looks up every volume's save in every cache.
func (r *run) findSaves(ctx context.Context, c gateway.Client) {
	v := r.vols
	for i := range v.caches {
		v.found[i] = map[string]*volumeBase{} // before the lookups start
	}
	var wg sync.WaitGroup
	for i, cache := range v.caches {
		if cache.kind == "local" {
			for id, s := range v.local[i] {
				st := llb.OCILayout("lading.local/volume@"+s.manifest.Digest.String(), llb.OCIStore("", s.storeID()), llb.Platform(v.plat))
				v.found[i][id] = &volumeBase{state: st, layers: s.layers}
			}
			continue
		}
		wg.Go(func() {
			var missing []string
			for _, vol := range v.vols {
				if vol.Travel.LocalOnly {
					continue
				}
				b, err := r.findRegistrySave(ctx, c, cache, vol.ID)
				switch {
				case err == nil:
					v.mu.Lock()
					v.found[i][vol.ID] = b
					v.mu.Unlock()
				case isNotFound(err):
					missing = append(missing, vol.ID)
				default:
					r.volumeWarn(cache, "cannot be read (%v): cache volume %q starts empty", err, vol.ID)
					return // unreachable: do not try its other volumes
				}
			}
			r.volumesMissing(cache, missing)
		})
	}
	wg.Wait()
}

// findRegistrySave resolves a volume's save in a registry cache.
func (r *run) findRegistrySave(ctx context.Context, c gateway.Client, cache Cache, id string) (*volumeBase, error) {
	ref, err := volumeRef(cache.ref, id)
	if err != nil {
		return nil, err
	}
	plat := r.vols.plat
	_, dgst, cfg, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &plat, ResolveMode: llb.ResolveModeForcePull.String()},
	})
	if err != nil {
		return nil, err
	}
	var img ocispecs.Image
	if err := json.Unmarshal(cfg, &img); err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	pinned := ref + "@" + dgst.String()
	st := llb.Image(pinned, llb.Platform(plat), llb.WithCustomName("cache volume "+id+" from "+cache.String()))
	return &volumeBase{state: st, layers: len(img.RootFS.DiffIDs)}, nil
}

// isNotFound says a registry has no such tag.
func isNotFound(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "not found") || strings.Contains(msg, "MANIFEST_UNKNOWN") || strings.Contains(msg, "NAME_UNKNOWN")
}

// restoreScript copies the save into the volume when the volume is empty
// (a volume this engine already holds is newer than any save).
const restoreScript = `set -e
for f in "$V"/* "$V"/.[!.]* "$V"/..?*; do
	if [ -e "$f" ] || [ -L "$f" ]; then exit 0; fi
done
cd /lading/save
for f in * .[!.]* ..?*; do
	if [ -e "$f" ] || [ -L "$f" ]; then cp -a "$f" "$V/"; fi
done
`

// restoreVolume copies one save into its volume; a failure is a warning.
func (r *run) restoreVolume(ctx context.Context, c gateway.Client, vol lllb.Volume, cache Cache, b *volumeBase) {
	st, err := r.volumeExec(vol, restoreScript, "restore cache volume "+vol.ID+" from "+cache.String(),
		llb.AddMount("/lading/save", b.state, llb.Readonly))
	if err == nil {
		err = solveState(ctx, c, st.Root(), r.vols.plat)
	}
	if err != nil {
		msg, fix := copyStepMessage(vol, err)
		r.volumeWarn(cache, "could not be restored into cache volume %q, first mounted at %s (%s): it starts empty%s", vol.ID, vol.Location, msg, fix)
	}
}

// copyStepMessage words a failed copy step for a warning: the exit code,
// not the whole script, and what to change when the step cannot run in
// the filesystem of the volume's first step (no /bin/sh, no cp).
func copyStepMessage(vol lllb.Volume, err error) (msg, fix string) {
	const fixShell = "; mount it first in a step whose image has /bin/sh and cp, or mark it sdk.LocalOnly"
	if vol.Root == nil {
		return err.Error(), fixShell
	}
	msg = rootMessage(err)
	if _, code, ok := strings.Cut(msg, "did not complete successfully: "); ok {
		return "the copy step, run in the filesystem of that step, failed: " + code, fixShell
	}
	return msg, ""
}

// volumeExec is an exec step in the volume's first root filesystem with
// the volume mounted as its first use mounts it, plus the given mounts.
// It runs every build (its run id is in its env), as root, without network;
// the volume's id is in its env too (see below).
func (r *run) volumeExec(vol lllb.Volume, script, name string, opts ...llb.RunOption) (llb.ExecState, error) {
	if vol.Root == nil {
		return llb.ExecState{}, errors.New("its first step starts from an empty filesystem, with no shell to copy with")
	}
	rootOp, err := llb.NewDefinitionOp(vol.Root.ToPB())
	if err != nil {
		return llb.ExecState{}, err
	}
	cacheSrc := llb.Scratch()
	cacheOpts := []llb.MountOption{llb.AsPersistentCacheDir(vol.ID, llb.CacheMountSharingMode(vol.Sharing))}
	if vol.Owner != nil {
		op, err := llb.NewDefinitionOp(vol.Owner.ToPB())
		if err != nil {
			return llb.ExecState{}, err
		}
		cacheSrc = llb.NewState(op)
		cacheOpts = append(cacheOpts, llb.SourcePath("/cache"))
	}
	// Mounted where its first use mounts it, so that the engine's record
	// of the volume (lading engine du) names that path.
	target := vol.Target
	if target == "" || target == "/" || target == "/lading" || strings.HasPrefix(target, "/lading/") {
		target = volumeMount
	}
	run := append([]llb.RunOption{
		llb.Args([]string{"/bin/sh", "-c", script}),
		llb.AddEnv("V", target),
		// BuildKit leaves cache mount ids out of an exec's cache key: the
		// id in the env keeps two volumes' copy steps apart.
		llb.AddEnv("LADING_VOLUME", vol.ID),
		llb.AddEnv("LADING_VOLUME_RUN", r.opt.Ref),
		llb.User("0"),
		llb.Dir("/"),
		llb.Network(llb.NetModeNone),
		llb.WithCustomName(name),
		llb.AddMount(target, cacheSrc, cacheOpts...),
	}, opts...)
	return llb.NewState(rootOp).Run(run...), nil
}

// solveState solves a state in the gateway and returns its reference.
func solveState(ctx context.Context, c gateway.Client, st llb.State, plat ocispecs.Platform) error {
	_, err := solveRef(ctx, c, st, plat)
	return err
}

func solveRef(ctx context.Context, c gateway.Client, st llb.State, plat ocispecs.Platform) (gateway.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(plat))
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}
