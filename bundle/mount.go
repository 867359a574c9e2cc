package bundle

import (
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// mounts remembers which repository of the target registry each blob was
// pushed to, so that later images in other repositories mount it from
// there instead of uploading it again: registries keep blobs per
// repository, and a cross-repository mount costs one request.
type mounts struct {
	mu   sync.Mutex
	from map[v1.Hash]name.Reference
}

func newMounts() *mounts { return &mounts{from: map[v1.Hash]name.Reference{}} }

// layer returns l, mountable from the repository it was pushed to, if
// any.
func (m *mounts) layer(l v1.Layer) v1.Layer {
	h, err := l.Digest()
	if err != nil {
		return l
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ref, ok := m.from[h]; ok {
		return &remote.MountableLayer{Layer: l, Reference: ref}
	}
	return l
}

// pushed records the layers of t as present in ref's repository.
func (m *mounts) pushed(t remote.Taggable, ref name.Reference) {
	var add func(any)
	add = func(x any) {
		switch x := x.(type) {
		case v1.ImageIndex:
			im, err := x.IndexManifest()
			if err != nil {
				return
			}
			for _, d := range im.Manifests {
				switch {
				case d.MediaType.IsIndex():
					if c, err := x.ImageIndex(d.Digest); err == nil {
						add(c)
					}
				case d.MediaType.IsImage():
					if c, err := x.Image(d.Digest); err == nil {
						add(c)
					}
				}
			}
		case v1.Image:
			ls, err := x.Layers()
			if err != nil {
				return
			}
			if cl, err := partial.ConfigLayer(x); err == nil {
				ls = append(ls, cl)
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, l := range ls {
				if h, err := l.Digest(); err == nil {
					if _, ok := m.from[h]; !ok {
						m.from[h] = ref
					}
				}
			}
		}
	}
	add(t)
}

// wrap returns t with its layers mountable where they were pushed before.
func (m *mounts) wrap(t remote.Taggable) remote.Taggable {
	switch x := t.(type) {
	case v1.ImageIndex:
		return &mountIndex{idx: x, m: m}
	case v1.Image:
		return &mountImage{Image: x, m: m}
	}
	return t
}

// mountIndex is an index whose images' layers are mountable.
type mountIndex struct {
	idx v1.ImageIndex
	m   *mounts
}

func (i *mountIndex) MediaType() (types.MediaType, error)       { return i.idx.MediaType() }
func (i *mountIndex) Digest() (v1.Hash, error)                  { return i.idx.Digest() }
func (i *mountIndex) Size() (int64, error)                      { return i.idx.Size() }
func (i *mountIndex) IndexManifest() (*v1.IndexManifest, error) { return i.idx.IndexManifest() }
func (i *mountIndex) RawManifest() ([]byte, error)              { return i.idx.RawManifest() }

func (i *mountIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := i.idx.Image(h)
	if err != nil {
		return nil, err
	}
	return &mountImage{Image: img, m: i.m}, nil
}

func (i *mountIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	idx, err := i.idx.ImageIndex(h)
	if err != nil {
		return nil, err
	}
	return &mountIndex{idx: idx, m: i.m}, nil
}

// mountImage is an image whose layers are mountable.
type mountImage struct {
	v1.Image
	m *mounts
}

func (i *mountImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for k, l := range ls {
		out[k] = i.m.layer(l)
	}
	return out, nil
}

func (i *mountImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return i.m.layer(l), nil
}

// ConfigLayer is the image's config as a blob, mountable like the layers.
func (i *mountImage) ConfigLayer() (v1.Layer, error) {
	cl, err := partial.ConfigLayer(i.Image)
	if err != nil {
		return nil, err
	}
	return i.m.layer(cl), nil
}
