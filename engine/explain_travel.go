package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/ladingbuild/lading/internal/explain"
)

// Records travel with the caches ([WithCache], LADING_CACHE): after a
// build, its record is saved next to each writable cache — in a local
// cache's records/ directory, or in a registry cache as a one-file image
// tagged TAG-rec-KEY. A build whose machine holds no record of its program
// and target (a fresh CI runner) compares with the one found there: the
// run that produced the cache.

// recordFile is the record's path inside its image.
const recordFile = "/record.json"

// recordRef is the tag of a record in a registry cache.
func recordRef(cacheRef, key string) (string, error) {
	n, err := reference.ParseNormalizedNamed(cacheRef)
	if err != nil {
		return "", fmt.Errorf("registry cache %q: %w", cacheRef, err)
	}
	tag := "latest"
	if t, ok := reference.TagNameOnly(n).(reference.Tagged); ok {
		tag = t.Tag()
	}
	if len(tag) > 90 {
		tag = tag[:90]
	}
	t, err := reference.WithTag(reference.TrimNamed(n), tag+"-rec-"+key)
	if err != nil {
		return "", fmt.Errorf("registry cache %q: %w", cacheRef, err)
	}
	return t.String(), nil
}

// cacheRecords is the record store of a local cache.
func (e *Engine) cacheRecords(c Cache) (explain.Store, error) {
	a, err := e.cacheAttrs(c)
	if err != nil {
		return explain.Store{}, err
	}
	return explain.Store{Dir: filepath.Join(a["dir"], "records")}, nil
}

// loadTravelledRecord looks for the last build's record in the caches
// when this machine has none. Problems are warnings: the build goes on
// with nothing to compare with.
func (r *run) loadTravelledRecord(ctx context.Context, c gateway.Client) {
	ex := r.ex
	if ex == nil || ex.prev != nil {
		return
	}
	caches, err := r.e.travelCaches()
	if err != nil {
		return
	}
	cur := ex.cur
	for _, cache := range caches {
		var rec *explain.Record
		switch cache.kind {
		case "local":
			s, err := r.e.cacheRecords(cache)
			if err == nil {
				rec, err = s.Load(cur.Program, cur.Target)
			}
			if err != nil {
				r.cacheWarnf(cache, "cannot be read (%v): no earlier build to compare with", err)
			}
		case "registry":
			rec = r.registryRecord(ctx, c, cache)
		}
		if rec != nil && rec.Program == cur.Program && rec.Target == cur.Target {
			ex.prev, ex.from = rec, cache.String()
			return
		}
	}
}

// registryRecord reads the record saved in a registry cache, or nil.
func (r *run) registryRecord(ctx context.Context, c gateway.Client, cache Cache) *explain.Record {
	ref, err := recordRef(cache.ref, explain.Key(r.ex.cur.Program, r.ex.cur.Target))
	if err != nil {
		return nil
	}
	plat := r.targets[0]
	_, dgst, _, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &plat, ResolveMode: llb.ResolveModeForcePull.String()},
	})
	if err != nil {
		if !isNotFound(err) {
			r.cacheWarnf(cache, "cannot be read (%v): no earlier build to compare with", err)
		}
		return nil
	}
	def, err := llb.Image(ref+"@"+dgst.String(), llb.Platform(plat), llb.WithCustomName("last build's record from "+cache.String())).Marshal(ctx, llb.Platform(plat))
	if err == nil {
		var res *gateway.Result
		if res, err = c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()}); err == nil {
			var ref gateway.Reference
			if ref, err = res.SingleRef(); err == nil {
				var dt []byte
				if dt, err = ref.ReadFile(ctx, gateway.ReadRequest{Filename: recordFile}); err == nil {
					var rec *explain.Record
					if rec, err = explain.Decode(dt); err == nil {
						return rec
					}
				}
			}
		}
	}
	r.cacheWarnf(cache, "cannot be read (%v): no earlier build to compare with", err)
	return nil
}

// saveTravellingRecord saves the record next to each writable cache,
// unless the cache already holds this very record. Problems are warnings.
func (r *run) saveTravellingRecord(ctx context.Context, rec *explain.Record) {
	caches, err := r.e.travelCaches()
	if err != nil || len(caches) == 0 {
		return
	}
	dt, err := json.Marshal(rec)
	if err != nil {
		return
	}
	for _, cache := range caches {
		if cache.ro || r.cacheFailed(cache) {
			continue // read-only, or already found broken in this build
		}
		var err error
		switch cache.kind {
		case "local":
			var s explain.Store
			if s, err = r.e.cacheRecords(cache); err == nil {
				err = s.Save(rec)
			}
		case "registry":
			err = r.pushRecord(ctx, cache, rec, dt)
		}
		if err != nil {
			r.cacheWarnf(cache, "cannot be written (%v): the build's record is kept on this machine only", err)
		}
	}
}

// pushRecord pushes the record as a one-file image, skipping the push
// when this machine pushed the same steps and results there last.
func (r *run) pushRecord(ctx context.Context, cache Cache, rec *explain.Record, dt []byte) error {
	ref, err := recordRef(cache.ref, explain.Key(rec.Program, rec.Target))
	if err != nil {
		return err
	}
	same := *rec
	same.Time = time.Time{} // the same steps and results, whenever built
	sdt, err := json.Marshal(same)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(sdt)
	refSum := sha256.Sum256([]byte(ref))
	marker := filepath.Join(r.ex.store.Dir, "pushed", hex.EncodeToString(refSum[:16]))
	if old, err := os.ReadFile(marker); err == nil && string(old) == hex.EncodeToString(sum[:]) {
		return nil
	}
	def, err := llb.Scratch().File(llb.Mkfile(recordFile, 0o644, dt), llb.WithCustomName("save the build's record to "+cache.String())).Marshal(ctx)
	if err != nil {
		return err
	}
	attrs := map[string]string{"name": ref, "push": "true", "oci-mediatypes": "true"}
	if a, err := r.e.cacheAttrs(cache); err == nil && a["registry.insecure"] == "true" {
		attrs["registry.insecure"] = "true"
	}
	opt := client.SolveOpt{Session: r.opt.Session, Internal: true, Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}}}
	if _, err := r.e.c.Solve(ctx, def, opt, nil); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(marker), 0o700); err == nil {
		_ = os.WriteFile(marker, []byte(hex.EncodeToString(sum[:])), 0o600)
	}
	return nil
}
