package explain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Store is a directory of records, one per program and target.
type Store struct {
	// Dir is the directory; see DefaultDir.
	Dir string
	// MaxBytes caps the directory's size: after a save, the oldest
	// records are removed until it fits. Zero means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is the default cap of a Store's size.
const DefaultMaxBytes = 64 << 20

// DefaultDir is where records are kept: $LADING_RECORDS if set, else
// lading/records under the user's cache directory ($XDG_CACHE_HOME or
// ~/.cache on Linux).
func DefaultDir() (string, error) {
	if d := os.Getenv("LADING_RECORDS"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory for build records: %w", err)
	}
	return filepath.Join(d, "lading", "records"), nil
}

// Identity is the default program identity: the main module's path and the
// working directory, so two checkouts of one repository keep apart.
func Identity() string {
	name := filepath.Base(os.Args[0])
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Path != "" {
		name = bi.Main.Path
	}
	wd, _ := os.Getwd()
	return name + " in " + wd
}

// History is how many records a store keeps per program and target: the
// newest and older ones that are not the same build. One helper that
// builds several services makes several targets with one key (the last
// step's Go line is the same); each build is compared with the record
// that shares most of its steps ([Store.LoadBest]).
const History = 4

// path is the file of a program and target's record in slot i (0: the
// newest).
func (s Store) path(program, target string) string { return s.slot(program, target, 0) }

func (s Store) slot(program, target string, i int) string {
	if i == 0 {
		return filepath.Join(s.Dir, Key(program, target)+".json")
	}
	return filepath.Join(s.Dir, Key(program, target)+"."+strconv.Itoa(i)+".json")
}

// Key names the record of a program and target in a store or a cache:
// 32 hex digits.
func Key(program, target string) string {
	sum := sha256.Sum256([]byte(program + "\x00" + target))
	return hex.EncodeToString(sum[:16])
}

// Load returns the record of program and target, or nil if there is
// none or it was written by another version of lading. A record that
// cannot be read is an error callers only warn about: it counts as none.
func (s Store) Load(program, target string) (*Record, error) {
	dt, err := os.ReadFile(s.path(program, target))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the last build's record: %w", err)
	}
	r, err := Decode(dt)
	if errors.Is(err, ErrVersion) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.Program != program || r.Target != target {
		return nil, nil
	}
	return r, nil
}

// LoadBest returns the record of program and target that shares most of
// cur's steps: the newest, unless it lacks some of cur's steps and an
// older one has more of them (another target of the same helper, or a
// build the engine may still hold in its cache). Older records are read
// only then. replace is the slot [Store.SaveOver] gives cur: the found
// record's when it has exactly cur's steps (the same build again), else
// none (cur is kept beside it). Errors are as Load's, for the newest
// record; an older one that cannot be read is passed over.
func (s Store) LoadBest(program, target string, cur *Record) (best *Record, replace Slot, err error) {
	best, slot, err := s.loadBest(program, target, cur)
	if best == nil || len(best.Steps) != len(cur.Steps) || shared(best, cur) != len(cur.Steps) {
		return best, NoSlot, err
	}
	replace = Slot{index: slot, checked: true}
	if st, serr := os.Stat(s.slot(program, target, slot)); serr == nil {
		replace.size, replace.mod = st.Size(), st.ModTime()
	}
	return best, replace, err
}

// Slot is where LoadBest found a record, for SaveOver to replace it:
// it remembers the file's size and time, so that a record another build
// wrote there since (a build of another target with the same key, in
// parallel) is kept, not replaced.
type Slot struct {
	index   int
	checked bool
	size    int64
	mod     time.Time
}

// NoSlot replaces no record: SaveOver keeps them all and adds its own.
var NoSlot = Slot{index: -1}

// Index is the slot's position, 0 the newest; -1 for NoSlot.
func (s Slot) Index() int { return s.index }

func (s Store) loadBest(program, target string, cur *Record) (best *Record, slot int, err error) {
	best, err = s.Load(program, target)
	if err != nil {
		best = nil
	}
	slot = -1
	score := -1
	if best != nil {
		slot, score = 0, shared(best, cur)
		if score == len(cur.Steps) {
			return best, slot, nil
		}
	}
	for i := 1; i < History; i++ {
		dt, rerr := os.ReadFile(s.slot(program, target, i))
		if rerr != nil {
			continue
		}
		r, derr := Decode(dt)
		if derr != nil || r.Program != program || r.Target != target {
			continue
		}
		if n := shared(r, cur); n > score {
			best, slot, score = r, i, n
		}
	}
	return best, slot, err
}

// shared counts the steps of cur that r has too.
func shared(r, cur *Record) int {
	ids := make(map[string]bool, len(r.Steps))
	for _, s := range r.Steps {
		ids[s.ID] = true
	}
	n := 0
	for _, s := range cur.Steps {
		if ids[s.ID] {
			n++
		}
	}
	return n
}

// Decode parses a record's JSON.
func Decode(dt []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(dt, &r); err != nil {
		return nil, fmt.Errorf("decoding a build record: %w", err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("build record of version %d (want %d; written by another version of lading, so record both builds with this one): %w", r.Version, Version, ErrVersion)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("decoding a build record: %w", err)
	}
	return &r, nil
}

// check refuses a record that the engine would never write: a step
// listed twice, or one that reads itself or a step listed after it (the
// engine lists every step after the ones it reads; a parent that is not
// listed at all is the empty filesystem).
func (r *Record) check() error {
	pos := make(map[string]int, len(r.Steps))
	for i, s := range r.Steps {
		if s.ID == "" {
			return fmt.Errorf("step %d (%q) has no id: the record is damaged", i+1, s.Name)
		}
		if _, dup := pos[s.ID]; dup {
			return fmt.Errorf("step %d (%q) is listed twice: the record is damaged", i+1, s.Name)
		}
		pos[s.ID] = i
	}
	for i, s := range r.Steps {
		for _, p := range s.Parents {
			if j, ok := pos[p]; ok && j >= i {
				return fmt.Errorf("step %d (%q) reads step %d, listed at or after it: the record is damaged", i+1, s.Name, j+1)
			}
		}
	}
	return nil
}

// ErrVersion means a record was written by another version of lading.
var ErrVersion = errors.New("unknown build record version")

// Save writes r atomically as the newest record of its program and
// target, replacing the newest (a temporary file renamed over the old
// one), then trims the directory to its cap.
func (s Store) Save(r *Record) error { return s.SaveOver(r, Slot{}) }

// SaveOver writes r as the newest record of its program and target; the
// record in slot (from LoadBest: one with r's very steps, or NoSlot) is
// dropped — unless its file changed since it was read: then it is kept
// too — the ones newer than it each move one slot older, and beyond
// History the oldest goes. Renames only: no record is rewritten.
func (s Store) SaveOver(r *Record, at Slot) error {
	slot := at.index
	if at.checked && slot >= 0 {
		if st, err := os.Stat(s.slot(r.Program, r.Target, slot)); err != nil || st.Size() != at.size || !st.ModTime().Equal(at.mod) {
			slot = -1
		}
	}
	if slot < 0 || slot >= History {
		slot = History - 1
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("saving the build record: %w", err)
	}
	for i := slot; i > 0; i-- {
		if err := os.Rename(s.slot(r.Program, r.Target, i-1), s.slot(r.Program, r.Target, i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("saving the build record: %w", err)
		}
	}
	return s.write(r)
}

// write writes r atomically as the newest record of its program and
// target, then trims the directory to its cap.
func (s Store) write(r *Record) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("saving the build record: %w", err)
	}
	dt, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the build record: %w", err)
	}
	f, err := os.CreateTemp(s.Dir, ".record-*")
	if err != nil {
		return fmt.Errorf("saving the build record: %w", err)
	}
	_, err = f.Write(dt)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.path(r.Program, r.Target))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("saving the build record: %w", err)
	}
	return s.trim()
}

// trim removes the oldest records until the directory fits its cap.
func (s Store) trim() error {
	limit := s.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("trimming build records: %w", err)
	}
	type rec struct {
		name string
		size int64
		mod  int64
	}
	var recs []rec
	var total int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		recs = append(recs, rec{e.Name(), info.Size(), info.ModTime().UnixNano()})
		total += info.Size()
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].mod < recs[j].mod })
	for len(recs) > 1 && total > limit {
		if err := os.Remove(filepath.Join(s.Dir, recs[0].name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("trimming build records: %w", err)
		}
		total -= recs[0].size
		recs = recs[1:]
	}
	return nil
}
