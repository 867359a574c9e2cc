package engine

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Option configures [Connect].
type Option func(*settings)

// settings is the resolved configuration of an Engine.
type settings struct {
	address          string
	tls              *TLSConfig
	allowInsecureTCP bool
	autoStart        bool
	log              io.Writer
	progress         ProgressMode
	progressOut      io.Writer
	events           func(Event)
	mirrors          map[string][]string
	insecure         []string
	binary           string
	cacheFrom        []Cache
	cacheTo          []Cache
	epoch            *time.Time
	dockerConfig     string
	platforms        []ocispecs.Platform
	err              error // a bad option, reported by Connect and builds
}

func defaultSettings() settings {
	s := settings{
		autoStart:   true,
		log:         os.Stderr,
		progressOut: os.Stderr,
		mirrors:     map[string][]string{},
	}
	s.fromEnv()
	return s
}

// TLSConfig holds the mutual TLS files for a tcp:// engine address.
type TLSConfig struct {
	// CACert is the CA certificate file that signed the daemon's certificate.
	CACert string
	// Cert and Key are the client certificate and key files.
	Cert, Key string
	// ServerName overrides the name checked in the daemon's certificate;
	// empty means the address's host.
	ServerName string
}

// WithAddress connects to the engine at addr (unix://, tcp://,
// docker-container://, kube-pod://, ssh://) and skips discovery.
func WithAddress(addr string) Option {
	return func(s *settings) { s.address = addr }
}

// WithTLS sets the mutual TLS files used for a tcp:// address.
func WithTLS(cfg TLSConfig) Option {
	return func(s *settings) { c := cfg; s.tls = &c }
}

// AllowInsecureTCP permits a plaintext tcp:// address that is not on the
// loopback interface. Without it such an address is refused: anyone on the
// network could drive the daemon.
func AllowInsecureTCP() Option {
	return func(s *settings) { s.allowInsecureTCP = true }
}

// WithoutAutoStart makes Connect fail with [ErrNoEngine] instead of starting
// the local engine when no engine is found.
func WithoutAutoStart() Option {
	return func(s *settings) { s.autoStart = false }
}

// WithLogOutput sets where Connect writes the one line saying which engine
// it uses (default os.Stderr). A nil writer silences it.
func WithLogOutput(w io.Writer) Option {
	return func(s *settings) { s.log = w }
}

// Silent silences the engine's own messages; it is WithLogOutput(nil).
func Silent() Option { return WithLogOutput(nil) }

// WithProgress selects the progress display; the default is the
// LADING_PROGRESS environment variable, else [ProgressAuto].
func WithProgress(mode ProgressMode) Option {
	return func(s *settings) { s.progress = mode }
}

// WithProgressOutput sets where progress is written (default os.Stderr).
// Concurrent builds on the engine (and its With copies) never write to w
// at the same time.
func WithProgressOutput(w io.Writer) Option {
	lw := &lockedWriter{w: w}
	return func(s *settings) { s.progressOut = lw }
}

// WithEvents registers fn to receive a typed event for each step change and
// log line of every build. Calls are never concurrent, also when several
// builds run at once on the engine or its With copies; each build's events
// arrive in order.
func WithEvents(fn func(Event)) Option {
	var mu sync.Mutex
	serial := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		fn(e)
	}
	return func(s *settings) {
		if fn == nil {
			s.events = nil
			return
		}
		s.events = serial
	}
}

// lockedWriter serializes writes from concurrent builds.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// WithRegistryMirror makes the local engine pull images of registry (e.g.
// "docker.io") through the given mirror hosts ("mirror.example.com:5000").
// It applies when lading starts the local engine.
func WithRegistryMirror(registry string, mirrors ...string) Option {
	return func(s *settings) { s.mirrors[registry] = append(s.mirrors[registry], mirrors...) }
}

// WithInsecureRegistry names registry hosts ("127.0.0.1:5000") reached over
// plain HTTP: the local engine pulls from them over HTTP, and publishing to
// them is allowed. Other registries always use HTTPS.
func WithInsecureRegistry(hosts ...string) Option {
	return func(s *settings) { s.insecure = append(s.insecure, hosts...) }
}

// WithBuildkitd sets the buildkitd binary used to start the local engine;
// the default is buildkitd on PATH, then $XDG_CACHE_HOME/lading/bin/buildkitd,
// else one built from source with the Go toolchain.
func WithBuildkitd(path string) Option {
	return func(s *settings) { s.binary = path }
}

// WithSourceDateEpoch makes builds reproducible: exported images and files
// carry t as their creation time and as the time of every file the build
// changed, so two builds of the same program give the same digest. Without
// it, the SOURCE_DATE_EPOCH environment variable (Unix seconds) is used.
func WithSourceDateEpoch(t time.Time) Option {
	return func(s *settings) { u := t.UTC(); s.epoch = &u }
}

// WithDockerConfig reads registry credentials from the Docker config in dir
// (its config.json and credential helpers) instead of the default,
// $DOCKER_CONFIG or ~/.docker.
func WithDockerConfig(dir string) Option {
	return func(s *settings) { s.dockerConfig = dir }
}

// WithPlatforms builds every value for each of the given platforms
// ("linux/amd64", "linux/arm64") and publishes one image index. Steps run on
// each target platform unless the program pins them to the build platform
// (cross-compilation); without emulation installed on the engine's host,
// only exec steps for the host's platform can run. The default is
// linux/amd64.
func WithPlatforms(ps ...string) Option {
	return func(s *settings) {
		s.platforms = nil
		for _, p := range ps {
			pl, err := platforms.Parse(p)
			if err != nil {
				s.err = fmt.Errorf("platform %q: %w", p, err)
				return
			}
			s.platforms = append(s.platforms, platforms.Normalize(pl))
		}
	}
}

// fromEnv applies the local engine's settings from the environment:
// LADING_REGISTRY_MIRROR (docker.io mirrors, comma-separated; a loopback
// mirror is reached over plain HTTP), LADING_INSECURE_REGISTRY (hosts
// reached over plain HTTP) and LADING_BUILDKITD (the buildkitd binary).
func (s *settings) fromEnv() {
	for _, m := range splitList(os.Getenv("LADING_REGISTRY_MIRROR")) {
		s.mirrors["docker.io"] = append(s.mirrors["docker.io"], m)
		if host, _, err := net.SplitHostPort(m); err == nil && isLoopback(host) {
			s.insecure = append(s.insecure, m)
		}
	}
	s.insecure = append(s.insecure, splitList(os.Getenv("LADING_INSECURE_REGISTRY"))...)
	if b := os.Getenv("LADING_BUILDKITD"); b != "" {
		s.binary = b
	}
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
