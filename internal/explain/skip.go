package explain

import (
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Unchanged decides whether the build recorded in cur can be skipped
// because it equals prev, the last successful build of the same program
// and target: the same steps (identities, in order), every base image
// pinned by digest, git sources pinned to a commit, the same host file
// contents, the same platform and outputs. It returns why it can be
// skipped, or why not. Anything unpinned or unknown means no skip.
func Unchanged(prev, cur *Record) (reason string, ok bool) {
	if prev == nil {
		return "no earlier successful build of this program and target", false
	}
	if prev.Platform != cur.Platform {
		return fmt.Sprintf("the platform changed: %s → %s", prev.Platform, cur.Platform), false
	}
	if !slices.Equal(prev.Outputs, cur.Outputs) {
		return "the outputs differ from the last build's", false
	}
	if len(prev.Steps) != len(cur.Steps) {
		return fmt.Sprintf("the graph changed: %d steps, the last build had %d", len(cur.Steps), len(prev.Steps)), false
	}
	files := 0
	for i := range cur.Steps {
		s, p := &cur.Steps[i], &prev.Steps[i]
		if s.ID != p.ID {
			return fmt.Sprintf("the graph changed at step %s (%s)", s.Name, s.Location), false
		}
		switch {
		case s.Base != nil:
			if !s.Base.Pinned() {
				return fmt.Sprintf("base image %s is not pinned by digest (%s)", s.Base.given(), s.Location), false
			}
		case s.Op == "git":
			if !pinnedGit(s) {
				return fmt.Sprintf("git source %s is not pinned to a commit (%s)", s.Name, s.Location), false
			}
		case s.Op == "http":
			if !pinnedHTTP(s) { // skip_http.go
				return fmt.Sprintf("download %s has no checksum (%s)", s.Name, s.Location), false
			}
		case s.Host != nil:
			if s.Host.Err != "" || p.Host == nil || p.Host.Err != "" {
				return fmt.Sprintf("the files of %s could not be read (%s)", s.Name, s.Location), false
			}
			if s.Host.Digest != p.Host.Digest {
				return "host files changed: " + hostChange(s, p.Host, ""), false
			}
			files += s.Host.Count
		}
	}
	// After the steps: a changed step changes the image's history too,
	// and the step is the better reason.
	if prev.Result != cur.Result {
		return "the image config, the epoch or the export settings changed", false
	}
	return fmt.Sprintf("unchanged since the build of %s: the same %d steps, base images pinned by digest, %d host files unchanged",
		prev.Time.Local().Format(time.DateTime), len(cur.Steps), files), true
}

var commitRef = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// pinnedGit reports whether a git step checks out a full commit hash.
func pinnedGit(s *Step) bool {
	for _, in := range s.Inputs {
		if in.Kind == "arg" && in.Name == "ref" {
			return commitRef.MatchString(in.Value)
		}
	}
	return false
}
