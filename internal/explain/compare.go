package explain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

// NoEarlier is the explanation of a step when there is no earlier build
// to compare with.
const NoEarlier = "no earlier build of this program and target to compare with"

// MaxPaths is how many changed paths an explanation names.
const MaxPaths = 5

// Comparison compares a build (cur) with the previous one (prev) of the
// same program and target, step by step.
type Comparison struct {
	prev, cur *Record
	prevByKey map[string]*Step
	prevByID  map[string]*Step
	curByID   map[string]*Step
	prevPos   map[*Step]int
	curPos    map[string]int
	memo      map[string]string
	// claimed are the previous build's steps that a step of the new one
	// is by call site or identity: no other step is matched to them by
	// position.
	claimed map[*Step]bool
}

// Compare prepares the comparison of cur with prev; prev may be nil (a
// first build).
func Compare(prev, cur *Record) *Comparison {
	c := &Comparison{prev: prev, cur: cur, curByID: index(cur), curPos: map[string]int{}, memo: map[string]string{}}
	for i := range cur.Steps {
		c.curPos[cur.Steps[i].ID] = i
	}
	if prev != nil {
		c.prevByID = index(prev)
		c.prevByKey = map[string]*Step{}
		c.prevPos = map[*Step]int{}
		for i := range prev.Steps {
			c.prevByKey[prev.Steps[i].Key] = &prev.Steps[i]
			c.prevPos[&prev.Steps[i]] = i
		}
		c.claimed = map[*Step]bool{}
		for i := range cur.Steps {
			if p := c.matchKnown(&cur.Steps[i]); p != nil {
				c.claimed[p] = true
			}
		}
	}
	return c
}

func index(r *Record) map[string]*Step {
	if r == nil {
		return map[string]*Step{}
	}
	m := make(map[string]*Step, len(r.Steps))
	for i := range r.Steps {
		m[r.Steps[i].ID] = &r.Steps[i]
	}
	return m
}

// HasPrevious reports whether there is an earlier build to compare with.
func (c *Comparison) HasPrevious() bool { return c.prev != nil }

// Previous is the earlier build's record, or nil.
func (c *Comparison) Previous() *Record { return c.prev }

// Why returns, for the step of the new build with identity id, the first
// of its inputs that differs from the same step of the previous build, in
// words, ending with the step's Go file:line; "" when nothing differs.
// ran reports whether a step of the new build ran (the engine knows, after
// the build); with ran nil (offline), a changed step is taken to re-run.
func (c *Comparison) Why(id string, ran func(id string) bool) string {
	s := c.curByID[id]
	if s == nil {
		return ""
	}
	if c.prev == nil {
		return NoEarlier
	}
	if w, ok := c.memo[id]; ok {
		return w
	}
	c.memo[id] = "" // a record that reads itself in a cycle ends here
	w := c.why(s, ran)
	if w != "" && s.Location != "" {
		w += " (" + s.Location + ")"
	}
	c.memo[id] = w
	return w
}

// match finds the step of the previous build that s is: the one at the
// same call site (by key), else one with the same identity (the code moved),
// else the one at the same position in the graph with the same operation.
// The one at the same position is taken only when no step of the new
// build is that one by call site or identity: a step inserted in the
// middle is new, not the step it pushed along with other arguments.
func (c *Comparison) match(s *Step) *Step {
	if p := c.matchKnown(s); p != nil {
		return p
	}
	if i, ok := c.curPos[s.ID]; ok && i < len(c.prev.Steps) && c.prev.Steps[i].Op == s.Op && !c.claimed[&c.prev.Steps[i]] {
		return &c.prev.Steps[i]
	}
	return nil
}

// matchKnown finds the step of the previous build that s is by call site
// or by identity.
func (c *Comparison) matchKnown(s *Step) *Step {
	if p := c.prevByKey[s.Key]; p != nil && p.Op == s.Op {
		return p
	}
	return c.prevByID[s.ID]
}

func (c *Comparison) why(s *Step, ran func(string) bool) string {
	p := c.match(s)
	if p == nil {
		return fmt.Sprintf("a new step: the last build had no %s step at this line", s.Op)
	}
	if w := inputChange(s, p, c.sameImage); w != "" {
		return w
	}
	if len(s.Parents) != len(p.Parents) {
		return fmt.Sprintf("it reads %d inputs, the last build's step read %d", len(s.Parents), len(p.Parents))
	}
	for i, pid := range s.Parents {
		cp, pp := c.curByID[pid], c.prevByID[p.Parents[i]]
		if cp == nil {
			continue // scratch
		}
		if pp == nil {
			if pid != p.Parents[i] {
				return fmt.Sprintf("it now reads %s (%s), which the last build did not have", cp.Name, cp.Location)
			}
			continue
		}
		if isSource(cp.Op) {
			if w := sourceChange(cp, pp, s, i); w != "" {
				return w
			}
			continue
		}
		switch {
		case ran == nil:
			if c.Why(pid, nil) != "" {
				return fmt.Sprintf("its parent step %s at %s runs again", cp.Name, cp.Location)
			}
		case ran(pid):
			return fmt.Sprintf("its parent step %s at %s ran", cp.Name, cp.Location)
		case pid != p.Parents[i]:
			if w := c.Why(pid, ran); w != "" {
				return fmt.Sprintf("its parent step %s at %s differs from the last build's: %s", cp.Name, cp.Location, w)
			}
		}
		if pid != p.Parents[i] && c.match(cp) != pp {
			// Not the same step, changed: another one (a step was
			// removed, inserted or moved between the two).
			return fmt.Sprintf("it now reads %s at %s, where the last build's step read %s at %s", cp.Name, cp.Location, pp.Name, pp.Location)
		}
	}
	if s.ID != p.ID && !c.onlyIgnored(s, p) {
		return "its inputs differ from the last build's in a way lading does not name (unknown)"
	}
	return ""
}

// isSource reports whether op only brings inputs in.
func isSource(op string) bool {
	switch op {
	case "from", "host", "git", "http":
		return true
	}
	return false
}

// sourceChange says how source cp differs from pp as step s (reading it
// as its i-th input) sees it; "" when it does not.
func sourceChange(cp, pp *Step, s *Step, i int) string {
	if cp.Base != nil && pp.Base != nil {
		if cp.Base.Digest != "" && cp.Base.Digest == pp.Base.Digest {
			// BuildKit keys a base image by its digest: a tag pinned to
			// the image it names (or a pin dropped) changes nothing.
			return ""
		}
		switch {
		case cp.Base.Ref != pp.Base.Ref:
			return fmt.Sprintf("base image changed: %s → %s (from at %s)", pp.Base.given(), cp.Base.given(), cp.Location)
		case cp.Base.Digest != pp.Base.Digest && cp.Base.Digest != "" && pp.Base.Digest != "":
			return fmt.Sprintf("base image %s changed digest: %s → %s (from at %s)", cp.Base.given(), short(pp.Base.Digest), short(cp.Base.Digest), cp.Location)
		}
	}
	if w := inputChange(cp, pp, nil); w != "" {
		return fmt.Sprintf("%s %s", cp.Name, w)
	}
	if cp.Host != nil && pp.Host != nil {
		prefix := ""
		if i < len(s.Selectors) {
			prefix = s.Selectors[i]
		}
		return hostChange(cp, pp.Host, prefix)
	}
	return ""
}

func (b *Base) given() string {
	if b.Given != "" {
		return b.Given
	}
	return b.Ref
}

// short shortens a digest for reading: "sha256:" and 12 hex digits.
func short(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// inputChange names the first of s's own inputs that differs from p's;
// same (nil: none) says when a differing value still means the same
// input to the engine.
func inputChange(s, p *Step, same func(kind, was, now string) bool) string {
	old := map[[2]string]string{}
	for _, in := range p.Inputs {
		old[[2]string{in.Kind, in.Name}] = in.Value
	}
	seen := map[[2]string]bool{}
	for _, in := range s.Inputs {
		k := [2]string{in.Kind, in.Name}
		seen[k] = true
		was, had := old[k]
		switch {
		case !had:
			if from := movedFrom(in, s, p); from != "" {
				return fmt.Sprintf("%s moved: %s → %s", strings.TrimSuffix(strings.TrimSpace(label(in.Kind, "")), " at"), from, in.Name)
			}
			return fmt.Sprintf("%s added: %s", label(in.Kind, in.Name), strconv.Quote(in.Value))
		case was != in.Value && ignoredByEngine(in.Kind, in.Name, s, p):
		case was != in.Value && same != nil && same(in.Kind, was, in.Value):
		case was != in.Value:
			return changed(in.Kind, in.Name, was, in.Value)
		}
	}
	for _, in := range p.Inputs {
		if k := [2]string{in.Kind, in.Name}; !seen[k] {
			return fmt.Sprintf("%s removed (was %s)", label(in.Kind, in.Name), strconv.Quote(in.Value))
		}
	}
	return ""
}

// movedFrom is the name (a mount's target) that input in of s had in p,
// when p had an input of that kind and value under a name s no longer
// has: the mount moved. "" otherwise.
func movedFrom(in Input, s, p *Step) string {
	if in.Name == "" {
		return ""
	}
	for _, was := range p.Inputs {
		if was.Kind != in.Kind || was.Value != in.Value || was.Name == "" || was.Name == in.Name {
			continue
		}
		if !slices.ContainsFunc(s.Inputs, func(x Input) bool { return x.Kind == was.Kind && x.Name == was.Name }) {
			return was.Name
		}
	}
	return ""
}

// sameImage reports whether an exec's base image reference changed
// (kind "image") but resolved to the same image digest in both builds:
// the tag pinned by digest, or the pin dropped.
func (c *Comparison) sameImage(kind, was, now string) bool {
	if kind != "image" {
		return false
	}
	d := imageDigest(c.cur, now)
	return d != "" && d == imageDigest(c.prev, was)
}

// imageDigest is the digest a base image reference (in its short form, as
// an exec's "image" input holds it) resolved to in r, or "".
func imageDigest(r *Record, familiar string) string {
	for _, s := range r.Steps {
		if b := s.Base; b != nil && b.Digest != "" && shortRef(b.Ref) == familiar {
			return b.Digest
		}
	}
	return ""
}

// shortRef is a normalized reference in its short form ("golang:1.26").
func shortRef(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return reference.FamiliarString(n)
}

// label names an input in words.
func label(kind, name string) string {
	switch kind {
	case "arg":
		if name == "" {
			return "arguments"
		}
		return "argument " + name
	case "env":
		return "env " + name
	case "cache":
		return "cache volume at " + name
	case "sharing":
		return "sharing of the cache volume at " + name
	case "mount":
		return "mount " + name
	case "secret-env":
		return "secret env " + name
	case "data":
		return "file contents"
	case "image":
		return "base image"
	}
	if name == "" {
		return kind
	}
	return kind + " " + name
}

func changed(kind, name, was, now string) string {
	if kind == "secret-env" {
		return fmt.Sprintf("secret env %s now reads secret %s (was %s)", name, strconv.Quote(now), strconv.Quote(was))
	}
	if kind == "cache" {
		return fmt.Sprintf("cache volume at %s changed id: %s → %s", name, strconv.Quote(was), strconv.Quote(now))
	}
	return fmt.Sprintf("%s changed: %s → %s", label(kind, name), strconv.Quote(was), strconv.Quote(now))
}

// hostChange names the files of host directory cp that differ from prev,
// under prefix ("" or "/": all).
func hostChange(cp *Step, prev *Host, prefix string) string {
	h := cp.Host
	if h.Err != "" || prev.Err != "" {
		return fmt.Sprintf("files of %s could not be compared (unknown): %s%s", cp.Name, h.Err, prev.Err)
	}
	if h.Digest == prev.Digest {
		return ""
	}
	if h.Files == nil || prev.Files == nil {
		return fmt.Sprintf("files of %s changed (%d files, too many to list)", cp.Name, h.Count)
	}
	paths := changedPaths(h.Files, prev.Files, strings.Trim(prefix, "/"))
	if len(paths) == 0 {
		return ""
	}
	list := paths
	if len(list) > MaxPaths {
		list = list[:MaxPaths]
	}
	more := ""
	if len(paths) > len(list) {
		more = fmt.Sprintf(" and %d more", len(paths)-len(list))
	}
	noun := "files"
	if len(paths) == 1 {
		noun = "file"
	}
	return fmt.Sprintf("%d %s of %s changed: %s%s", len(paths), noun, cp.Name, strings.Join(list, ", "), more)
}

// changedPaths lists, sorted, the paths under prefix that were added,
// removed or changed between two sorted file lists. Directories count
// (BuildKit's content hash covers them): an added or removed one is named
// with a trailing slash unless a path under it is named already, and a
// change of mode or owner alone says so.
func changedPaths(cur, prev []File, prefix string) []string {
	var out, dirs []string
	under := func(p string) bool {
		return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
	}
	add := func(f File, what string) {
		if !under(f.Path) {
			return
		}
		if f.Mode.IsDir() {
			dirs = append(dirs, f.Path+"/ ("+what+")")
			return
		}
		out = append(out, f.Path+" ("+what+")")
	}
	i, j := 0, 0
	for i < len(cur) || j < len(prev) {
		switch {
		case j >= len(prev) || (i < len(cur) && cur[i].Path < prev[j].Path):
			add(cur[i], "added")
			i++
		case i >= len(cur) || prev[j].Path < cur[i].Path:
			add(prev[j], "removed")
			j++
		default:
			a, b := cur[i], prev[j]
			if under(a.Path) {
				if w, ok := fileChange(a, b); ok {
					if a.Mode.IsDir() && b.Mode.IsDir() {
						dirs = append(dirs, a.Path+"/"+w)
					} else {
						out = append(out, a.Path+w)
					}
				}
			}
			i++
			j++
		}
	}
	for _, d := range dirs {
		name, _, _ := strings.Cut(d, "/ (")
		covered := slices.ContainsFunc(out, func(p string) bool { return strings.HasPrefix(p, name+"/") })
		if !covered || !strings.HasSuffix(d, "(added)") && !strings.HasSuffix(d, "(removed)") {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// fileChange reports whether the same path differs between two builds
// (a is the new one) and how, when it is not its content: " (mode …)" or
// " (owner …)".
func fileChange(a, b File) (string, bool) {
	switch {
	case a.Mode.IsDir() != b.Mode.IsDir() || a.Hash != b.Hash && !a.Mode.IsDir():
		return "", true
	case a.Mode != b.Mode:
		return fmt.Sprintf(" (mode %s → %s)", b.Mode, a.Mode), true
	case a.UID != b.UID || a.GID != b.GID:
		return fmt.Sprintf(" (owner %d:%d → %d:%d)", b.UID, b.GID, a.UID, a.GID), true
	}
	return "", false
}

// Changed lists the steps of the new build that differ from the previous
// build's, every step after its inputs, with why; offline, these are the
// steps that will run again (sources excepted: they are read every build).
func (c *Comparison) Changed() []Cause {
	var out []Cause
	for _, s := range c.cur.Steps {
		if isSource(s.Op) {
			continue
		}
		if w := c.Why(s.ID, nil); w != "" {
			out = append(out, Cause{Step: s, Why: w})
		}
	}
	return out
}

// Cause is a step that runs again and why.
type Cause struct {
	Step Step
	Why  string
}

// ignoredByEngine reports whether BuildKit leaves a change of this input
// out of the step's cache key: it clears proxy settings, and a cache mount's id and sharing
// (solver/llbsolver/ops/exec.go, CacheMap), except for the ids of
// Dockerfile's default cache mounts (the mount target, or "NS/target",
// shared).
func ignoredByEngine(kind, target string, s, p *Step) bool {
	if kind == "option" && target == "proxy" {
		return true // proxy settings travel in ProxyEnv, which BuildKit clears too
	}
	if kind != "cache" && kind != "sharing" {
		return false
	}
	return !keyedCache(s, target) && !keyedCache(p, target)
}

// keyedCache reports whether BuildKit keys step s on the id of its cache
// mount at target.
func keyedCache(s *Step, target string) bool {
	var id, sharing string
	for _, in := range s.Inputs {
		switch {
		case in.Kind == "cache" && in.Name == target:
			id = in.Value
		case in.Kind == "sharing" && in.Name == target:
			sharing = in.Value
		}
	}
	if sharing != "shared" {
		return false
	}
	_, trimmed, ok := strings.Cut(id, "/")
	return id == target || (ok && trimmed == target)
}

// onlyIgnored reports whether s and p differ in nothing but inputs the
// engine leaves out of cache keys, or base image references that resolved
// to the same digest.
func (c *Comparison) onlyIgnored(s, p *Step) bool {
	if len(s.Inputs) != len(p.Inputs) {
		return false
	}
	for i, in := range s.Inputs {
		was := p.Inputs[i]
		if in.Kind != was.Kind || in.Name != was.Name {
			return false
		}
		if in.Value != was.Value && !ignoredByEngine(in.Kind, in.Name, s, p) && !c.sameImage(in.Kind, was.Value, in.Value) {
			return false
		}
	}
	return true
}
