package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/identity"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Saving cache volumes, after a successful build: per writable cache and
// volume, an exec mounts the volume and, as a writable mount, the save the
// build started from (or an empty filesystem, for the first save and when
// the save stacks too many layers). It copies what differs and removes what
// is gone, and writes a status: the volume's size and how many files it
// changed. An unchanged volume is not exported at all. A changed one is
// exported by BuildKit's own exporters, as an image whose layers are the
// old save's plus one of the change: pushed to the registry (the manifest
// and tag last), or written to a new OCI layout that replaces the previous
// one in one rename. Two savers never mix: the last complete save wins.

// saveScript syncs the volume ($V) into the save (/lading/out) and writes
// the status (/lading/status): the volume's size and the entries removed,
// made or changed. It lists both trees, files with their mode, owner,
// size and modification time, directories with their mode and owner, and
// looks only at the entries whose line differs: an
// entry whose mode or owner changed is copied again; a file whose only
// change is its time is kept when its contents are equal; a link is kept
// when it points where it did. Directories are made with the mode and
// owner they have in the volume. Sockets and names holding a line break
// are not saved. Without stat,
// sort or comm in the step's filesystem it falls back to comparing times
// and contents only. A first save (into an empty filesystem) copies the
// volume whole, in one cp. An empty volume is not saved: a private mount
// whose volume another build holds is a new, empty one, and saving it
// would empty the cache's save.
const saveScript = `set -e
o=/lading/out s=/lading/status l=/lading/status/lists
du -sk "$V" | cut -f1 > $s/size
: > $s/removed; : > $s/dirs; : > $s/copied
if [ -z "$(ls -A "$V")" ]; then echo yes > $s/empty; exit 0; fi
echo no > $s/empty
if [ -n "$LIMIT" ] && [ "$(cat $s/size)" -gt "$LIMIT" ]; then exit 0; fi
mkdir -p $l
nl='
'
have_cmp=1; command -v cmp >/dev/null 2>&1 || have_cmp=
have_stat=1
for c in stat sort comm; do command -v $c >/dev/null 2>&1 || have_stat=; done
fmt='%a %u %g %s %Y %n'
case "$(stat -c '%.9Y' / 2>/dev/null)" in *[0-9].[0-9]*) fmt='%a %u %g %s %.9Y %n' ;; esac
meta() { f=$1; shift; find . -mindepth 1 ! -path "*$nl*" "$@" -exec stat -c "$f" {} + | LC_ALL=C sort; }
same() { [ -z "$have_stat" ] || [ "$(stat -c '%a %u %g' "$1")" = "$(stat -c '%a %u %g' "$2")" ]; }
cd "$o"
if [ -z "$(ls -A)" ] && cp -a "$V/." "$o/" 2>/dev/null; then
	# A first save: one copy of the whole volume, less what is not saved.
	find . -mindepth 1 -path "*$nl*" -prune -exec rm -rf {} +
	find . -type s -exec rm -f {} +
	find . -mindepth 1 -type d > $s/dirs
	find . -mindepth 1 ! -type d > $s/copied
fi
find . -depth -mindepth 1 | while IFS= read -r f; do
	if [ ! -e "$V/$f" ] && [ ! -L "$V/$f" ]; then rm -rf "$f"; echo "$f"; fi
done > $s/removed
if [ -n "$have_stat" ]; then
	meta '%a %u %g %n' -type d > $l/od; meta "$fmt" ! -type d > $l/of
	cd "$V"
	meta '%a %u %g %n' -type d | LC_ALL=C comm -23 - $l/od > $l/d
	meta "$fmt" ! -type d ! -type s | LC_ALL=C comm -23 - $l/of > $l/f
else
	cd "$V"
	find . -mindepth 1 ! -path "*$nl*" -type d | sed 's/^/- - - /' > $l/d
	find . -mindepth 1 ! -path "*$nl*" ! -type d ! -type s | sed 's/^/- - - - - /' > $l/f
fi
while IFS= read -r line; do
	d=${line#* * * }
	if [ -d "$o/$d" ] && [ ! -L "$o/$d" ]; then
		if [ -z "$have_stat" ]; then continue; fi
	else
		rm -rf "$o/$d"; mkdir -p "$o/$d"
	fi
	if [ -n "$have_stat" ]; then
		m=${line%% *} r=${line#* }; u=${r%% *} r=${r#* }; g=${r%% *}
		chown "$u:$g" "$o/$d"; chmod "$m" "$o/$d"
	fi
	echo "$d"
done < $l/d >> $s/dirs
while IFS= read -r line; do
	f=${line#* * * * * }
	if [ -e "$o/$f" ] || [ -L "$o/$f" ]; then
		if [ -L "$f" ] && [ -L "$o/$f" ] && [ "$(readlink "$f")" = "$(readlink "$o/$f")" ] && same "$f" "$o/$f"; then continue; fi
		if [ ! -L "$f" ] && [ ! -L "$o/$f" ] && [ ! -d "$o/$f" ] && same "$f" "$o/$f"; then
			if [ ! "$f" -nt "$o/$f" ] && [ ! "$f" -ot "$o/$f" ]; then continue; fi
			if [ -n "$have_cmp" ] && cmp -s "$f" "$o/$f"; then continue; fi
		fi
		rm -rf "$o/$f"
	fi
	# A file another build removed meanwhile (a shared volume) is left out.
	if cp -a "$f" "$o/$f"; then echo "$f"; elif [ -e "$f" ] || [ -L "$f" ]; then exit 1; fi
done < $l/f >> $s/copied
rm -rf $l
`

// volumeSave is one volume's save to one cache, checked and ready to
// export.
type volumeSave struct {
	vol     lllb.Volume
	cache   Cache
	index   int
	def     *llb.Definition // the save's filesystem
	size    int64           // the volume's size in bytes
	changed int             // entries copied or removed
	over    bool            // larger than the volume's save limit
	empty   bool            // the volume holds nothing: its save stays
	err     error
}

// saveVolumes saves the build's changed volumes to the writable caches.
// It never fails the build: problems are warnings.
func (r *run) saveVolumes(ctx context.Context) {
	v := r.vols
	if v == nil || v.vols == nil || ctx.Err() != nil {
		return
	}
	var saves []*volumeSave
	for i, cache := range v.caches {
		if cache.ro {
			continue
		}
		if cache.kind == "local" {
			if _, err := localCacheWritable(r.e, cache); err != nil {
				continue // warned by dropUnwritableCaches
			}
		}
		for _, vol := range v.vols {
			if !vol.Travel.LocalOnly {
				saves = append(saves, &volumeSave{vol: vol, cache: cache, index: i})
			}
		}
	}
	if len(saves) == 0 {
		return
	}
	// The save builds have no progress display of their own: say what the
	// wait after the build is for.
	var ids []string
	for _, s := range saves {
		if !slices.Contains(ids, s.vol.ID) {
			ids = append(ids, s.vol.ID)
		}
	}
	r.notef("checking cache volume%s %s for changes to save", map[bool]string{true: "", false: "s"}[len(ids) == 1], quoteList(ids))
	if err := r.checkSaves(ctx, saves); err != nil {
		for _, s := range saves {
			r.volumeWarn(s.cache, "was not updated (%v)", rootMessage(err))
		}
		return
	}
	var wg sync.WaitGroup
	for _, s := range saves {
		wg.Go(func() { r.reportSave(ctx, s) })
	}
	wg.Wait()
}

// reportSave exports a checked save when it changed, or says why not.
func (r *run) reportSave(ctx context.Context, s *volumeSave) {
	switch {
	case s.err != nil:
		msg, fix := copyStepMessage(s.vol, s.err)
		r.volumeWarn(s.cache, "was not updated with cache volume %q, first mounted at %s (%s)%s", s.vol.ID, s.vol.Location, msg, fix)
	case s.over:
		r.vols.out.Lock()
		r.warnf("cache volume %q is %s, over its save limit of %s: not saved to %s; raise sdk.SaveLimit or mark the volume sdk.LocalOnly (first mounted at %s)", s.vol.ID, humanBytes(s.size), humanBytes(s.vol.Travel.SaveLimit), s.cache, s.vol.Location)
		r.vols.out.Unlock()
	case s.empty:
		r.notef("cache volume %q is empty: %s keeps its save", s.vol.ID, s.cache)
	case s.changed > 0:
		t0 := time.Now()
		if err := r.exportSave(ctx, s); err != nil {
			if ctx.Err() == nil {
				r.volumeWarn(s.cache, "was not updated with cache volume %q, first mounted at %s (%v)", s.vol.ID, s.vol.Location, rootMessage(err))
			}
			return
		}
		r.notef("saved cache volume %q (%s, %d entries changed) to %s in %.1fs", s.vol.ID, humanBytes(s.size), s.changed, s.cache, time.Since(t0).Seconds())
	default:
		r.notef("cache volume %q unchanged: %s not written", s.vol.ID, s.cache)
	}
}

// notef prints a line on a human-readable progress output (not on quiet
// or machine-readable ones).
func (r *run) notef(format string, args ...any) {
	mode, _ := progressMode(r.e.s.progress)
	if r.e.s.progressOut == nil || (mode != ProgressAuto && mode != ProgressTTY && mode != ProgressPlain) {
		return
	}
	r.vols.out.Lock()
	defer r.vols.out.Unlock()
	fmt.Fprintf(r.e.s.progressOut, format+"\n", args...)
}

// saveOpt is a solve option for the save's builds: the build's session
// (its host directories and credentials), nothing exported.
func (r *run) saveOpt() client.SolveOpt {
	return client.SolveOpt{
		LocalMounts:         r.opt.LocalMounts,
		SharedKey:           r.opt.SharedKey,
		Session:             r.opt.Session,
		OCIStores:           r.opt.OCIStores,
		Internal:            true,
		AllowedEntitlements: r.opt.AllowedEntitlements,
		Ref:                 identity.NewID(),
	}
}

// checkSaves runs each save's sync and reads its status.
func (r *run) checkSaves(ctx context.Context, saves []*volumeSave) error {
	_, err := r.e.c.Build(ctx, r.saveOpt(), "lading", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		var wg sync.WaitGroup
		for _, s := range saves {
			wg.Go(func() { s.err = r.checkSave(ctx, c, s) })
		}
		wg.Wait()
		return gateway.NewResult(), nil
	}, nil)
	return err
}

// checkSave syncs one volume into its save and reads the status.
func (r *run) checkSave(ctx context.Context, c gateway.Client, s *volumeSave) error {
	base := llb.Scratch()
	if b := r.vols.found[s.index][s.vol.ID]; b != nil && b.layers < maxVolumeLayers {
		base = b.state
	}
	limit := ""
	if l := s.vol.Travel.SaveLimit; l > 0 {
		limit = strconv.FormatInt(l/1024, 10)
	}
	ex, err := r.volumeExec(s.vol, saveScript, "save cache volume "+s.vol.ID+" to "+s.cache.String(),
		llb.AddEnv("LIMIT", limit))
	if err != nil {
		return err
	}
	out := ex.AddMount("/lading/out", base)
	status := ex.AddMount("/lading/status", llb.Scratch())
	if s.def, err = out.Marshal(ctx, llb.Platform(r.vols.plat)); err != nil {
		return err
	}
	ref, err := solveRef(ctx, c, status, r.vols.plat)
	if err != nil {
		return err
	}
	size, err := ref.ReadFile(ctx, gateway.ReadRequest{Filename: "size"})
	if err != nil {
		return err
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(size)), 10, 64)
	if err != nil {
		return fmt.Errorf("reading the volume's size %q: %w", size, err)
	}
	s.size = kb * 1024
	if empty, err := ref.ReadFile(ctx, gateway.ReadRequest{Filename: "empty"}); err != nil {
		return err
	} else if strings.TrimSpace(string(empty)) == "yes" {
		s.empty = true
		return nil
	}
	if l := s.vol.Travel.SaveLimit; l > 0 && s.size > l {
		s.over = true
		return nil
	}
	for _, name := range []string{"removed", "dirs", "copied"} {
		dt, err := ref.ReadFile(ctx, gateway.ReadRequest{Filename: name})
		if err != nil {
			return err
		}
		s.changed += strings.Count(string(dt), "\n")
	}
	return nil
}

// exportSave exports a checked save with BuildKit's exporters.
func (r *run) exportSave(ctx context.Context, s *volumeSave) error {
	opt := r.saveOpt()
	var tmp string
	wait := func() error { return nil }
	switch s.cache.kind {
	case "registry":
		ref, err := volumeRef(s.cache.ref, s.vol.ID)
		if err != nil {
			return err
		}
		attrs := map[string]string{"name": ref, "push": "true", "oci-mediatypes": "true"}
		if a, err := r.e.cacheAttrs(s.cache); err == nil && a["registry.insecure"] == "true" {
			attrs["registry.insecure"] = "true"
		}
		opt.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}}
	case "local":
		a, err := r.e.cacheAttrs(s.cache)
		if err != nil {
			return err
		}
		if tmp, err = newLocalSaveDir(a["dir"], s.vol.ID); err != nil {
			return err
		}
		defer os.RemoveAll(tmp) // renamed away when complete
		pr, pw := io.Pipe()
		untarred := make(chan error, 1)
		go func() {
			err := untarLayout(pr, tmp)
			pr.CloseWithError(err)
			untarred <- err
		}()
		defer pw.Close()
		opt.Exports = []client.ExportEntry{{
			Type:   client.ExporterOCI,
			Output: func(map[string]string) (io.WriteCloser, error) { return pw, nil },
			Attrs:  map[string]string{"oci-mediatypes": "true"},
		}}
		wait = func() error { pw.Close(); return <-untarred }
	}
	def := s.def
	_, err := r.e.c.Build(ctx, opt, "lading", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		res, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		if err != nil {
			return nil, err
		}
		return res, nil
	}, nil)
	if werr := wait(); err == nil {
		err = werr
	}
	if err != nil || ctx.Err() != nil {
		return err
	}
	if s.cache.kind == "local" {
		a, _ := r.e.cacheAttrs(s.cache)
		return commitLocalSave(a["dir"], s.vol.ID, tmp)
	}
	return nil
}

// humanBytes writes a size in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
