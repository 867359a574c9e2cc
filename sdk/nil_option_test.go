package sdk_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// TestNilOptionIsAValidationError passes a nil option to every function
// and method of sdk that takes variadic options: each must record a
// ValidationError naming the call and this file, never panic.
func TestNilOptionIsAValidationError(t *testing.T) {
	t.Parallel()
	base := sdk.From("debian:bookworm")
	dir := sdk.NewDirectory().WithNewFile("a.txt", "a")
	file := dir.File("a.txt")
	secret := sdk.SecretFromValue("token", "x")
	sum := "sha256:" + strings.Repeat("a", 64)
	cases := []struct {
		fn string // the declaration, as nilOptionTakers names it
		op string // the ValidationError's Op
		v  func() sdk.Value
	}{
		{"From", "From", func() sdk.Value { return sdk.From("debian:bookworm", nil) }},
		{"Scratch", "Scratch", func() sdk.Value { return sdk.Scratch(nil) }},
		{"Host", "Host", func() sdk.Value { return sdk.Host(".", nil) }},
		{"Git", "Git", func() sdk.Value { return sdk.Git("https://example.com/r.git", "main", nil) }},
		{"HTTP", "HTTP", func() sdk.Value { return sdk.HTTP("https://example.com/f", sum, nil) }},
		{"Container.WithExec", "WithExec", func() sdk.Value { return base.WithExec([]string{"true"}, nil) }},
		{"Container.WithDirectory", "WithDirectory", func() sdk.Value { return base.WithDirectory("/a", dir, nil) }},
		{"Container.WithFile", "WithFile", func() sdk.Value { return base.WithFile("/a", file, nil) }},
		{"Container.WithNewFile", "WithNewFile", func() sdk.Value { return base.WithNewFile("/a", "x", nil) }},
		{"Container.WithNewDirectory", "WithNewDirectory", func() sdk.Value { return base.WithNewDirectory("/a", nil) }},
		{"Container.WithMountedCache", "WithMountedCache", func() sdk.Value { return base.WithMountedCache("/c", sdk.CacheVolume("c"), nil) }},
		{"Container.WithMountedSecret", "WithMountedSecret", func() sdk.Value { return base.WithMountedSecret("/s", secret, nil) }},
		{"Directory.WithDirectory", "Directory.WithDirectory", func() sdk.Value { return dir.WithDirectory("b", dir, nil) }},
		{"Directory.WithFile", "Directory.WithFile", func() sdk.Value { return dir.WithFile("b", file, nil) }},
		{"Directory.WithNewFile", "Directory.WithNewFile", func() sdk.Value { return dir.WithNewFile("b", "x", nil) }},
		{"Container.AsService", "AsService", func() sdk.Value { return base.WithServiceBinding("db", base.AsService(nil)) }},
	}
	var covered []string
	for _, tc := range cases {
		covered = append(covered, tc.fn)
		t.Run(tc.fn, func(t *testing.T) {
			t.Parallel()
			_, err := compile(t, tc.v())
			var verr *sdk.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, tc.op, verr.Op)
			assert.Equal(t, "opts", verr.Arg)
			assert.Equal(t, "sdk/nil_option_test.go", verr.Location.File)
			assert.NotEmpty(t, verr.Fix)
		})
	}
	assert.ElementsMatch(t, nilOptionTakers(t), covered, "every exported sdk function with variadic options needs a case here")
}

// nilOptionTakers lists sdk's exported functions and methods whose last
// parameter is a variadic interface (an option type), as "Name" or
// "Type.Name".
func nilOptionTakers(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	ifaces := map[string]bool{}
	var funcs []*ast.FuncDecl
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						if _, ok := ts.Type.(*ast.InterfaceType); ok {
							ifaces[ts.Name.Name] = true
						}
					}
				}
			case *ast.FuncDecl:
				if d.Name.IsExported() && d.Type.Params.NumFields() > 0 {
					funcs = append(funcs, d)
				}
			}
		}
	}
	var out []string
	for _, d := range funcs {
		last := d.Type.Params.List[len(d.Type.Params.List)-1]
		ell, ok := last.Type.(*ast.Ellipsis)
		if !ok {
			continue
		}
		if id, ok := ell.Elt.(*ast.Ident); !ok || !ifaces[id.Name] {
			continue
		}
		name := d.Name.Name
		if d.Recv != nil {
			recv := d.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			name = recv.(*ast.Ident).Name + "." + name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	require.NotEmpty(t, out)
	return out
}
