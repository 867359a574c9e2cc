package llb

import (
	"slices"
	"strconv"
	"strings"
)

// PlanService is a service bound to an exec step, as a plan shows it.
type PlanService struct {
	Alias    string
	Command  []string // what the service's container runs: entrypoint + default args
	Ports    []int
	Check    []string
	Location string // Go file:line of AsService
}

// planServices describes op's bindings, sorted by alias.
func planServices(op *ExecOp) []PlanService {
	var out []PlanService
	for _, b := range op.Services {
		s := b.Service
		ps := PlanService{Alias: b.Alias, Ports: slices.Clone(s.Ports), Check: slices.Clone(s.Check), Location: s.Loc.String()}
		if s.Container != nil {
			cfg := s.Container.Settings()
			ps.Command = append(slices.Clone(cfg.Entrypoint), cfg.Cmd...)
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b PlanService) int { return strings.Compare(a.Alias, b.Alias) })
	return out
}

// String renders a binding as alias[:port,port][+check].
func (s PlanService) String() string {
	out := s.Alias
	for i, p := range s.Ports {
		if i == 0 {
			out += ":"
		} else {
			out += ","
		}
		out += strconv.Itoa(p)
	}
	if len(s.Check) > 0 {
		out += "+check"
	}
	return out
}
