package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/pipeline"
)

// program is the pipeline program a command reads: a directory holding a
// main package (`go run DIR`), the arguments to give it and the lock file.
type program struct {
	dir  string
	args []string
	lock string
}

// programFlags adds -lock to fs and, after parsing, reads the program's
// directory (default ".") and its arguments (after the directory).
func programFlags(fs *flag.FlagSet) func() (program, error) {
	lockPath := fs.String("lock", "", "the lock file (default: DIR/"+lock.DefaultPath+")")
	return func() (program, error) {
		p := program{dir: "."}
		if rest := fs.Args(); len(rest) > 0 {
			p.dir, p.args = rest[0], rest[1:]
		}
		if st, err := os.Stat(p.dir); err != nil || !st.IsDir() {
			return p, fmt.Errorf("%w: %s is not a directory holding a pipeline program (`go run DIR`)", errUsage, p.dir)
		}
		p.lock = *lockPath
		if p.lock == "" {
			p.lock = filepath.Join(p.dir, lock.DefaultPath)
		}
		return p, nil
	}
}

// ask runs the pipeline program with pipeline.GraphEnv set to mode and
// returns its answer. What the program prints goes to stderr.
func (p program) ask(ctx context.Context, mode string, stderr io.Writer) (*pipeline.GraphAnswer, error) {
	out, err := os.CreateTemp("", "lading-graph-*.json")
	if err != nil {
		return nil, err
	}
	out.Close()
	defer os.Remove(out.Name())
	dir := p.dir
	if !filepath.IsAbs(dir) && dir != "." {
		dir = "./" + filepath.Clean(dir)
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", dir}, p.args...)...)
	cmd.Env = append(os.Environ(), pipeline.GraphEnv+"="+mode, pipeline.GraphOutEnv+"="+out.Name(), pipeline.GraphLockEnv+"="+p.lock)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go run %s: %w", dir, err)
	}
	dt, err := os.ReadFile(out.Name())
	if err != nil {
		return nil, err
	}
	if len(dt) == 0 {
		return nil, fmt.Errorf("go run %s wrote no answer: is it a pipeline program (pipeline.New(...).Main())?", dir)
	}
	var ans pipeline.GraphAnswer
	if err := json.Unmarshal(dt, &ans); err != nil {
		return nil, fmt.Errorf("go run %s: bad answer: %w", dir, err)
	}
	if len(ans.Images) == 0 {
		return nil, errors.New("the pipeline has no images (pipeline.ImageTargets)")
	}
	return &ans, nil
}
