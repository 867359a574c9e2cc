package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/inspect"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/sdk"
)

// `lading inspect` reads an image lading pushed, and the same image
// written as an OCI tarball: config, provenance materials, host
// directories.
func TestInspectCommand(t *testing.T) {
	env := testenv.Require(t)
	// No SBOM (pushed images get one by default): the scan is tested in
	// engine, and "sbom: none" below checks that inspect says so.
	e, err := engine.Connect(t.Context(), engine.WithAddress(env.BuildkitHost), engine.Silent(),
		engine.WithProgress(engine.ProgressQuiet), engine.WithInsecureRegistry(env.Registry), engine.WithoutSBOM())
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	tag := fmt.Sprintf("t%d", time.Now().UnixNano())
	src := t.TempDir()
	c := sdk.From("debian:bookworm-slim").
		WithDirectory("/src", sdk.Host(src)).
		WithNewFile("/etc/inspect-test", tag).
		WithUser("10001").
		WithLabel("org.example.test", tag).
		WithEntrypoint("/bin/true")
	ref := env.Registry + "/lading-test/inspect:" + tag
	tar := filepath.Join(t.TempDir(), "image.tar")
	_, err = e.Build(t.Context(), c, engine.Registry(ref), engine.OCITarball(tar))
	require.NoError(t, err)

	for _, target := range []string{ref, tar} {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"inspect", target}, &out, &errOut), "%s", errOut.String())
		s := out.String()
		assert.Contains(t, s, "platform linux/amd64")
		assert.Contains(t, s, "user:       10001")
		assert.Contains(t, s, `entrypoint: ["/bin/true"]`)
		assert.Contains(t, s, "label:      org.example.test="+tag)
		assert.Contains(t, s, "provenance: https://slsa.dev/provenance/v1 (min)")
		assert.Regexp(t, `material: pkg:docker/debian@bookworm-slim\?platform=linux%2Famd64 sha256:[0-9a-f]{64}`, s)
		assert.Regexp(t, `host dir: host-[0-9a-f]+ sha256:[0-9a-f]{64}`, s)
		assert.Contains(t, s, "sbom:       none")

		out.Reset()
		require.NoError(t, run(t.Context(), []string{"inspect", "-json", target}, &out, &errOut))
		var img inspect.Image
		require.NoError(t, json.Unmarshal(out.Bytes(), &img))
		require.Len(t, img.Platforms, 1)
		assert.NotNil(t, img.Platforms[0].Provenance)
	}
}

func TestInspectUsage(t *testing.T) {
	for _, args := range [][]string{{"inspect"}, {"inspect", "a", "b"}, {"inspect", "-nope", "x"}} {
		var out, errOut bytes.Buffer
		require.ErrorIs(t, run(t.Context(), args, &out, &errOut), errUsage, "%v", args)
	}
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"inspect", "127.0.0.1:1/none:1"}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inspect: reading 127.0.0.1:1/none:1")
}
