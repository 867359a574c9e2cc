package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/ladingbuild/lading/sdk"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// compileValue returns the compile function for an sdk value.
func compileValue(v sdk.Value, rerunFinal bool) compileFunc {
	return func(ctx context.Context, opt lllb.Options) (*lllb.Program, error) {
		opt.RerunFinal = rerunFinal
		return lllb.CompileValue(ctx, v, opt)
	}
}

// Build runs v on the engine and sends the result to outputs. With no
// outputs it only builds (every step runs or is found in the cache). A
// failing step returns an [*ExecError]; a cancelled ctx an error matching
// context.Canceled.
func (e *Engine) Build(ctx context.Context, v sdk.Value, outputs ...Output) (*Result, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("build: nil value")
	}
	for i, o := range outputs {
		if o == nil {
			return nil, fmt.Errorf("build: output %d of %d is nil", i+1, len(outputs))
		}
	}
	return e.build(ctx, request{compile: compileValue(v, false), outputs: outputs, value: v})
}

// Publish builds c and pushes it to a registry under ref and moreTags (see
// [Registry] for the rules), returning the pushed digest ("sha256:…", see
// [Result.Digest]).
// The image carries the config the program set (entrypoint, env, user,
// labels, ports…) on top of its base image's.
func (e *Engine) Publish(ctx context.Context, c *sdk.Container, ref string, moreTags ...string) (string, error) {
	if err := e.usable(); err != nil {
		return "", err
	}
	if c == nil {
		return "", errors.New("publish: nil container")
	}
	if _, err := parseTags(append([]string{ref}, moreTags...)); err != nil {
		return "", err
	}
	res, err := e.Build(ctx, c, Registry(ref, moreTags...))
	if err != nil {
		return "", err
	}
	if res.Digest == "" {
		return "", errors.New("publish: the engine returned no image digest")
	}
	return res.Digest, nil
}

// Stdout builds c and returns what its last exec step wrote to standard
// output. c may be any container of a graph (a stage a later value copies
// from, a step in the middle of a chain): only its own steps are built, up
// to that exec step, which runs again even when its result is cached, so
// that its output exists; the steps before it come from the cache as
// usual. [Engine.Exec] also returns the exit code.
func (e *Engine) Stdout(ctx context.Context, c *sdk.Container) (string, error) {
	res, err := e.Exec(ctx, c)
	if err != nil {
		return "", err
	}
	return res.Stdout, nil
}

// Stderr is like [Engine.Stdout] for standard error.
func (e *Engine) Stderr(ctx context.Context, c *sdk.Container) (string, error) {
	res, err := e.Exec(ctx, c)
	if err != nil {
		return "", err
	}
	return res.Stderr, nil
}

// Export builds v and copies it to the host path: a Directory's contents
// to a directory, a File to a file, a Container's root filesystem to a
// directory. It is Build(ctx, v, LocalPath(path)).
func (e *Engine) Export(ctx context.Context, v sdk.Value, path string) error {
	_, err := e.Build(ctx, v, LocalPath(path))
	return err
}
