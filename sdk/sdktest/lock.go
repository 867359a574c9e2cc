package sdktest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// defaultLockPlatform is the platform a step with no platform of its own
// is pinned for: the engine's default target.
const defaultLockPlatform = "linux/amd64"

// PlanWithLock is PlanOf with the sources pinned as a build in
// lock.Pinned mode pins them: a "from" step whose tag the lock records for
// its platform (linux/amd64 unless the step names one) reads
// "ref@sha256:…", and an "http" step without a checksum of its own gets
// the checksum the lock records for its URL as its second argument, so
// that a golden plan shows what a locked build pulls. Sources the lock
// does not record stay as written.
func PlanWithLock(v sdk.Value, f *lock.File) *Plan {
	p := PlanOf(v)
	if p.err != nil || f == nil {
		return p
	}
	pinned := *p.p
	pinned.Steps = slices.Clone(p.p.Steps)
	out := &Plan{p: &pinned, m: p.m, image: p.image}
	for i, s := range pinned.Steps {
		if d, ok := lockedDigest(f, s); ok {
			s.Args = slices.Clone(s.Args)
			s.Args[0] += "@" + d
			pinned.Steps[i] = s
		}
		if sum, ok := lockedChecksum(f, s); ok {
			s.Args = append(slices.Clone(s.Args), sum)
			pinned.Steps[i] = s
		}
		out.steps = append(out.steps, newStep(pinned.Steps[i]))
	}
	return out
}

// lockedDigest is the digest the lock records for a from step, if any.
func lockedDigest(f *lock.File, s llb.PlanStep) (string, bool) {
	if s.Op != "from" || len(s.Args) == 0 || strings.Contains(s.Args[0], "@") {
		return "", false
	}
	ref, err := lock.ImageRef(s.Args[0])
	if err != nil {
		return "", false
	}
	platform := s.Platform
	if platform == "" || platform == "build" {
		platform = defaultLockPlatform
	}
	return f.Image(ref, platform)
}

// LockProblems lists what makes the lock stale for values, offline: a
// base image tag, Git ref (not a commit) or download without a checksum
// the graphs pull that the lock does not record, and an entry no graph
// uses any more. It reads no
// registry: a tag moved since the lock was written is what
// `lading lock check` finds.
func LockProblems(f *lock.File, values ...sdk.Value) ([]string, error) {
	if f == nil {
		f = lock.New()
	}
	usedImages := map[string]bool{}
	usedGit := map[string]bool{}
	usedHTTP := map[string]bool{}
	var problems []string
	for _, v := range values {
		p := PlanOf(v)
		if p.err != nil {
			return nil, p.err
		}
		for _, s := range p.p.Steps {
			switch {
			case s.Op == "from" && len(s.Args) > 0 && !strings.Contains(s.Args[0], "@"):
				ref, err := lock.ImageRef(s.Args[0])
				if err != nil {
					return nil, err
				}
				usedImages[ref] = true
				if !f.HasImage(ref) {
					problems = append(problems, fmt.Sprintf("%s: image %s is not recorded", s.Location, ref))
				}
			case s.Op == "git" && len(s.Args) > 1 && !commitID(s.Args[1]):
				usedGit[lock.SourceURL(s.Args[0])+"#"+s.Args[1]] = true
				if _, ok := f.GitCommit(s.Args[0], s.Args[1]); !ok {
					problems = append(problems, fmt.Sprintf("%s: Git %s#%s is not recorded", s.Location, lock.SourceURL(s.Args[0]), s.Args[1]))
				}
			case s.Op == "http" && len(s.Args) == 1:
				usedHTTP[lock.SourceURL(s.Args[0])] = true
				if _, ok := f.Checksum(s.Args[0]); !ok {
					problems = append(problems, fmt.Sprintf("%s: download %s is not recorded", s.Location, lock.SourceURL(s.Args[0])))
				}
			}
		}
	}
	for _, im := range f.Images() {
		if !usedImages[im.Ref] {
			problems = append(problems, fmt.Sprintf("image %s (%s) is recorded but no graph pulls it", im.Ref, im.Platform))
		}
	}
	for _, g := range f.GitRefs() {
		if !usedGit[g.URL+"#"+g.Ref] {
			problems = append(problems, fmt.Sprintf("Git %s#%s is recorded but no graph pulls it", g.URL, g.Ref))
		}
	}
	for _, h := range f.Downloads() {
		if !usedHTTP[h.URL] {
			problems = append(problems, fmt.Sprintf("download %s is recorded but no graph pulls it without a checksum", h.URL))
		}
	}
	slices.Sort(problems)
	return slices.Compact(problems), nil
}

// lockedChecksum is the checksum the lock records for an http step
// without one, if any.
func lockedChecksum(f *lock.File, s llb.PlanStep) (string, bool) {
	if s.Op != "http" || len(s.Args) != 1 {
		return "", false
	}
	return f.Checksum(s.Args[0])
}

// commitID says whether a Git ref is a full commit id.
func commitID(ref string) bool {
	return (len(ref) == 40 || len(ref) == 64) && strings.Trim(ref, "0123456789abcdef") == ""
}

// RequireLockCurrent fails the test unless the lock file at path records
// exactly what values pull (LockProblems): the check that keeps a
// committed lading.lock from going stale in CI. The failure lists each
// problem and says to run `lading lock update`.
//
//	sdktest.RequireLockCurrent(t, "lading.lock", graph.App(), graph.Build())
func RequireLockCurrent(t testing.TB, path string, values ...sdk.Value) {
	t.Helper()
	f, err := lock.Read(path)
	if err != nil {
		t.Fatalf("%v", err)
		return
	}
	problems, err := LockProblems(f, values...)
	if err != nil {
		t.Fatalf("lock check: %v", err)
		return
	}
	if len(problems) > 0 {
		t.Fatalf("%s is stale: run `lading lock update` and commit it:\n  %s", path, strings.Join(problems, "\n  "))
	}
}
