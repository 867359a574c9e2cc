package pipeline

import "github.com/ladingbuild/lading/engine"

// SkipUnchanged lets every build of every target skip the engine when
// nothing it depends on changed since its last successful build
// ([engine.WithSkipUnchanged]: the same graph, base images pinned by
// digest, the same host file contents and outputs). A skipped build's
// [engine.Summary.Skipped] says why. For one target only, build with
// eng.With(engine.WithSkipUnchanged()) inside it instead.
func (p *Pipeline) SkipUnchanged() { p.EngineOptions(engine.WithSkipUnchanged()) }
