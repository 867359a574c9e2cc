package llb

import (
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/require"
)

// execOps decodes the exec ops of a compiled program (tests only: the
// engine is handed the program's facts and never decodes it).
func execOps(t *testing.T, p *Program) []*pb.ExecOp {
	t.Helper()
	var out []*pb.ExecOp
	for _, dt := range p.Def.Def {
		var op pb.Op
		require.NoError(t, op.Unmarshal(dt))
		if ex := op.GetExec(); ex != nil {
			out = append(out, ex)
		}
	}
	return out
}
