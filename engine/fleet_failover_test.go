package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// standInFleet is a fleet of three addresses whose builds end as outcome
// says for each address (nil: success), recording the addresses tried.
// It tests what the fleet does with each outcome; the outcomes themselves
// come from real engines in reliability/fleet_test.go.
func standInFleet(outcome func(addr string) error) (*Engine, *[]string) {
	f := &fleet{origin: OriginOption}
	for i := range 3 {
		a := fmt.Sprintf("unix:///e%d.sock", i)
		f.members = append(f.members, &member{addr: a})
		f.seeds = append(f.seeds, seedOf(a))
	}
	var tried []string
	f.attempt = func(on *Engine, _ context.Context, _ request) (*Result, error) {
		tried = append(tried, on.addr)
		if err := outcome(on.addr); err != nil {
			return nil, err
		}
		return &Result{}, nil
	}
	e := &Engine{addr: "fleet", fleet: f, s: defaultSettings()}
	e.s.progress = ProgressQuiet
	e.s.fleet.key = "ci/build"
	return e, &tried
}

func lostAt(addr string) error {
	return (&Engine{addr: addr, origin: OriginOption}).lostError("during the build", errors.New("EOF"))
}

func TestFleetFailover(t *testing.T) {
	t.Parallel()
	order := func(e *Engine) []string {
		var out []string
		for _, m := range e.fleet.order("ci/build") {
			out = append(out, m.addr)
		}
		return out
	}

	t.Run("moves once when its engine goes away", func(t *testing.T) {
		t.Parallel()
		var first string
		e, tried := standInFleet(func(addr string) error {
			if addr == first {
				return lostAt(addr)
			}
			return nil
		})
		o := order(e)
		first = o[0]
		res, err := e.build(t.Context(), request{})
		require.NoError(t, err)
		assert.Equal(t, []string{o[0], o[1]}, *tried)
		assert.Equal(t, Route{Key: "ci/build", Engine: o[1], MovedFrom: o[0], Why: lostAt(o[0]).Error()}, *res.Summary.Route)
		assert.Equal(t, o[1], e.RouteFor("ci/build"), "the dead engine is down for the next builds")
		assert.Empty(t, res.Summary.Warnings, "the move is in the route, not again in the warnings")
	})

	t.Run("moves only once", func(t *testing.T) {
		t.Parallel()
		e, tried := standInFleet(lostAt)
		o := order(e)
		_, err := e.build(t.Context(), request{})
		require.ErrorIs(t, err, ErrNoEngine)
		assert.Equal(t, []string{o[0], o[1]}, *tried)
		assert.Contains(t, err.Error(), "the build moved from engine "+o[0]+", which went away, to "+o[1]+", and failed there too")
	})

	t.Run("a failed step is not retried", func(t *testing.T) {
		t.Parallel()
		step := &ExecError{Step: "go test", ExitCode: 1}
		e, tried := standInFleet(func(string) error { return step })
		_, err := e.build(t.Context(), request{})
		require.ErrorIs(t, err, step)
		assert.Len(t, *tried, 1)
	})

	t.Run("a cancelled build is not retried", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		e, tried := standInFleet(func(addr string) error { cancel(); return lostAt(addr) })
		_, err := e.build(ctx, request{})
		require.ErrorIs(t, err, ErrNoEngine)
		assert.Len(t, *tried, 1)
	})

	t.Run("skips engines that are down, with one warning each", func(t *testing.T) {
		t.Parallel()
		e, tried := standInFleet(func(string) error { return nil })
		o := order(e)
		e.fleet.order("ci/build")[0].markDown(errors.New("connection refused"))
		for i := range 2 {
			res, err := e.build(t.Context(), request{})
			require.NoError(t, err)
			assert.Equal(t, o[1], res.Summary.Route.Engine)
			if i == 0 {
				assert.Equal(t, []string{"engine " + o[0] + " is unreachable, skipped: connection refused"}, res.Summary.Warnings)
			} else {
				assert.Empty(t, res.Summary.Warnings)
			}
		}
		assert.Equal(t, []string{o[1], o[1]}, *tried)
	})

	t.Run("none up", func(t *testing.T) {
		t.Parallel()
		e, tried := standInFleet(func(string) error { return nil })
		for _, m := range e.fleet.members {
			m.markDown(errors.New("connection refused"))
		}
		_, err := e.build(t.Context(), request{})
		require.ErrorIs(t, err, ErrNoEngine)
		assert.Contains(t, err.Error(), "none of the fleet's 3 engines (option) answers")
		assert.Empty(t, *tried)
	})
}
