package integration

import (
	"fmt"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/internal/testenv/testengine"
)

// connect returns an engine on the test environment and its registry.
func connect(t *testing.T, opts ...engine.Option) (*engine.Engine, testenv.Env) {
	t.Helper()
	return testengine.Connect(t, opts...)
}

// ref names a test image in the local registry.
func ref(env testenv.Env, t *testing.T) string {
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return fmt.Sprintf("%s/lading-it/%s:%s", env.Registry, name, testenv.Token(t))
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
	img := testenv.PullImage(t, env.Registry, repo, tag)
	return pulled{Manifest: img.Manifest, Config: img.Config, Raw: img.RawConfig, Layers: img.Layers}
}
