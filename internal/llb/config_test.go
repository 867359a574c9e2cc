package llb

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// mapResolver serves fixed image configs.
type mapResolver map[string]ocispecs.Image

func (r mapResolver) ResolveImageConfig(_ context.Context, ref string, _ ocispecs.Platform) (string, []byte, error) {
	img, ok := r[ref]
	if !ok {
		return "", nil, assert.AnError
	}
	dt, err := json.Marshal(img)
	return digest.FromBytes(dt).String(), dt, err
}

func baseConfig() ocispecs.Image {
	created := time.Date(2023, 5, 6, 0, 0, 0, 0, time.UTC)
	img := ocispecs.Image{Created: &created}
	img.Config.Env = []string{"PATH=/usr/bin"}
	img.RootFS.DiffIDs = []digest.Digest{digest.FromString("l1"), digest.FromString("l2")}
	img.History = []ocispecs.History{
		{Created: &created, CreatedBy: "ADD rootfs.tar /"},
		{Created: &created, CreatedBy: "ENV PATH=/usr/bin", EmptyLayer: true},
		{Created: &created, CreatedBy: "RUN apt-get install -y curl"},
	}
	return img
}

func containerAt(line int) *Container {
	loc := func(d int) Location { return Location{File: "ci/main.go", Line: line + d} }
	img := &ImageOp{Ref: "docker.io/library/debian:bookworm", Given: "debian:bookworm"}
	root := &Node{Op: img, Loc: loc(0)}
	root = &Node{Op: &ExecOp{Base: root, Image: img, Args: []string{"make"}}, Loc: loc(1)}
	root = &Node{Op: &MkfileOp{Dest: root, Path: "/etc/app.conf", Data: []byte("x"), Mode: 0o644}, Loc: loc(2)}
	return &Container{Root: root, Image: img}
}

// The image's history is the base image's, then one entry per added layer
// named after its step, dated with the epoch, with no Go call site.
func TestImageHistoryIsWrittenByLading(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1700000000, 0).UTC()
	res := mapResolver{"docker.io/library/debian:bookworm": baseConfig()}
	p, err := Compile(t.Context(), containerAt(10), Options{Resolver: res, Epoch: &epoch})
	require.NoError(t, err)
	h := p.Image.History
	require.Len(t, h, 5)
	assert.Equal(t, baseConfig().History, h[:3], "the base image's own history, unchanged")
	assert.Equal(t, "exec make", h[3].CreatedBy)
	assert.Equal(t, "newfile /etc/app.conf", h[4].CreatedBy)
	for _, e := range h[3:] {
		assert.Equal(t, &epoch, e.Created)
		assert.False(t, e.EmptyLayer)
	}
	assert.Equal(t, &epoch, p.Image.Created)
	dt, err := json.Marshal(p.Image)
	require.NoError(t, err)
	assert.NotContains(t, string(dt), "main.go", "no Go call site in the image config")
}

// Moving the Go lines that make a graph changes neither its image config
// nor its ops; only the progress names (metadata) carry call sites.
func TestCallSitesNeverChangeTheImage(t *testing.T) {
	t.Parallel()
	res := mapResolver{"docker.io/library/debian:bookworm": baseConfig()}
	a, err := Compile(t.Context(), containerAt(10), Options{Resolver: res})
	require.NoError(t, err)
	b, err := Compile(t.Context(), containerAt(11), Options{Resolver: res})
	require.NoError(t, err)
	ca, _ := json.Marshal(a.Image)
	cb, _ := json.Marshal(b.Image)
	assert.JSONEq(t, string(ca), string(cb))
	assert.Equal(t, a.Def.Def, b.Def.Def, "same op bytes")
	assert.ElementsMatch(t, stepIDs(a), stepIDs(b), "same step identities")
}

func stepIDs(p *Program) []string {
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestBaseHistoryMatchesLayers(t *testing.T) {
	t.Parallel()
	h := func(by string, empty bool) ocispecs.History {
		return ocispecs.History{CreatedBy: by, EmptyLayer: empty}
	}
	layers := func(n int) ocispecs.RootFS {
		r := ocispecs.RootFS{}
		for i := range n {
			r.DiffIDs = append(r.DiffIDs, digest.FromString(strings.Repeat("l", i+1)))
		}
		return r
	}
	cases := []struct {
		name   string
		img    ocispecs.Image
		layers int // non-empty entries expected
		total  int
	}{
		{"exact", ocispecs.Image{RootFS: layers(2), History: []ocispecs.History{h("a", false), h("e", true), h("b", false)}}, 2, 3},
		{"missing history", ocispecs.Image{RootFS: layers(2)}, 2, 2},
		{"short history", ocispecs.Image{RootFS: layers(3), History: []ocispecs.History{h("a", false)}}, 3, 3},
		{"surplus history", ocispecs.Image{RootFS: layers(1), History: []ocispecs.History{h("a", false), h("b", false)}}, 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := baseHistory(tc.img)
			n := 0
			for _, e := range got {
				if !e.EmptyLayer {
					n++
				}
			}
			assert.Equal(t, tc.layers, n, "one non-empty entry per layer")
			assert.Len(t, got, tc.total)
		})
	}
}

// The CA bundle is delivered beside the system bundle, never over it, so
// that update-ca-certificates can still rewrite its own file.
func TestCABundleLeavesSystemFilesAlone(t *testing.T) {
	t.Parallel()
	base := &Node{Op: &ImageOp{Ref: "docker.io/library/debian:bookworm", Given: "debian:bookworm"}}
	n := &Node{Op: &ExecOp{Base: base, Args: []string{"apt-get", "install", "ca-certificates"}, Proxy: &Proxy{HTTPS: "http://proxy:3128", CABundle: "/etc/ssl/certs/ca-certificates.crt"}}}
	p, err := Compile(t.Context(), &Container{Root: n}, Options{})
	require.NoError(t, err)
	ex := execOps(t, p)
	require.Len(t, ex, 1)
	var targets []string
	for _, m := range ex[0].Mounts {
		targets = append(targets, m.Dest)
	}
	assert.Contains(t, targets, CABundlePath)
	assert.NotContains(t, targets, "/etc/ssl/certs/ca-certificates.crt")
	assert.NotContains(t, targets, "/etc/pki/tls/certs/ca-bundle.crt")
	assert.Contains(t, ex[0].Meta.Env, "SSL_CERT_FILE="+CABundlePath)
	require.Len(t, p.Secrets, 1)
	assert.True(t, p.Secrets[0].Public, "the CA bundle is public: output is not scrubbed of it")
	assert.True(t, p.UsesProxy)
}
