package bundle_test

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/bundle"
)

// twoImages writes two images that share a base layer into OCI layout
// directories, returning the sources and the shared layer's digest.
func twoImages(t *testing.T) ([]bundle.Source, v1.Hash, []v1.Image) {
	t.Helper()
	shared, err := random.Layer(64<<10, types.OCILayer)
	require.NoError(t, err)
	var srcs []bundle.Source
	var imgs []v1.Image
	for i, ref := range []string{"registry.example.com/team/one:1.0", "registry.example.com/team/two:2.0"} {
		own, err := random.Layer(int64(8<<10*(i+1)), types.OCILayer)
		require.NoError(t, err)
		img, err := mutate.AppendLayers(empty.Image, shared, own)
		require.NoError(t, err)
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: mustRootFS(t, img)})
		require.NoError(t, err)
		dir := t.TempDir()
		lp, err := layout.Write(dir, empty.Index)
		require.NoError(t, err)
		require.NoError(t, lp.AppendImage(img))
		srcs = append(srcs, bundle.OCILayout(dir, ref))
		imgs = append(imgs, img)
	}
	d, err := shared.Digest()
	require.NoError(t, err)
	return srcs, d, imgs
}

func mustRootFS(t *testing.T, img v1.Image) v1.RootFS {
	t.Helper()
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	return cf.RootFS
}

// tarEntries lists the names of a tar archive's entries, in order.
func tarEntries(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
}

func TestCreateStoresSharedBlobsOnce(t *testing.T) {
	t.Parallel()
	srcs, shared, imgs := twoImages(t)
	layers, err := imgs[0].Layers()
	require.NoError(t, err)
	sharedSize, err := layers[0].Size()
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "b.tar")
	c, err := bundle.Create(t.Context(), out, srcs)
	require.NoError(t, err)
	require.Len(t, c.Images, 2)
	assert.Equal(t, "registry.example.com/team/one:1.0", c.Images[0].Ref)
	assert.Equal(t, []string{"linux/amd64"}, []string{c.Images[0].Platforms[0].Platform})

	names := tarEntries(t, out)
	assert.Equal(t, []string{"oci-layout", "index.json"}, names[:2], "the layout's files come first")
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	for n, k := range count {
		assert.Equal(t, 1, k, "%s is stored %d times", n, k)
	}
	assert.Equal(t, 1, count["blobs/sha256/"+shared.Hex], "the shared layer is in the bundle")
	// Each image alone weighs more than half the bundle: the shared
	// layer is counted in both images, once in the bundle.
	assert.Equal(t, c.Images[0].Size+c.Images[1].Size-sharedSize, c.Size)
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Less(t, float64(fi.Size())/float64(c.Size), 1.02*1.2, "tar overhead stays small even for tiny images")

	l, err := bundle.List(t.Context(), out)
	require.NoError(t, err)
	assert.Equal(t, c, l)

	// index.json names each image the way containerd and BuildKit do.
	dir := t.TempDir()
	require.NoError(t, tarExtract(out, dir))
	lp, err := layout.FromPath(dir)
	require.NoError(t, err)
	ii, err := lp.ImageIndex()
	require.NoError(t, err)
	im, err := ii.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 2)
	assert.Equal(t, map[string]string{
		"io.containerd.image.name":          "registry.example.com/team/two:2.0",
		"org.opencontainers.image.ref.name": "2.0",
	}, im.Manifests[1].Annotations)
}

// tarExtract unpacks the tar bundle at path into dir.
func tarExtract(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		dt, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, dt, 0o644); err != nil {
			return err
		}
	}
}

func TestAddKeepsAndReplaces(t *testing.T) {
	t.Parallel()
	srcs, _, _ := twoImages(t)
	for _, name := range []string{"dir", "b.tar"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name)
			first, err := bundle.Add(t.Context(), out, srcs[:1])
			require.NoError(t, err)
			blob := func() string {
				if name != "dir" {
					return ""
				}
				return filepath.Join(out, "blobs", "sha256", first.Images[0].Platforms[0].Digest[len("sha256:"):])
			}()
			var before os.FileInfo
			if blob != "" {
				before, err = os.Stat(blob)
				require.NoError(t, err)
			}
			c, err := bundle.Add(t.Context(), out, srcs[1:])
			require.NoError(t, err)
			require.Len(t, c.Images, 2, "the first image stays")
			if blob != "" {
				after, err := os.Stat(blob)
				require.NoError(t, err)
				assert.True(t, os.SameFile(before, after), "a directory bundle keeps its blobs (hard links), it does not copy them")
			}
			// The same reference again replaces the entry.
			again := bundle.OCILayout(srcs[1].String(), "registry.example.com/team/one:1.0")
			c, err = bundle.Add(t.Context(), out, []bundle.Source{again})
			require.NoError(t, err)
			require.Len(t, c.Images, 2)
			assert.Equal(t, c.Images[0].Digest, c.Images[1].Digest, "one:1.0 now names two's image")
			_, err = bundle.Verify(t.Context(), out)
			require.NoError(t, err)
			left, err := filepath.Glob(filepath.Join(filepath.Dir(out), ".*"))
			require.NoError(t, err)
			assert.Empty(t, left, "no temporary files are left beside the bundle")
		})
	}
}

func TestVerifyFindsDamagedBlobs(t *testing.T) {
	t.Parallel()
	srcs, _, imgs := twoImages(t)
	layers, err := imgs[1].Layers()
	require.NoError(t, err)
	own, err := layers[1].Digest()
	require.NoError(t, err)
	cfg, err := imgs[1].ConfigName()
	require.NoError(t, err)
	tests := []struct {
		name    string
		blob    v1.Hash
		damage  func(path string) error
		problem bundle.Problem
		what    string
	}{
		{"flipped byte", own, flipByte, bundle.WrongDigest, "layer 2 of linux/amd64"},
		{"missing", own, os.Remove, bundle.Missing, "layer 2 of linux/amd64"},
		{"truncated", own, func(p string) error { return os.Truncate(p, 10) }, bundle.WrongSize, "layer 2 of linux/amd64"},
		{"config", cfg, flipByte, bundle.WrongDigest, "config of linux/amd64"},
	}
	for _, tt := range tests {
		for _, form := range []string{"dir", "b.tar"} {
			t.Run(tt.name+"/"+form, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "dir")
				_, err := bundle.Create(t.Context(), dir, srcs)
				require.NoError(t, err)
				_, err = bundle.Verify(t.Context(), dir)
				require.NoError(t, err, "a fresh bundle verifies")
				require.NoError(t, tt.damage(filepath.Join(dir, "blobs", "sha256", tt.blob.Hex)))
				path := dir
				if form != "dir" {
					path = filepath.Join(t.TempDir(), form)
					require.NoError(t, tarDir(dir, path))
				}
				_, err = bundle.Verify(t.Context(), path)
				var be *bundle.BlobError
				require.ErrorAs(t, err, &be)
				assert.Equal(t, tt.problem, be.Problem)
				assert.Equal(t, tt.blob.String(), be.Digest)
				assert.Equal(t, "registry.example.com/team/two:2.0", be.Image)
				assert.Equal(t, tt.what, be.What)
				assert.Contains(t, err.Error(), tt.blob.String())
			})
		}
	}
}

func flipByte(path string) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dt[len(dt)/2] ^= 0xff
	return os.WriteFile(path, dt, 0o644)
}

// tarDir archives the layout dir as a tar bundle, the way a user would
// with tar(1).
func tarDir(dir, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(dt)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	notBundle := t.TempDir()
	precious := filepath.Join(notBundle, "precious.txt")
	require.NoError(t, os.WriteFile(precious, []byte("keep"), 0o644))
	srcs, _, _ := twoImages(t)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"no images", func() error { _, err := bundle.Create(t.Context(), filepath.Join(t.TempDir(), "b"), nil); return err }, "no images"},
		{"no path", func() error { _, err := bundle.Create(t.Context(), "", srcs); return err }, "no path"},
		{"not a bundle", func() error { _, err := bundle.Create(t.Context(), notBundle, srcs); return err }, "not a bundle (no index.json): refusing to replace it"},
		{"not a tar bundle", func() error { _, err := bundle.Create(t.Context(), precious, srcs); return err }, "is a file that is not a tar bundle"},
		{"add to a file", func() error { _, err := bundle.Add(t.Context(), precious, srcs); return err }, "is a file that is not a tar bundle"},
		{"list a plain dir", func() error { _, err := bundle.List(t.Context(), t.TempDir()); return err }, "has no index.json"},
		{"bad reference", func() error {
			_, err := bundle.Create(t.Context(), filepath.Join(t.TempDir(), "b"), []bundle.Source{bundle.OCILayout(srcs[0].String(), "Bad:Ref:")})
			return err
		}, `image reference "Bad:Ref:"`},
		{"push with scheme", func() error { _, err := bundle.Push(t.Context(), t.TempDir(), "https://site.example.com"); return err }, "has a scheme"},
		{"push nowhere", func() error { _, err := bundle.Push(t.Context(), t.TempDir(), ""); return err }, "no registry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "bundle"), "errors say where they come from: %v", err)
		})
	}
	dt, err := os.ReadFile(precious)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(dt), "a directory or file that is not a bundle is left alone")
}

// Concurrent Adds to one bundle from one process all land.
func TestConcurrentAddsAllLand(t *testing.T) {
	t.Parallel()
	srcs, _, _ := twoImages(t)
	out := filepath.Join(t.TempDir(), "b.tar")
	refs := []string{"example.com/a:1", "example.com/b:1", "example.com/c:1", "example.com/d:1"}
	var wg sync.WaitGroup
	errs := make([]error, len(refs))
	for i, ref := range refs {
		wg.Go(func() {
			_, errs[i] = bundle.Add(t.Context(), out, []bundle.Source{bundle.OCILayout(srcs[i%2].String(), ref)})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	c, err := bundle.Verify(t.Context(), out)
	require.NoError(t, err)
	var got []string
	for _, img := range c.Images {
		got = append(got, img.Ref)
	}
	assert.ElementsMatch(t, refs, got)
}

// A bundle is a source: a directory bundle becomes a tar one with the
// same images and digests; a damaged one is refused.
func TestBundleAsSource(t *testing.T) {
	t.Parallel()
	srcs, _, imgs := twoImages(t)
	dir := filepath.Join(t.TempDir(), "images")
	c, err := bundle.Create(t.Context(), dir, srcs)
	require.NoError(t, err)
	tar := filepath.Join(t.TempDir(), "images.tar")
	got, err := bundle.Create(t.Context(), tar, []bundle.Source{bundle.Bundle(dir)})
	require.NoError(t, err)
	assert.Equal(t, c, got)

	cfg, err := imgs[0].ConfigName()
	require.NoError(t, err)
	require.NoError(t, flipByte(filepath.Join(dir, "blobs", "sha256", cfg.Hex)))
	_, err = bundle.Create(t.Context(), filepath.Join(t.TempDir(), "again.tar"), []bundle.Source{bundle.Bundle(dir)})
	var be *bundle.BlobError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "config of linux/amd64", be.What)
}

// A tar bundle is listed and verified in place: no room to unpack it is
// needed (here, there is no temporary directory at all).
func TestTarReadInPlace(t *testing.T) {
	srcs, _, _ := twoImages(t)
	out := filepath.Join(t.TempDir(), "b.tar")
	c, err := bundle.Create(t.Context(), out, srcs)
	require.NoError(t, err)
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	got, err := bundle.Verify(t.Context(), out)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	got, err = bundle.List(t.Context(), out)
	require.NoError(t, err)
	assert.Equal(t, c, got)
}
