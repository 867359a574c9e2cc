package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/ladingbuild/lading/engine"
)

// The start metric: from nothing (empty state and runtime directories) to
// a local engine that answers, when the buildkitd binary exists. lading:
// engine.StartLocal with XDG_RUNTIME_DIR and XDG_CACHE_HOME pointing at
// fresh temporary directories, then a Connect that gets an answer; the
// engine is stopped with StopLocal after each run, untimed. The peer
// column is the floor: the same buildkitd started by hand with the same
// flags, polled with the BuildKit client until it answers.

const startTarget = 0.5 // seconds

// withXDG runs f with XDG_RUNTIME_DIR and XDG_CACHE_HOME set to the given
// directories, restoring them afterwards. The engine package reads these
// variables to place the local engine.
func withXDG(runtimeDir, cacheDir string, f func() error) error {
	restore := func(name string) func() {
		old, had := os.LookupEnv(name)
		return func() {
			if had {
				os.Setenv(name, old)
			} else {
				os.Unsetenv(name)
			}
		}
	}
	defer restore("XDG_RUNTIME_DIR")()
	defer restore("XDG_CACHE_HOME")()
	os.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	os.Setenv("XDG_CACHE_HOME", cacheDir)
	return f()
}

// startLading times StartLocal plus the first answer, then stops it. It
// also returns the part StartLocal took.
func startLading(ctx context.Context, c *config, dir string) (secs, startPart float64, err error) {
	err = withXDG(filepath.Join(dir, "run"), filepath.Join(dir, "cache"), func() error {
		var err error
		secs, err = timed(func() error {
			t0 := time.Now()
			info, err := engine.StartLocal(ctx, engine.WithBuildkitd(c.buildkitd), engine.Silent())
			startPart = time.Since(t0).Seconds()
			if err != nil {
				return err
			}
			eng, err := engine.Connect(ctx, engine.WithAddress(info.Address), engine.Silent())
			if err != nil {
				return err
			}
			return eng.Close()
		})
		if stopErr := engine.StopLocal(context.WithoutCancel(ctx)); err == nil {
			err = stopErr
		}
		return err
	})
	return secs, startPart, err
}

// startRaw times buildkitd started by hand until a client gets an answer,
// then stops it.
func startRaw(ctx context.Context, c *config, dir string) (float64, error) {
	sock := filepath.Join(dir, "buildkitd.sock")
	addr := "unix://" + sock
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	var cmd *exec.Cmd
	secs, err := timed(func() error {
		if err := os.MkdirAll(filepath.Join(dir, "root"), 0o711); err != nil {
			return err
		}
		cmd = exec.Command(c.buildkitd, "--root", filepath.Join(dir, "root"), "--addr", addr,
			"--oci-worker=true", "--oci-worker-snapshotter=overlayfs", "--oci-worker-binary=runc", "--containerd-worker=false")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			return err
		}
		// The floor: dial the socket every 5ms, then ask for Info once it
		// accepts (buildkitd listens only when it is ready to serve).
		deadline := time.Now().Add(30 * time.Second)
		for {
			if conn, err := net.Dial("unix", sock); err == nil {
				conn.Close()
				cl, err := client.New(ctx, addr)
				if err == nil {
					_, err = cl.Info(ctx)
					cl.Close()
					if err == nil {
						return nil
					}
				}
			}
			if time.Now().After(deadline) {
				return errors.New("buildkitd did not answer within 30s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	if cmd != nil && cmd.Process != nil {
		// Teardown after the measurement: the process is ours and is being
		// stopped, so its exit status (a signal) says nothing, and a failed
		// Signal means it already exited; Kill is the fallback.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	return secs, err
}

func runStart(ctx context.Context, c *config) []Row {
	rows := []Row{newRow("engine-start", Seconds, Absolute, startTarget)}
	if c.buildkitd == "" {
		return failed(rows, errors.New("no buildkitd binary: run bash hack/testenv.sh up, or pass -buildkitd"))
	}
	if os.Geteuid() != 0 {
		return failed(rows, errors.New("starting a local engine needs root"))
	}
	n := 0
	fresh := func() (string, error) {
		n++
		return os.MkdirTemp(c.work, fmt.Sprintf("start-%d-", n))
	}
	var startParts []float64
	ladingSide := func(ctx context.Context, c *config, dir string) (float64, error) {
		secs, part, err := startLading(ctx, c, dir)
		startParts = append(startParts, part)
		return secs, err
	}
	side := func(f func(context.Context, *config, string) (float64, error)) func(int) (float64, error) {
		return func(int) (float64, error) {
			dir, err := fresh()
			if err != nil {
				return 0, err
			}
			defer os.RemoveAll(dir)
			return f(ctx, c, dir)
		}
	}
	// One untimed start of each first: page cache, binary loaded.
	if _, err := interleave(1, side(ladingSide), side(startRaw)); err != nil {
		return failed(rows, err)
	}
	startParts = nil
	p, err := interleave(c.runs, side(ladingSide), side(startRaw))
	if err != nil {
		return failed(rows, err)
	}
	for i := range p.a {
		c.logf("engine start run %d/%d: lading %s, buildkitd by hand %s", i+1, c.runs, formatValue(p.a[i], Seconds), formatValue(p.b[i], Seconds))
	}
	rows[0] = p.row("engine-start", Seconds, Absolute, startTarget)
	rows[0].Note = fmt.Sprintf("engine.StartLocal + first answer (Connect), fresh state each time, binary %s; peer column: the same buildkitd started by hand, its socket polled every 5ms, then one Info call; "+
		"lading %s (of which StartLocal: median %s), by hand %s",
		c.buildkitd, spread(p.a, Seconds), formatValue(median(startParts), Seconds), spread(p.b, Seconds))
	return rows
}
