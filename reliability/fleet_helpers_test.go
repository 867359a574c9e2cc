package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/testenv"
)

// daemon is a buildkitd a fleet test started, with its own state
// directory, socket and trace socket.
type daemon struct {
	addr string
	root string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited
}

// kill ends the daemon with SIGKILL and waits for it to exit.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("buildkitd %s survived SIGKILL", d.addr)
	}
}

// startDaemons starts n buildkitd processes of the test environment's
// binary (LADING_TEST_BUILDKITD), each pulling docker.io through the test
// registry, under one short /tmp directory; they are stopped, and what
// they leave (runc containers, mounts) removed, when the test ends.
func startDaemons(t *testing.T, env testenv.Env, n int) []*daemon {
	t.Helper()
	bin := testenv.Buildkitd(t)
	dir, err := os.MkdirTemp("", "lf-") //nolint:usetesting // unix socket paths must be short; removed below
	require.NoError(t, err)
	ds := make([]*daemon, n)
	t.Cleanup(func() {
		for _, d := range ds {
			if d == nil || d.cmd == nil || d.cmd.Process == nil {
				continue
			}
			_ = d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(10 * time.Second):
				_ = d.cmd.Process.Kill()
				<-d.done
			}
			killRuncUnder(t, d.root)
		}
		unmountUnder(dir)
		os.RemoveAll(dir)
	})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ds[i], errs[i] = startDaemon(t.Context(), bin, filepath.Join(dir, fmt.Sprint(i)), env.Registry)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return ds
}

// startDaemon starts one buildkitd with its files under dir and waits
// until it answers.
func startDaemon(ctx context.Context, bin, dir, registry string) (*daemon, error) {
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "buildkitd.sock")
	d := &daemon{addr: "unix://" + sock, root: root, done: make(chan struct{})}
	cfg := fmt.Sprintf(`root = %q
[grpc]
  address = [%q]
[otel]
  socketPath = %q
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  binary = "runc"
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = [%q]
[registry.%q]
  http = true
  insecure = true
`, root, d.addr, filepath.Join(dir, "otel.sock"), registry, registry)
	cfgPath := filepath.Join(dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "buildkitd.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	d.cmd = exec.Command(bin, "--config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.New(ctx, d.addr)
		if err == nil {
			ictx, cancel := context.WithTimeout(ctx, time.Second)
			_, err = c.Info(ictx)
			cancel()
			c.Close()
			if err == nil {
				return d, nil
			}
		}
		select {
		case <-d.done:
			return d, fmt.Errorf("buildkitd in %s exited before it answered (see %s)", dir, logf.Name())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("buildkitd in %s does not answer after 30 s: %w", dir, err)
		}
	}
}

// addrsOf lists the daemons' addresses.
func addrsOf(ds ...*daemon) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.addr
	}
	return out
}

// assertFraction checks a fraction against a floor and logs it.
func assertFraction(t *testing.T, what string, got, floor float64) {
	t.Helper()
	t.Logf("%s: %.1f%%", what, 100*got)
	assert.GreaterOrEqual(t, got, floor, what)
}
