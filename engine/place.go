package engine

import (
	"fmt"
	"strings"
)

// place is where options are applied: [Connect], [Engine.With] or
// [StartLocal]. Every option says where it has an effect; one given where
// it has none is an error, not silently ignored.
type place uint8

const (
	atConnect place = 1 << iota
	atWith
	atStartLocal
)

// Where each kind of option has an effect.
const (
	// forConnect: finding and dialling the engine.
	forConnect = atConnect
	// forLocal: the local engine lading starts (and Connect's messages).
	forLocal = atConnect | atStartLocal
	// forBuilds: builds, set once at Connect or per copy with With.
	forBuilds = atConnect | atWith
)

func (p place) String() string {
	var names []string
	for _, c := range []struct {
		p    place
		name string
	}{{atConnect, "engine.Connect"}, {atWith, "Engine.With"}, {atStartLocal, "engine.StartLocal"}} {
		if p&c.p != 0 {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, " or ")
}

// only records an error on s when the option name, which has an effect
// only at where, is applied somewhere else. The error is reported by
// Connect or StartLocal, or by every later use of a With copy. The first
// such error wins.
func (s *settings) only(name string, where place, why string) {
	at := s.at
	if at == 0 {
		at = atConnect
	}
	if at&where != 0 || s.err != nil {
		return
	}
	s.err = fmt.Errorf("engine.%s has no effect in %s: %s; pass it to %s", name, at, why, where)
}
