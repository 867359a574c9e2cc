package benchgraph

import (
	"testing"

	"github.com/ladingbuild/lading/internal/llb"
)

// TestGraphsAgree checks that both ways give graphs of the same size.
func TestGraphsAgree(t *testing.T) {
	p, err := llb.CompileValue(t.Context(), SDK(3), llb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Raw(3).Marshal(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Def.Def) != len(raw.Def) {
		t.Fatalf("the graphs differ in size: sdk %d ops, llb %d ops", len(p.Def.Def), len(raw.Def))
	}
}
