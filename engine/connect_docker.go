package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
	"github.com/moby/moby/api/pkg/stdcopy"
	dockerclient "github.com/moby/moby/client"
)

// A docker-container://NAME engine is a buildkitd running in the
// container NAME of a Docker daemon. BuildKit's own connection helper for
// that scheme runs `docker exec -i NAME buildctl dial-stdio` with whatever
// program is called docker on PATH. lading instead runs the same command
// through Docker's API (an exec with a hijacked stream): it needs no
// Docker CLI, cannot pick up another program of that name, reaches the
// daemon of engine.WithDockerHost, DOCKER_HOST or the Docker context (the
// address's ?context=NAME, else the one in use), and can say exactly
// what is wrong (no daemon, no such container, not running, no buildctl).

// dockerContainerOptions returns the client options for a
// docker-container:// address: a dialer through Docker's API.
func dockerContainerOptions(s *settings, u *url.URL) ([]client.ClientOpt, error) {
	name := u.Hostname()
	if name == "" {
		return nil, fmt.Errorf("engine address %s names no container: want docker-container://NAME", quote(u.String()))
	}
	target, err := resolveDaemon(kindDocker, "", s, u.Query().Get("context"))
	if err != nil {
		return nil, fmt.Errorf("engine address %s: %w", quote(u.String()), err)
	}
	dc := &containerDialer{name: name, target: target}
	return []client.ClientOpt{client.WithContextDialer(dc.dial)}, nil
}

// containerDialer runs `buildctl dial-stdio` in a container for each
// connection gRPC opens.
type containerDialer struct {
	name   string
	target daemonTarget

	mu sync.Mutex
	d  *daemonConn // made on the first dial, then reused
}

// daemon returns the client of the Docker daemon, dialling it once.
func (c *containerDialer) daemon(ctx context.Context) (*daemonConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.d != nil {
		return c.d, nil
	}
	d, err := dialDaemon(ctx, kindDocker, c.target)
	if err != nil {
		return nil, err
	}
	c.d = d
	return d, nil
}

func (c *containerDialer) dial(ctx context.Context, _ string) (net.Conn, error) {
	d, err := c.daemon(ctx)
	if err != nil {
		return nil, err
	}
	info, err := d.c.ContainerInspect(ctx, c.name, dockerclient.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("no container %s in the Docker daemon at %s (from %s): start the engine's container first "+
				"(e.g. docker run -d --name %s --privileged moby/buildkit), or fix the name", c.name, d.addr, d.from, c.name)
		}
		return nil, fmt.Errorf("container %s in the Docker daemon at %s: %w", c.name, d.addr, err)
	}
	if st := info.Container.State; st == nil || !st.Running {
		status := "not running"
		if st != nil {
			status = string(st.Status)
		}
		return nil, fmt.Errorf("container %s in the Docker daemon at %s is %s: start it (docker start %s)", c.name, d.addr, status, c.name)
	}
	ex, err := d.c.ExecCreate(ctx, c.name, dockerclient.ExecCreateOptions{
		Cmd:          []string{"buildctl", "dial-stdio"},
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("running buildctl dial-stdio in container %s: %w", c.name, err)
	}
	att, err := d.c.ExecAttach(ctx, ex.ID, dockerclient.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("attaching to buildctl dial-stdio in container %s: %w", c.name, err)
	}
	return newExecConn(att.HijackedResponse, c.name), nil
}

// execConn is a net.Conn over an exec's hijacked stream: writes go to its
// stdin; its stdout, demultiplexed from stderr, is what reads return.
type execConn struct {
	h    dockerclient.HijackedResponse
	name string
	pr   *io.PipeReader
	br   *bufio.Reader // over pr: the first frame is checked before gRPC reads it

	first    sync.Once
	firstErr error // set when the exec's first bytes are not an HTTP/2 frame

	mu     sync.Mutex
	stderr strings.Builder // the first bytes of its stderr, for errors
	once   sync.Once
}

func newExecConn(h dockerclient.HijackedResponse, name string) *execConn {
	pr, pw := io.Pipe()
	c := &execConn{h: h, name: name, pr: pr, br: bufio.NewReaderSize(pr, 4096)}
	go func() {
		_, err := stdcopy.StdCopy(pw, stderrTail{c}, h.Reader)
		if err == nil {
			err = io.EOF
		}
		if msg := c.stderrText(); msg != "" {
			err = fmt.Errorf("buildctl dial-stdio in container %s: %s", name, msg)
		}
		pw.CloseWithError(err)
	}()
	return c
}

// stderrTail keeps the first KiB of the exec's stderr.
type stderrTail struct{ c *execConn }

func (s stderrTail) Write(p []byte) (int, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if room := 1024 - s.c.stderr.Len(); room > 0 {
		s.c.stderr.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *execConn) stderrText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.stderr.String())
}

// Read returns the exec's stdout. The first read checks that it starts
// with an HTTP/2 frame, as a gRPC server's connection preface does (a
// SETTINGS frame, RFC 9113 §3.4): when the exec did not start (no
// buildctl in the container), the Docker daemon writes its error as text
// on the same stream, which gRPC would read as a frame "too large".
func (c *execConn) Read(p []byte) (int, error) {
	c.first.Do(func() { c.firstErr = c.checkPreface() })
	if c.firstErr != nil {
		return 0, c.firstErr
	}
	return c.br.Read(p)
}

// http2FrameSettings is the type of an HTTP/2 SETTINGS frame, the 4th byte
// of its 9-byte header.
const http2FrameSettings = 0x4

// checkPreface peeks at the first frame header the exec sends.
func (c *execConn) checkPreface() error {
	hdr, err := c.br.Peek(9)
	if err == nil && hdr[3] == http2FrameSettings {
		return nil
	}
	if len(hdr) == 0 && err != nil {
		return err // the stream ended or failed: its own error says why
	}
	// Not a frame: the daemon's (or the program's) text. Keep what came.
	text, _ := c.br.Peek(c.br.Buffered())
	msg := strings.TrimSpace(string(text))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	return fmt.Errorf("buildctl dial-stdio in container %s did not start (%s): the container must run BuildKit's engine with buildctl on its PATH, "+
		"e.g. docker run -d --name %s --privileged moby/buildkit", c.name, msg, c.name)
}

func (c *execConn) Write(p []byte) (int, error) { return c.h.Conn.Write(p) }

// Close ends the exec's stdin and the connection.
func (c *execConn) Close() error {
	var err error
	c.once.Do(func() {
		_ = c.h.CloseWrite()
		err = c.h.Conn.Close()
		c.pr.Close()
	})
	return err
}

// CloseWrite ends the exec's stdin: buildctl dial-stdio then closes its
// side.
func (c *execConn) CloseWrite() error { return c.h.CloseWrite() }

func (c *execConn) LocalAddr() net.Addr  { return execAddr(c.name) }
func (c *execConn) RemoteAddr() net.Addr { return execAddr(c.name) }

// Deadlines are not supported on the exec stream (as with BuildKit's own
// connection helpers); gRPC does not need them.
func (c *execConn) SetDeadline(time.Time) error      { return nil }
func (c *execConn) SetReadDeadline(time.Time) error  { return nil }
func (c *execConn) SetWriteDeadline(time.Time) error { return nil }

// execAddr names a connection's end by its container.
type execAddr string

func (a execAddr) Network() string { return "docker-container" }
func (a execAddr) String() string  { return string(a) }
