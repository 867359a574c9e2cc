package lint

import "strings"

// Option tunes a lint run.
type Option interface{ apply(*settings) }

type settings struct {
	pinned    []func(Source) bool
	largeFile int
	failOn    Severity
}

// DefaultLargeFile is the LargeFile threshold unless LargeFileLimit sets
// another: 1 MiB.
const DefaultLargeFile = 1 << 20

func defaults() settings { return settings{largeFile: DefaultLargeFile, failOn: Error} }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

// SourceKind says what a Source is.
type SourceKind string

// Kinds of mutable sources.
const (
	ImageSource SourceKind = "image"
	GitSource   SourceKind = "git"
	HTTPSource  SourceKind = "http"
)

// Source is a mutable source of the graph that lint would call unpinned:
// a base image by tag, a Git ref that is not a commit, or a download
// without a checksum.
type Source struct {
	Kind SourceKind
	// Ref is the normalized image reference
	// ("docker.io/library/golang:1.26"), for Git "URL#ref", for a
	// download its URL.
	Ref string
	// Given is the reference as the program wrote it ("golang:1.26").
	Given string
}

// Pinned lists sources to treat as pinned: image references (as written
// or normalized), Git sources as "URL#ref" and download URLs, pinned somewhere other
// than lading.lock (for the lock, use WithLock): "these tags are pinned
// elsewhere".
func Pinned(refs ...string) Option {
	set := map[string]bool{}
	for _, r := range refs {
		set[strings.TrimSpace(r)] = true
	}
	return PinnedBy(func(s Source) bool { return set[s.Ref] || set[s.Given] })
}

// PinnedBy treats a source as pinned when pinned returns true: the hook a
// lockfile plugs into (a source the lock records is pinned). A nil func is
// ignored.
func PinnedBy(pinned func(Source) bool) Option {
	return optionFunc(func(s *settings) {
		if pinned != nil {
			s.pinned = append(s.pinned, pinned)
		}
	})
}

// LargeFileLimit sets the size in bytes above which WithNewFile contents
// are reported (DefaultLargeFile unless set). Zero or less keeps the
// default.
func LargeFileLimit(bytes int) Option {
	return optionFunc(func(s *settings) {
		if bytes > 0 {
			s.largeFile = bytes
		}
	})
}

// FailOn sets the least severity that fails Check, Report.Failing and
// sdktest.RequireLintClean (Error unless set): FailOn(Warning) fails on
// warnings too.
func FailOn(sev Severity) Option {
	return optionFunc(func(s *settings) { s.failOn = sev })
}

func (s *settings) isPinned(src Source) bool {
	for _, f := range s.pinned {
		if f(src) {
			return true
		}
	}
	return false
}
