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

// Option configures [Connect], [Engine.With] or [StartLocal]. Each
// option's doc says where it applies:
//
//   - connection options choose and dial the engine ([WithAddress],
//     [WithTLS], [AllowInsecureTCP], [WithoutAutoStart]): Connect only;
//   - local engine options configure the buildkitd lading starts
//     ([WithRegistryMirror], [WithBuildkitd]) and where Connect and
//     StartLocal log ([WithLogOutput], [Silent]): Connect and StartLocal;
//   - build options ([WithProgress], [WithProgressOutput], [WithEvents],
//     [WithCacheFrom], [WithCacheTo], [WithPlatforms],
//     [WithSourceDateEpoch], [WithDockerConfig], [WithDockerHost]):
//     Connect and With;
//   - [WithInsecureRegistry] applies everywhere.
//
// An option given where it has no effect is an error naming it and where
// it belongs: Connect and StartLocal return it, and a copy made by With
// returns it from every build.
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
	engineImage      string // WithEngineImage (engineimage.go)
	cacheFrom        []Cache
	cacheTo          []Cache
	caches           []Cache // WithCache: layers and volumes (cache.go)
	epoch            *time.Time
	dockerConfig     string
	dockerHost       string // WithDockerHost (daemon_client.go)
	platforms        []ocispecs.Platform
	attest           attestSettings
	noServiceDial    bool // services are probed from inside only (tests of the probes: service_dial.go)
	run              runSettings
	disk             string
	explain          explainSettings
	guard            guardSettings
	fleet            fleetSettings
	interactive      bool  // a shell at a failed step (debug.go)
	at               place // where the options are being applied
	err              error // a bad or misplaced option, reported by Connect and builds
}

func defaultSettings() settings {
	s := settings{
		autoStart:   true,
		log:         os.Stderr,
		progressOut: os.Stderr,
		mirrors:     map[string][]string{},
		at:          atConnect,
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
// docker-container://, kube-pod://, ssh://) and skips discovery. A
// connection option: Connect only.
func WithAddress(addr string) Option {
	return func(s *settings) {
		s.only("WithAddress", forConnect, "it chooses the engine to connect to")
		s.address = addr
	}
}

// WithTLS sets the mutual TLS files used for a tcp:// address. A
// connection option: Connect only.
func WithTLS(cfg TLSConfig) Option {
	return func(s *settings) {
		s.only("WithTLS", forConnect, "it secures the connection to the engine")
		c := cfg
		s.tls = &c
	}
}

// AllowInsecureTCP permits a plaintext tcp:// address that is not on the
// loopback interface. Without it such an address is refused: anyone on the
// network could drive the daemon. A connection option: Connect only.
func AllowInsecureTCP() Option {
	return func(s *settings) {
		s.only("AllowInsecureTCP", forConnect, "it governs the connection to the engine")
		s.allowInsecureTCP = true
	}
}

// WithoutAutoStart makes Connect fail with [ErrNoEngine] instead of starting
// the local engine when no engine is found. A connection option: Connect
// only.
func WithoutAutoStart() Option {
	return func(s *settings) {
		s.only("WithoutAutoStart", forConnect, "it governs whether Connect starts the local engine")
		s.autoStart = false
	}
}

// WithLogOutput sets where Connect and StartLocal write their own messages
// (which engine is used, registry mirrors, a restart; default os.Stderr).
// A nil writer silences them. For Connect and StartLocal; builds write
// progress, set with [WithProgressOutput].
func WithLogOutput(w io.Writer) Option {
	return func(s *settings) {
		s.only("WithLogOutput", forLocal, "it sets where Connect and StartLocal log, and builds log nothing there (see WithProgressOutput)")
		s.log = w
	}
}

// Silent silences the engine's own messages; it is WithLogOutput(nil).
func Silent() Option {
	return func(s *settings) {
		s.only("Silent", forLocal, "it silences Connect and StartLocal, and builds log nothing there (see WithProgress(ProgressQuiet))")
		s.log = nil
	}
}

// WithProgress selects the progress display; the default is the
// LADING_PROGRESS environment variable, else [ProgressAuto]. A build
// option: Connect and With.
func WithProgress(mode ProgressMode) Option {
	return func(s *settings) {
		s.only("WithProgress", forBuilds, "it is a build option")
		s.progress = mode
	}
}

// WithProgressOutput sets where progress is written (default os.Stderr;
// nil discards it). Concurrent builds on the engine (and its With copies)
// never write to w at the same time. A build option: Connect and With.
func WithProgressOutput(w io.Writer) Option {
	if w == nil {
		w = io.Discard
	}
	lw := &lockedWriter{w: w}
	return func(s *settings) {
		s.only("WithProgressOutput", forBuilds, "it is a build option")
		s.progressOut = lw
	}
}

// WithEvents registers fn to receive a typed event for each step change and
// log line of every build. Calls are never concurrent, also when several
// builds run at once on the engine or its With copies; each build's events
// arrive in order. A build option: Connect and With.
func WithEvents(fn func(Event)) Option {
	var mu sync.Mutex
	serial := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		fn(e)
	}
	return func(s *settings) {
		s.only("WithEvents", forBuilds, "it is a build option")
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
// It applies when lading starts the local engine (Connect restarts a
// running one that lacks the mirror): Connect and StartLocal.
func WithRegistryMirror(registry string, mirrors ...string) Option {
	return func(s *settings) {
		s.only("WithRegistryMirror", forLocal, "mirrors are settings of the local engine, written when it starts")
		if s.mirrors == nil {
			s.mirrors = map[string][]string{}
		}
		s.mirrors[registry] = append(s.mirrors[registry], mirrors...)
	}
}

// WithInsecureRegistry names registry hosts ("127.0.0.1:5000") reached over
// plain HTTP: the local engine pulls from them over HTTP (when lading
// starts it), and publishing and exporting caches to them is allowed.
// Other registries always use HTTPS. It applies everywhere; given to With
// it covers that copy's pushes only.
func WithInsecureRegistry(hosts ...string) Option {
	return func(s *settings) { s.insecure = append(s.insecure, hosts...) }
}

// WithBuildkitd sets the buildkitd binary used to start the local engine;
// the default is buildkitd on PATH, then $XDG_CACHE_HOME/lading/bin/buildkitd,
// else one taken from the engine image ([WithEngineImage]) or, when no
// registry serves it, built from source with the Go toolchain. For Connect
// and StartLocal.
func WithBuildkitd(path string) Option {
	return func(s *settings) {
		s.only("WithBuildkitd", forLocal, "it selects the binary that starts the local engine")
		s.binary = path
	}
}

// WithSourceDateEpoch makes builds reproducible: exported images and files
// carry t as their creation time and as the time of every file the build
// changed, so two builds of the same program give the same digest. Without
// it, the SOURCE_DATE_EPOCH environment variable (Unix seconds) is used.
// A build option: Connect and With.
func WithSourceDateEpoch(t time.Time) Option {
	return func(s *settings) {
		s.only("WithSourceDateEpoch", forBuilds, "it is a build option")
		u := t.UTC()
		s.epoch = &u
	}
}

// WithDockerConfig reads registry credentials from the Docker config in dir
// (its config.json and credential helpers) instead of the default,
// $DOCKER_CONFIG or ~/.docker. A build option: Connect and With.
func WithDockerConfig(dir string) Option {
	return func(s *settings) {
		s.only("WithDockerConfig", forBuilds, "registry credentials are read by builds")
		s.dockerConfig = dir
	}
}

// WithPlatforms builds every value for each of the given platforms
// ("linux/amd64", "linux/arm64") and publishes one image index. Steps run on
// each target platform unless the program pins them to the build platform
// (cross-compilation); without emulation installed on the engine's host,
// only exec steps for the host's platform can run. The default is
// linux/amd64. A build option: Connect and With.
func WithPlatforms(ps ...string) Option {
	return func(s *settings) {
		s.only("WithPlatforms", forBuilds, "it is a build option")
		s.platforms = nil
		for _, p := range ps {
			pl, err := platforms.Parse(p)
			if err != nil {
				if s.err == nil {
					s.err = fmt.Errorf("engine.WithPlatforms: platform %s: %w", quote(p), bounded(err))
				}
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

// applyOptions resolves opts given to Connect or StartLocal (at); the
// error is the first bad or misplaced option.
func applyOptions(at place, opts []Option) (settings, error) {
	s := defaultSettings()
	s.at = at
	for _, o := range opts {
		if o == nil {
			return s, fmt.Errorf("%s: nil option", at)
		}
		o(&s)
	}
	return s, s.err
}
