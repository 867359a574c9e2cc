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
	for _, dir := range []string{".", "sdktest", "../internal/llb"} {
		checkPublicAPI(t, dir, dir == "../internal/llb")
	}
}

// checkPublicAPI parses dir's non-test files and fails on an exported
// declaration whose type mentions a forbidden package. For internal/llb
// only the types sdk re-exports by alias are checked.
func checkPublicAPI(t *testing.T, dir string, aliasedOnly bool) {
	t.Helper()
	aliased := map[string]bool{"ValidationError": true, "Location": true, "PlanStep": true, "PlanMount": true, "PlanImage": true}
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
				if aliasedOnly || !d.Name.IsExported() {
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
						if !s.Name.IsExported() || (aliasedOnly && !aliased[s.Name.Name]) {
							continue
						}
						check(s.Name.Name, s.Type)
					case *ast.ValueSpec:
						if aliasedOnly {
							continue
						}
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
