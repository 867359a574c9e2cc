package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/distribution/reference"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// A cache volume's saves live beside the layer cache: in a registry under
// the cache's tag plus "-vol-NAME" (registry.example.com/app:cache ->
// registry.example.com/app:cache-vol-go-build), in a directory under
// volumes/NAME, a symbolic link to the OCI layout of the last complete
// save. Each save is an image whose layers, stacked, are the volume's
// contents: the previous save's layers plus one of what changed.

// maxVolumeLayers is how many layers a save may stack before the next save
// writes the volume afresh as one layer.
var maxVolumeLayers = 12

// tagSafe matches what a tag may not hold.
var tagSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// volumeFileName is a volume id as it may appear in a tag or a file name: the
// id when it is safe, else a cleaned form with a short hash of the id. "."
// and ".." are not safe (they name a directory of the cache), nor are ids
// holding the markers of a save's own files (".save-", ".tmp-", ".link-").
func volumeFileName(id string) string {
	clean := tagSafe.ReplaceAllString(id, "_")
	if clean == id && len(id) <= 64 && !reservedVolumeName(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	if len(clean) > 48 {
		clean = clean[:48]
	}
	return clean + "-" + hex.EncodeToString(sum[:4])
}

// reservedVolumeName says an id, safe in its characters, would still be
// read as something else in a local cache's volumes directory.
func reservedVolumeName(id string) bool {
	if id == "." || id == ".." {
		return true
	}
	for _, m := range []string{".save-", ".tmp-", ".link-"} {
		if strings.Contains(id, m) {
			return true
		}
	}
	return false
}

// saveEntry says a name in a local cache's volumes directory is one of
// the volume's own saves or temporary directories (marker ".save-" or
// ".tmp-"): the volume's file name, the marker and os.MkdirTemp's digits,
// nothing more, so that another volume's files never match.
func saveEntry(name, volume, marker string) bool {
	rest, ok := strings.CutPrefix(name, volume+marker)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// volumeRef is the registry reference of a volume's saves in a registry
// cache.
func volumeRef(cacheRef, id string) (string, error) {
	n, err := reference.ParseNormalizedNamed(cacheRef)
	if err != nil {
		return "", fmt.Errorf("registry cache %q: %w", cacheRef, err)
	}
	tag := "latest"
	if t, ok := reference.TagNameOnly(n).(reference.Tagged); ok {
		tag = t.Tag()
	}
	tag += "-vol-" + volumeFileName(id)
	if len(tag) > 128 {
		sum := sha256.Sum256([]byte(tag))
		tag = tag[:110] + "-" + hex.EncodeToString(sum[:8])
	}
	t, err := reference.WithTag(reference.TrimNamed(n), tag)
	if err != nil {
		return "", fmt.Errorf("registry cache %q, volume %q: %w", cacheRef, id, err)
	}
	return t.String(), nil
}

// volumeDir is the link to the last save of a volume in a local cache.
func volumeDir(cacheDir, id string) string {
	return filepath.Join(cacheDir, "volumes", volumeFileName(id))
}

// localSave is a complete save found in a local cache.
type localSave struct {
	dir      string // the save's own directory, the link resolved
	manifest ocispecs.Descriptor
	layers   int
}

// readLocalSave reads the last complete save of a volume in a local cache;
// os.ErrNotExist when there is none.
func readLocalSave(cacheDir, id string) (*localSave, error) {
	dir, err := filepath.EvalSymlinks(volumeDir(cacheDir, id))
	if err != nil {
		return nil, err
	}
	dt, err := os.ReadFile(filepath.Join(dir, ocispecs.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(dt, &idx); err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	if len(idx.Manifests) != 1 {
		return nil, fmt.Errorf("%s lists %d images, want 1", dir, len(idx.Manifests))
	}
	s := &localSave{dir: dir, manifest: idx.Manifests[0]}
	if err := s.manifest.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	mdt, err := os.ReadFile(filepath.Join(dir, "blobs", s.manifest.Digest.Algorithm().String(), s.manifest.Digest.Encoded()))
	if err != nil {
		return nil, err
	}
	var m ocispecs.Manifest
	if err := json.Unmarshal(mdt, &m); err != nil {
		return nil, fmt.Errorf("reading %s's manifest: %w", dir, err)
	}
	s.layers = len(m.Layers)
	return s, nil
}

// storeID names a local save's content store in the session.
func (s *localSave) storeID() string {
	sum := sha256.Sum256([]byte(s.dir))
	return "lading-vol-" + hex.EncodeToString(sum[:8])
}

// store opens the save's blobs as a content store.
func (s *localSave) store() content.Store { return layoutStore{dir: s.dir} }

// commitLocalSave makes the OCI layout in tmp the last complete save of
// the volume: tmp is renamed next to the link, and the link replaced in
// one rename. Readers follow the link, so they see the previous save or
// this one, never a part. Saves older than the previous one are removed,
// unless they are the link's target or a minute old at most (a concurrent
// saver's).
func commitLocalSave(cacheDir, id, tmp string) error {
	link := volumeDir(cacheDir, id)
	parent := filepath.Dir(link)
	name := volumeFileName(id)
	final := filepath.Join(parent, name+".save-"+strings.TrimPrefix(filepath.Base(tmp), name+".tmp-"))
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	prev, _ := os.Readlink(link)
	newLink := link + ".link-" + filepath.Base(final)
	if err := os.Symlink(filepath.Base(final), newLink); err != nil {
		return err
	}
	if err := os.Rename(newLink, link); err != nil {
		os.Remove(newLink)
		return err
	}
	// Keep the previous save for readers that resolved the link before,
	// and what another saver may have switched the link to meanwhile: the
	// link's target now, and any save made in the last minute.
	cur, _ := os.Readlink(link)
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		n := e.Name()
		if !saveEntry(n, name, ".save-") || n == filepath.Base(final) || n == filepath.Base(prev) || n == filepath.Base(cur) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > youngSave {
			os.RemoveAll(filepath.Join(parent, n))
		}
	}
	return nil
}

// youngSave is how recent a save must be to be kept for a concurrent
// saver that may be switching the link to it.
const youngSave = time.Minute

// staleSave is how old a temporary save directory must be to be taken for
// the remains of a killed save, and removed.
const staleSave = time.Hour

// newLocalSaveDir makes the temporary directory a save is written to, and
// removes what killed saves left.
func newLocalSaveDir(cacheDir, id string) (string, error) {
	parent := filepath.Dir(volumeDir(cacheDir, id))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	name := volumeFileName(id)
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && saveEntry(e.Name(), name, ".tmp-") && time.Since(info.ModTime()) > staleSave {
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
	return os.MkdirTemp(parent, name+".tmp-")
}
