package engine

import (
	"slices"
	"strings"
)

// scrubMask replaces secret values in output.
const scrubMask = "***"

// scrubber replaces known secret values with "***". The zero value and nil
// scrub nothing.
type scrubber struct {
	r *strings.Replacer
}

// newScrubber returns a scrubber for the given secret values. Each value is
// scrubbed whole; a multi-line value is also scrubbed line by line (lines of
// 8 bytes or more), since programs often print such secrets one line at a
// time.
func newScrubber(values [][]byte) *scrubber {
	set := map[string]bool{}
	for _, v := range values {
		s := string(v)
		if strings.TrimSpace(s) == "" {
			continue
		}
		set[s] = true
		if t := strings.TrimSpace(s); t != s {
			set[t] = true
		}
		if strings.Contains(s, "\n") {
			for _, line := range strings.Split(s, "\n") {
				if line = strings.TrimSpace(line); len(line) >= 8 {
					set[line] = true
				}
			}
		}
	}
	if len(set) == 0 {
		return &scrubber{}
	}
	olds := make([]string, 0, len(set))
	for s := range set {
		olds = append(olds, s)
	}
	// Longest first, so a value containing another is masked whole.
	slices.SortFunc(olds, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(olds))
	for _, s := range olds {
		pairs = append(pairs, s, scrubMask)
	}
	return &scrubber{r: strings.NewReplacer(pairs...)}
}

// String scrubs s.
func (s *scrubber) String(x string) string {
	if s == nil || s.r == nil {
		return x
	}
	return s.r.Replace(x)
}

// Bytes scrubs b.
func (s *scrubber) Bytes(b []byte) []byte {
	if s == nil || s.r == nil {
		return b
	}
	return []byte(s.r.Replace(string(b)))
}

// active reports whether there is anything to scrub.
func (s *scrubber) active() bool { return s != nil && s.r != nil }

// Error scrubs err's message, keeping err for errors.Is and errors.As.
func (s *scrubber) Error(err error) error {
	if err == nil || !s.active() {
		return err
	}
	msg := err.Error()
	clean := s.String(msg)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

// scrubbedError is an error whose message had secret values removed.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
