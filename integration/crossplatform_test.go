package integration

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/sdk"

	"github.com/ladingbuild/lading/internal/testenv"
)

// TestCrossCompiledMultiPlatformImage builds one program for linux/amd64
// and linux/arm64: the Go build runs natively on the build platform and
// cross-compiles for each target, and each target's image gets its own
// binary — no emulation involved (the golang stand-in exists for amd64
// only, so a step run on arm64 could not even start).
func TestCrossCompiledMultiPlatformImage(t *testing.T) {
	eng, env := connect(t)
	build := sdk.From("golang:1.26", sdk.ForPlatform(sdk.BuildPlatform)).
		WithWorkdir("/src").
		WithNewFile("/src/go.mod", "module example.com/cross\n\ngo 1.26\n").
		WithNewFile("/src/main.go", "package main\n\nfunc main() { println(\"hi\") }\n").
		WithEnv("CGO_ENABLED", "0").
		WithExec([]string{"sh", "-c", "GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app ."}, sdk.TargetPlatformEnv())
	app := sdk.Scratch().
		WithFile("/app", build.File("/out/app")).
		WithEntrypoint("/app")

	image := ref(env, t)
	multi := eng.With(engine.WithPlatforms("linux/amd64", "linux/arm64"))
	dgst, err := multi.Publish(t.Context(), app, image)
	require.NoError(t, err)

	repo, _, _ := strings.Cut(strings.TrimPrefix(image, env.Registry+"/"), ":")
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(testenv.RegistryGet(t, env.Registry, "/v2/"+repo+"/manifests/"+dgst, ocispecs.MediaTypeImageIndex), &idx))
	machines := map[string]elf.Machine{}
	for _, m := range idx.Manifests {
		if m.Platform == nil || m.Platform.OS != "linux" {
			continue // attestations
		}
		p := pull(t, env, image, m.Digest.String())
		assert.Equal(t, m.Platform.Architecture, p.Config.Architecture)
		bin := fileInLayers(t, p.Layers, "app")
		f, err := elf.NewFile(bytes.NewReader(bin))
		require.NoError(t, err)
		machines[m.Platform.Architecture] = f.Machine
	}
	assert.Equal(t, map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}, machines)
}

// fileInLayers returns the contents of name from the image's layers.
func fileInLayers(t *testing.T, layers [][]byte, name string) []byte {
	t.Helper()
	for _, l := range layers {
		tr := tar.NewReader(bytes.NewReader(gunzip(t, l)))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			if strings.TrimPrefix(h.Name, "./") == name {
				dt, err := io.ReadAll(tr)
				require.NoError(t, err)
				return dt
			}
		}
	}
	t.Fatalf("%s is in no layer", name)
	return nil
}
