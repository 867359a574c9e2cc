package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// WithReport makes every build write a self-contained HTML report of the
// run to path (no external assets: inline CSS and SVG): a timeline of its
// steps (start, duration, cached or ran, the engine's address), why each
// step that ran was not cached and the Go line that made it, what each host
// directory sent, and the sizes of the cache volumes the build mounts. The
// file holds every build of the process that wrote to it (the targets of a
// `go run ./ci`), the latest last; it is rewritten atomically after each
// build, also one that failed, whose failed step is marked. Secret values
// are scrubbed. Without the option, the LADING_REPORT environment variable
// names the file. A build option: Connect and With.
//
// A report that cannot be written is a warning ([Summary.Warnings]), never
// a failed build.
func WithReport(path string) Option {
	rf := &reportFile{path: path}
	return func(s *settings) {
		s.only("WithReport", forBuilds, "it is a build option")
		s.run.report = rf
	}
}

// runSettings are the build options of the run report and trace export.
type runSettings struct {
	report *reportFile
	trace  *traceSettings
}

// maxReportBuilds bounds the builds a report file keeps: the oldest go.
const maxReportBuilds = 200

// reportFile is one report file and the builds written to it.
type reportFile struct {
	path string

	mu     sync.Mutex
	builds []reportBuild
}

// envReports are the report files named by LADING_REPORT, by path, so that
// every build of the process adds to the same file.
var envReports struct {
	mu    sync.Mutex
	files map[string]*reportFile
}

// reportFileFor returns the build's report file: the option's, else the
// one LADING_REPORT names, else nil.
func (s *settings) reportFileFor() *reportFile {
	if s.run.report != nil {
		return s.run.report
	}
	p := os.Getenv("LADING_REPORT")
	if p == "" {
		return nil
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	envReports.mu.Lock()
	defer envReports.mu.Unlock()
	if envReports.files == nil {
		envReports.files = map[string]*reportFile{}
	}
	rf, ok := envReports.files[p]
	if !ok {
		rf = &reportFile{path: p}
		envReports.files[p] = rf
	}
	return rf
}

// add appends a build and rewrites the file.
func (f *reportFile) add(b reportBuild) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.builds = append(f.builds, b)
	if len(f.builds) > maxReportBuilds {
		f.builds = f.builds[len(f.builds)-maxReportBuilds:]
	}
	var buf bytes.Buffer
	if err := renderReport(&buf, reportPage{Builds: f.builds, Written: time.Now()}); err != nil {
		return fmt.Errorf("run report %s: %w", f.path, err)
	}
	if err := writeFileAtomic(f.path, buf.Bytes()); err != nil {
		return fmt.Errorf("run report: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path: a reader sees the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
