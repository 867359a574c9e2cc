package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// Create writes a new bundle at path holding the images of srcs, and
// returns what it holds. path ending in ".tar" is written as a tar
// archive, any other as a directory; a bundle already at path is
// replaced, but a directory that is not a bundle is refused. The bundle is
// assembled beside path and renamed into place when complete: after an
// error or an interrupt (ctx cancelled), path is as it was.
func Create(ctx context.Context, path string, srcs []Source, opts ...Option) (*Contents, error) {
	return write(ctx, path, srcs, false, opts)
}

// Add adds the images of srcs to the bundle at path, creating it when
// there is none. An image whose reference the bundle already holds is
// replaced; blobs the bundle has are not fetched again. Like [Create], it
// is atomic. Writes to one path from one process are serialized, so
// concurrent Adds all land; Adds to one path from several processes at
// once are not (the last to finish wins).
func Add(ctx context.Context, path string, srcs []Source, opts ...Option) (*Contents, error) {
	return write(ctx, path, srcs, true, opts)
}

func write(ctx context.Context, path string, srcs []Source, keep bool, opts []Option) (_ *Contents, err error) {
	if path == "" {
		return nil, errors.New("bundle: no path to write the bundle to")
	}
	if len(srcs) == 0 {
		return nil, errors.New("bundle: no images to write; name at least one")
	}
	o := makeOptions(opts)
	unlock := lockPath(path)
	defer unlock()
	st, err := newStage(ctx, path, keep)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer st.cleanup()
	lp, err := layoutAt(st.dir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	for _, s := range srcs {
		if s == nil {
			return nil, errors.New("bundle: a nil Source; use bundle.Remote, bundle.OCITarball or bundle.Bundle")
		}
		if err := addSource(ctx, lp, s, o); err != nil {
			return nil, fmt.Errorf("bundle: adding %s to %s: %w", s, path, err)
		}
	}
	contents, err := list(st.dir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if err := st.commit(ctx); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return contents, nil
}

// writing serializes writes to one bundle path within this process, so
// that two builds adding to one bundle both land.
var writing sync.Map // absolute path -> *sync.Mutex

func lockPath(path string) func() {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	m, _ := writing.LoadOrStore(abs, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// layoutAt opens the layout in dir, making an empty one when there is
// none.
func layoutAt(dir string) (layout.Path, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		lp := layout.Path(dir)
		// oci-layout is rewritten by every write; make sure it exists.
		return lp, lp.WriteFile("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	}
	return layout.Write(dir, empty.Index)
}

// addSource writes one image into the layout, replacing an entry with the
// same name.
func addSource(ctx context.Context, lp layout.Path, s Source, o *options) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ops, done, err := s.open(ctx, o)
	if err != nil {
		return err
	}
	defer done()
	for _, op := range ops {
		if err := addImage(ctx, lp, op); err != nil {
			return err
		}
	}
	return nil
}

// addImage writes one opened image into the layout.
func addImage(ctx context.Context, lp layout.Path, op *opened) (err error) {
	name := op.name.String()
	same := match.Annotation(AnnotationImageName, name)
	ann := layout.WithAnnotations(annotations(op.name))
	if op.index != nil {
		err = lp.ReplaceIndex(op.index, same, ann)
	} else {
		err = lp.ReplaceImage(op.image, same, ann)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return ctx.Err()
}
