package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// The environment of a pipeline program run by a lading command (`lading
// lint ./ci`, `lading lock update ./ci`): instead of running targets, the
// program describes its images' graphs and writes the answer to
// GraphOutEnv's file as JSON (a GraphAnswer).
const (
	// GraphEnv says what the command wants: GraphLint or GraphLock.
	GraphEnv = "LADING_PIPELINE_GRAPH"
	// GraphOutEnv is the file the answer is written to.
	GraphOutEnv = "LADING_PIPELINE_GRAPH_OUT"
	// GraphLockEnv is the lock file lint reads (lint.WithLock), if it
	// exists.
	GraphLockEnv = "LADING_PIPELINE_GRAPH_LOCK"
)

// What a command asks a pipeline program for.
const (
	// GraphLint lints every image (offline): the answer's Lint and Text.
	GraphLint = "lint"
	// GraphLock resolves every image's sources live through the
	// pipeline's engine (with its EngineOptions): the answer's Lock.
	GraphLock = "lock"
)

// GraphAnswer is what a pipeline program run with GraphEnv writes.
type GraphAnswer struct {
	// Pipeline is the pipeline's name.
	Pipeline string `json:"pipeline"`
	// Images names the images described, in ImageTargets order.
	Images []string `json:"images"`
	// Lint holds each image's lint report (GraphLint), and Text the same
	// findings for people.
	Lint json.RawMessage `json:"lint,omitempty"`
	Text string          `json:"text,omitempty"`
	// Failing counts the findings that fail the check (GraphLint).
	Failing int `json:"failing"`
	// Lock is the lock file the images' sources resolve to now
	// (GraphLock), as lock.File.Bytes writes it.
	Lock json.RawMessage `json:"lock,omitempty"`
}

// graphRun answers a lading command instead of running targets, when
// GraphEnv is set; false when it is not.
func (p *Pipeline) graphRun(ctx context.Context) (bool, error) {
	mode := os.Getenv(GraphEnv)
	if mode == "" {
		return false, nil
	}
	out := os.Getenv(GraphOutEnv)
	if out == "" {
		return true, fmt.Errorf("%s is set but %s, the file to answer in, is not", GraphEnv, GraphOutEnv)
	}
	ans := GraphAnswer{Pipeline: p.name, Images: []string{}}
	var values []sdk.Value
	for _, img := range p.images {
		if img.Build == nil {
			return true, fmt.Errorf("image %q has no Build function", img.Name)
		}
		ans.Images = append(ans.Images, img.Name)
		values = append(values, img.Build())
	}
	var err error
	switch mode {
	case GraphLint:
		err = p.graphLint(&ans)
	case GraphLock:
		err = p.graphLock(ctx, &ans, values)
	default:
		err = fmt.Errorf("%s=%q: want %q or %q", GraphEnv, mode, GraphLint, GraphLock)
	}
	if err != nil {
		return true, err
	}
	dt, err := json.Marshal(ans)
	if err != nil {
		return true, err
	}
	return true, os.WriteFile(out, dt, 0o600)
}

// withLock adds to opts the lock file at path (lint.WithLock: what it
// records counts as pinned), when path is set and the file exists.
func withLock(opts []lint.Option, path string) ([]lint.Option, error) {
	opts = append([]lint.Option(nil), opts...)
	if path == "" {
		return opts, nil
	}
	f, err := lock.Read(path)
	switch {
	case err == nil:
		opts = append(opts, lint.WithLock(f))
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	return opts, nil
}

// graphLint lints the images with the lint target's options and the lock.
func (p *Pipeline) graphLint(ans *GraphAnswer) error {
	opts, err := withLock(p.lintOpts, os.Getenv(GraphLockEnv))
	if err != nil {
		return err
	}
	var js, text bytes.Buffer
	err = lintImages(&js, Lint{Images: p.images, Options: opts}, true)
	if err != nil && !errors.Is(err, errLintFailed) {
		return err
	}
	var doc struct {
		Failing int `json:"failing"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		return err
	}
	ans.Lint, ans.Failing = json.RawMessage(bytes.TrimSpace(js.Bytes())), doc.Failing
	if err := lintImages(&text, Lint{Images: p.images, Options: opts}, false); err != nil && !errors.Is(err, errLintFailed) {
		return err
	}
	ans.Text = text.String()
	return nil
}

// graphLock resolves the images' sources through the pipeline's engine.
func (p *Pipeline) graphLock(ctx context.Context, ans *GraphAnswer, values []sdk.Value) error {
	eng, err := p.connect(ctx, p.engOpts...)
	if err != nil {
		return err
	}
	if eng == nil {
		return errors.New("the pipeline gave no engine")
	}
	defer eng.Close()
	f, err := eng.Lock(ctx, values...)
	if err != nil {
		return err
	}
	ans.Lock = json.RawMessage(bytes.TrimSpace(f.Bytes()))
	return nil
}
