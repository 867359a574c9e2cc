package hostpaths_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ladingbuild/lading/internal/hostpaths"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dir  bool
		want string // Kind.Name, "" for no match
	}{
		{".env", false, "credentials"},
		{".env.production", false, "credentials"},
		{".env.example", false, ""},
		{"id_rsa", false, "credentials"},
		{"id_ed25519.pub", false, ""},
		{"server.PEM", false, "credentials"},
		{".ssh", true, "credentials"},
		{".ssh", false, ""},
		{".env", true, ""},
		{".git", true, "vcs"},
		{".git", false, ""}, // a worktree's .git file points elsewhere
		{"node_modules", true, "dependencies"},
		{"target", true, "output"},
		{"dist", true, "output"},
		{"main.go", false, ""},
		{"src", true, ""},
	} {
		k, ok := hostpaths.Match(tc.name, tc.dir)
		assert.Equal(t, tc.want != "", ok, "%s dir=%v", tc.name, tc.dir)
		assert.Equal(t, tc.want, k.Name, "%s dir=%v", tc.name, tc.dir)
	}
	assert.True(t, hostpaths.Credentials.Credential)
	assert.False(t, hostpaths.VCS.Credential)
}

func TestSourceFile(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"build.go": true, "Dockerfile": true, "Dockerfile.prod": true, "release.sh": true, "Makefile": true,
		"app": false, "app.js": false, "app.js.map": false, "classes.jar": false, "index.html": false,
	} {
		assert.Equal(t, want, hostpaths.SourceFile(name), name)
	}
}
