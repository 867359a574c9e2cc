package lock

import (
	"fmt"
	"strings"
)

// Mode says how a build uses the lock.
type Mode int

const (
	// Live resolves every source as it is now; the lock is not read.
	Live Mode = iota
	// Pinned uses the digests the lock records and resolves the rest live.
	Pinned
	// Frozen uses the lock and fails on any source it does not record.
	Frozen
)

// String returns the mode's name: "live", "pinned" or "frozen".
func (m Mode) String() string {
	switch m {
	case Live:
		return "live"
	case Pinned:
		return "pinned"
	case Frozen:
		return "frozen"
	}
	return fmt.Sprintf("lock.Mode(%d)", int(m))
}

// ParseMode reads a mode's name (as LADING_LOCK holds it); the empty
// string is Live.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "live":
		return Live, nil
	case "pinned":
		return Pinned, nil
	case "frozen":
		return Frozen, nil
	}
	return Live, fmt.Errorf("lock mode %q: want live, pinned or frozen", s)
}
