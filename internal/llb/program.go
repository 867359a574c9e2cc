package llb

import (
	"context"
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ImageResolver looks up the config of a base image. The engine supplies
// one backed by the daemon; tests supply a map. A nil resolver means base
// images contribute no config.
type ImageResolver interface {
	// ResolveImageConfig returns the image's digest ("sha256:…") and its
	// OCI config JSON for the given platform.
	ResolveImageConfig(ctx context.Context, ref string, platform ocispecs.Platform) (digest string, config []byte, err error)
}

// Options tune a compilation.
type Options struct {
	// Resolver resolves base image configs; nil leaves them empty.
	Resolver ImageResolver
	// Platform is the default target platform; zero means linux/amd64
	// (the host's platform in practice).
	Platform ocispecs.Platform
	// BuildPlatform is the platform of the engine; zero means linux on
	// this program's architecture.
	BuildPlatform ocispecs.Platform
	// RerunFinal makes the value's final exec step run even when an
	// identical step is cached, so that its output logs are produced
	// (Stdout, Stderr). The step gets LADING_RUN_ID=RunID in its env: a
	// changed cache key, where BuildKit's IgnoreCache would also hand the
	// step empty cache volumes.
	RerunFinal bool
	RunID      string
	// Epoch, if set, dates the image's config and the history entries of
	// the layers the program adds (SOURCE_DATE_EPOCH), for reproducible
	// digests.
	Epoch *time.Time
	// Checksums returns the checksum a lock records for a download the
	// program gives none (sdk.HTTP(url, "")); nil, or false, downloads it
	// live. The checksum is compiled into the graph and the step's
	// identity, as if the program had given it.
	Checksums func(url string) (string, bool)
	// Volumes fills in Program.Volumes: what restoring and saving cache
	// volumes needs (volumes.go).
	Volumes bool
}

// Program is a compiled value: what the engine needs to run it.
type Program struct {
	// Def is the marshalled LLB graph.
	Def *bkllb.Definition
	// Kind says what the graph's output is.
	Kind Kind
	// Image is the OCI image config the exported image must carry; only
	// meaningful for KindContainer.
	Image ocispecs.Image
	// Annotations are OCI manifest annotations set by the program.
	Annotations map[string]string
	// Locals are the host directories the graph reads, keyed by LocalDir.Name.
	Locals []LocalDir
	// Secrets are the secrets steps mount or read as env.
	Secrets []SecretSource
	// SSH lists SSH agent sockets the graph forwards (by id).
	SSH []string
	// Steps maps an LLB vertex digest to the step that produced it, so
	// progress and errors can name the step and its Go call site.
	Steps map[string]Step
	// FilePath is set for KindFile: the file's path inside Def's output.
	FilePath string
	// FinalExec is the vertex digest of the last exec step on the output's
	// chain of parents (the step whose output Stdout reads), or "".
	FinalExec string
	// FinalExitCodes are the exit codes the final exec step accepts
	// (empty: 0 only), set when it reruns (Options.RerunFinal): it then
	// runs without them, so that BuildKit reports the code it exited with.
	FinalExitCodes []int
	// CacheVolumes are the ids of the cache volumes steps mount, sorted.
	CacheVolumes []string
	// Volumes describe each cache volume's first use, for restoring and
	// saving its contents (volumes.go), sorted by id; only compiled with
	// Options.Volumes.
	Volumes []Volume
	// Bases are the base images the graph pulls, as pinned references.
	Bases []string
	// Downloads are the HTTP sources the graph pulls (download.go).
	Downloads []Download
	// UsesProxy says a step sets proxy variables: the solve must stay out
	// of the daemon's build history, where they would be recorded.
	UsesProxy bool
	// Entitlements are what the daemon must allow ("security.insecure").
	Entitlements []string
	// Services are the services steps are bound to, in the order the
	// steps come.
	Services []*ServiceRun
}

// Kind is the kind of value a Program produces.
type Kind int

const (
	KindContainer Kind = iota
	KindDirectory
	KindFile
)

// LocalDir is a host directory sent to the daemon through fsutil.
type LocalDir struct {
	Name      string   // the llb.Local name
	Path      string   // absolute host path
	Include   []string // patterns; empty means everything
	Exclude   []string // patterns, .dockerignore rules already merged in
	SharedKey string   // stable per host directory
}

// SecretSource says where the engine reads a secret's value.
type SecretSource struct {
	ID    string // the id used in the LLB graph
	Name  string // the user's name for it
	Env   string // read from this host env var, or
	File  string // from this host file, or
	Value []byte // this value
	// Public marks a value that is not secret (the CA bundle: public
	// certificates), which output is not scrubbed of.
	Public bool
}

// Step describes one step of the graph.
type Step struct {
	ID       string   // stable identity of the step
	Op       string   // operation, e.g. "exec", "copy", "from"
	Args     []string // the step's arguments (exec args, paths, ref)
	Location string   // Go file:line that created the step
	Name     string   // human readable name shown in progress
}
