package llb_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// monorepo writes a small repository: two services, shared module files,
// a docs tree, and a symbolic link to a service.
func monorepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "services/a/main.go", "services/b/main.go", "docs/big.bin", "glob[1]/x"} {
		p := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(f), 0o644))
	}
	require.NoError(t, os.Symlink("a", filepath.Join(dir, "services", "link")))
	return dir
}

// sent compiles v with the fake resolver and returns the include patterns
// of its host directories, one entry per directory sent.
func sent(t *testing.T, v sdk.Value) [][]string {
	t.Helper()
	m, err := llb.ModelOf(v)
	require.NoError(t, err)
	opt := llb.Options{Resolver: fakeResolver{}}
	prog, err := llb.Compile(t.Context(), m, opt)
	require.NoError(t, err)
	oracle, err := llb.CompileStates(t.Context(), m, opt)
	require.NoError(t, err)
	require.Equal(t, oracle.Def.Def, prog.Def.Def, "the State compiler sends the same")
	var out [][]string
	for _, l := range prog.Locals {
		out = append(out, l.Include)
	}
	return out
}

func TestHostSendsOnlyWhatTheGraphReads(t *testing.T) {
	t.Parallel()
	dir := monorepo(t)
	base := sdk.From("golang:1.26")
	cases := []struct {
		name  string
		value func(host func(...sdk.HostOption) *sdk.Directory) sdk.Value
		want  [][]string
	}{
		{"a service and the module file", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithFile("/src/go.mod", h().File("go.mod")).WithDirectory("/src/a", h().Directory("services/a"))
		}, [][]string{{"go.mod", "services/a"}}},
		{"a mounted subdirectory", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithMountedDirectory("/docs", h().Directory("docs")).WithExec([]string{"ls", "/docs"})
		}, [][]string{{"docs"}}},
		{"a path inside another read path", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/s", h().Directory("services")).WithFile("/m", h().File("services/a/main.go"))
		}, [][]string{{"services"}}},
		{"the subdirectory itself is the value", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return h().Directory("services/b")
		}, [][]string{{"services/b"}}},
		{"the whole directory too", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/src", h()).WithDirectory("/a", h().Directory("services/a"))
		}, [][]string{nil}},
		{"a symbolic link on the way", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/a", h().Directory("services/link"))
		}, [][]string{nil}},
		{"a path missing on the host", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/a", h().Directory("services/c"))
		}, [][]string{nil}},
		{"a path that reads as a pattern", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/g", h().Directory("glob[1]"))
		}, [][]string{nil}},
		{"the program's own Include", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return base.WithDirectory("/a", h(sdk.Include("services/")).Directory("services/a"))
		}, [][]string{{"services/"}}},
		{"a host directory built on", func(h func(...sdk.HostOption) *sdk.Directory) sdk.Value {
			return h().WithNewFile("extra", "x").Directory("services/a")
		}, [][]string{nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := func(opts ...sdk.HostOption) *sdk.Directory { return sdk.Host(dir, opts...) }
			require.Equal(t, tc.want, sent(t, tc.value(host)))
		})
	}
}

// Two Host calls for one directory share one upload of what both read.
func TestHostCallsShareOneNarrowedUpload(t *testing.T) {
	t.Parallel()
	dir := monorepo(t)
	v := sdk.From("golang:1.26").
		WithDirectory("/a", sdk.Host(dir).Directory("services/a")).
		WithDirectory("/b", sdk.Host(dir).Directory("services/b"))
	require.Equal(t, [][]string{{"services/a", "services/b"}}, sent(t, v))
}
