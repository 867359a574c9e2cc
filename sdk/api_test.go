package sdk_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// forbidden are import paths whose types must not appear in a public
// signature of sdk or sdktest: users describe builds with lading's own types.
var forbidden = []string{
	"github.com/moby/buildkit",
	"google.golang.org/protobuf",
	"github.com/golang/protobuf",
	"github.com/opencontainers/go-digest",
	"github.com/opencontainers/image-spec",
}

func TestPublicAPIHasNoBuildKitTypes(t *testing.T) {
	for _, dir := range []string{".", "sdktest"} {
		checkPublicAPI(t, dir)
	}
}

// TestPublicTypesAreOwn fails on an exported type of sdk or sdktest that is
// an alias of, is defined as, or embeds a type of another package (such as
// internal/llb): go doc cannot show such a type's fields.
func TestPublicTypesAreOwn(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{".", "sdktest"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || !ts.Name.IsExported() {
					return true
				}
				if ts.Assign.IsValid() {
					t.Errorf("%s: %s is a type alias; define it here with documented fields", name, ts.Name.Name)
				}
				if _, ok := ts.Type.(*ast.SelectorExpr); ok {
					t.Errorf("%s: %s is defined as another package's type", name, ts.Name.Name)
				}
				if st, ok := ts.Type.(*ast.StructType); ok {
					for _, fld := range st.Fields.List {
						if len(fld.Names) == 0 {
							t.Errorf("%s: %s embeds a type; its fields would not show in go doc", name, ts.Name.Name)
						}
					}
				}
				return false
			})
		}
	}
}

// checkPublicAPI parses dir's non-test files and fails on an exported
// declaration whose type mentions a forbidden package.
func checkPublicAPI(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		imports := map[string]string{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			local := filepath.Base(p)
			if im.Name != nil {
				local = im.Name.Name
			}
			imports[local] = p
		}
		check := func(what string, n ast.Node) {
			checked++
			ast.Inspect(n, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok {
					for _, bad := range forbidden {
						if strings.HasPrefix(imports[id.Name], bad) {
							t.Errorf("%s: %s exposes %s.%s from %s", name, what, id.Name, sel.Sel.Name, imports[id.Name])
						}
					}
				}
				return true
			})
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv != nil && !exportedRecv(d.Recv) {
					continue
				}
				check(d.Name.Name, d.Type)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						check(s.Name.Name, s.Type)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && s.Type != nil {
								check(n.Name, s.Type)
							}
						}
					}
				}
			}
		}
	}
	require.NotZero(t, checked, "no declarations checked in %s", dir)
}

func exportedRecv(r *ast.FieldList) bool {
	typ := r.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}
