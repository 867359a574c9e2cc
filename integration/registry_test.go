package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
)

// connect returns an engine on the test environment and its registry.
func connect(t *testing.T, opts ...engine.Option) (*engine.Engine, testenv.Env) {
	t.Helper()
	env := testenv.Require(t)
	opts = append([]engine.Option{
		engine.WithAddress(env.BuildkitHost),
		engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet),
		engine.WithInsecureRegistry(env.Registry),
	}, opts...)
	eng, err := engine.Connect(t.Context(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { eng.Close() })
	return eng, env
}

// ref names a test image in the local registry.
func ref(env testenv.Env, t *testing.T) string {
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("%s/lading-it/%s:%d", env.Registry, name, time.Now().UnixNano())
}

// pulled is an image as the registry serves it.
type pulled struct {
	Manifest ocispecs.Manifest
	Config   ocispecs.Image
	Raw      []byte // the config JSON
	Layers   [][]byte
}

// pull reads an image back from the registry by reference or digest.
func pull(t *testing.T, env testenv.Env, image, digest string) pulled {
	t.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(image, env.Registry+"/"), ":")
	if digest != "" {
		tag = digest
	}
	var p pulled
	dt := testenv.RegistryGet(t, env.Registry, "/v2/"+repo+"/manifests/"+tag, ocispecs.MediaTypeImageManifest+", application/vnd.docker.distribution.manifest.v2+json")
	require.NoError(t, json.Unmarshal(dt, &p.Manifest))
	p.Raw = testenv.RegistryGet(t, env.Registry, "/v2/"+repo+"/blobs/"+p.Manifest.Config.Digest.String(), "")
	require.NoError(t, json.Unmarshal(p.Raw, &p.Config))
	for _, l := range p.Manifest.Layers {
		p.Layers = append(p.Layers, testenv.RegistryGet(t, env.Registry, "/v2/"+repo+"/blobs/"+l.Digest.String(), ""))
	}
	return p
}
