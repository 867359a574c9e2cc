package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// TestUploadDoesNotHintSourceDirectories: a directory named like build
// output that holds sources (a Go package internal/build, a build/ of
// Dockerfiles and scripts) is not "build output": following such a hint
// would leave the program's own code out of the build. Real output
// (bin/ of binaries, dist/ of bundles) is still hinted.
func TestUploadDoesNotHintSourceDirectories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"go.mod":                  "module x\n",
		"internal/build/build.go": "package build\n",
		"build/ci/Dockerfile":     "FROM scratch\n",
		"cmd/out/main.go":         "package main\n",
		"bin/app":                 "\x7fELF",
		"web/dist/app.js":         "x",
		"web/dist/app.js.map":     "{}",
	})
	locals := []lllb.LocalDir{{Name: "h", Path: dir}}
	mounts, err := localMounts(locals)
	require.NoError(t, err)
	u := newUploads(locals, mounts)
	sendAll(t, u, mounts, "h", nil, nil)
	ups := u.list()
	require.Len(t, ups, 1)
	hints := strings.Join(ups[0].Hints, "\n")
	assert.Contains(t, hints, "sends bin/, build output")
	assert.Contains(t, hints, "sends web/dist/, build output")
	for _, src := range []string{"internal/build/", "build/", "cmd/out/"} {
		assert.NotContains(t, hints, "sends "+src+",", "a directory of sources is not build output")
	}
}
