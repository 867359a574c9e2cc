package engine

// explainSettings are the options of explanations, records and skipping.
type explainSettings struct {
	off     bool   // WithoutExplanations
	dir     string // WithRecords; "" means explain.DefaultDir
	program string // WithProgramName; "" means explain.Identity
	skip    bool   // WithSkipUnchanged
}

// WithoutExplanations turns off explained cache misses: no record of the
// build is read or written and [StepSummary.Why] stays empty. A build
// option: Connect and With.
func WithoutExplanations() Option {
	return func(s *settings) {
		s.only("WithoutExplanations", forBuilds, "it is a build option")
		s.explain.off = true
	}
}

// WithRecords keeps the records that explanations compare builds with in
// dir instead of the default, $LADING_RECORDS or lading/records under the
// user's cache directory. A build option: Connect and With.
func WithRecords(dir string) Option {
	return func(s *settings) {
		s.only("WithRecords", forBuilds, "it is a build option")
		s.explain.dir = dir
	}
}

// WithProgramName names the program whose builds are compared: a build is
// compared with the last one of the same program and target (the Go line
// that made the built value, and its outputs). The default is the main
// module's path and the working directory. A build option: Connect and
// With.
func WithProgramName(name string) Option {
	return func(s *settings) {
		s.only("WithProgramName", forBuilds, "it is a build option")
		s.explain.program = name
	}
}

// WithSkipUnchanged lets a build skip the engine entirely when nothing it
// depends on changed since the last successful build of the same program,
// target and outputs: the same graph, every base image pinned by digest
// ("golang:1.26@sha256:…"; a tag can move, so it never skips), git sources
// pinned to a commit, and the same host file contents. The result then
// has [Summary.Skipped] set to the reason and the last build's digest. Only
// builds without outputs and registry pushes are skipped, a push only
// while every tag still names the image the last build pushed (the
// registry is asked, not the engine); files written to the host are
// rebuilt. A build option: Connect and With (per build:
// eng.With(engine.WithSkipUnchanged()).Build(…)).
func WithSkipUnchanged() Option {
	return func(s *settings) {
		s.only("WithSkipUnchanged", forBuilds, "it is a build option")
		s.explain.skip = true
	}
}
