package llb

import (
	"os"
	"slices"
)

// Node is one filesystem snapshot: the output of an operation. Nodes are
// immutable once built and shared freely between values.
type Node struct {
	Op  Op
	Loc Location
}

// Op is an operation that produces a filesystem.
type Op interface {
	opName() string
}

// ScratchOp is the empty filesystem.
type ScratchOp struct{}

// ImageOp is a registry image used as a base.
type ImageOp struct {
	Ref      string // normalized reference, e.g. docker.io/library/golang:1.26
	Given    string // the reference as the user wrote it
	Platform Platform
}

// LocalOp is a directory on the host running the program.
type LocalOp struct {
	Path    string // absolute path
	Given   string // the path as the user wrote it
	Include []string
	Exclude []string
	// NoDockerignore disables reading Path/.dockerignore at compile time.
	NoDockerignore bool
}

// GitOp is a git repository checkout.
type GitOp struct {
	URL, Ref   string
	KeepGitDir bool
}

// HTTPOp is a file downloaded over HTTP(S), verified by checksum when one
// is given (or compiled in from a lock: Options.Checksums).
type HTTPOp struct {
	URL      string
	Checksum string // "sha256:…", or "" for a download the lock governs
	Filename string
	Mode     os.FileMode
}

// ExecOp runs a process on top of Base with the container state it was
// created with.
type ExecOp struct {
	Base      *Node
	Image     *ImageOp // the container's base image, for its config; nil for scratch
	Args      []string
	Env       []EnvVar // set by the program; merged over the base image's env
	Workdir   string   // empty: the base image's
	User      string   // empty: the base image's
	Mounts    []Mount
	SecretEnv []SecretEnv
	Proxy     *Proxy
	ExitCodes []int // accepted exit codes; empty means 0 only
	// NoNetwork runs the step in its own network namespace with only a
	// loopback interface.
	NoNetwork bool
	// TargetEnv gives the step TARGETPLATFORM, TARGETOS, TARGETARCH and
	// TARGETVARIANT of the platform the value is compiled for.
	TargetEnv bool
	Platform  Platform
	Insecure  bool
	// Services are started before the step and reachable from it under
	// their aliases (see service.go).
	Services []ServiceBinding
}

// CopyOp copies Src:SrcPath onto Dest at DestPath.
type CopyOp struct {
	Dest     *Node
	DestPath string
	Src      *Node
	SrcPath  string
	File     bool // SrcPath is a single file
	Opts     CopyOpts
}

// CopyOpts are the options of a copy.
type CopyOpts struct {
	Owner   *Owner
	Mode    *os.FileMode
	Include []string
	Exclude []string
}

// MkfileOp writes a new file.
type MkfileOp struct {
	Dest  *Node
	Path  string
	Data  []byte
	Mode  os.FileMode
	Owner *Owner
}

// MkdirOp creates a directory and its parents.
type MkdirOp struct {
	Dest  *Node
	Path  string
	Mode  os.FileMode
	Owner *Owner
}

// RmOp removes a path.
type RmOp struct {
	Dest *Node
	Path string
}

func (ScratchOp) opName() string { return "scratch" }
func (*ImageOp) opName() string  { return "from" }
func (*LocalOp) opName() string  { return "host" }
func (*GitOp) opName() string    { return "git" }
func (*HTTPOp) opName() string   { return "http" }
func (*ExecOp) opName() string   { return "exec" }
func (*CopyOp) opName() string   { return "copy" }
func (*MkfileOp) opName() string { return "newfile" }
func (*MkdirOp) opName() string  { return "mkdir" }
func (*RmOp) opName() string     { return "rm" }

// EnvVar is one environment variable.
type EnvVar struct{ Name, Value string }

// Owner is a file owner, by id or by name (resolved in the container).
type Owner struct {
	UID, GID    int
	User, Group string
}

// Platform is an OS/architecture pair, e.g. linux/arm64. The zero value
// means the compilation's default platform.
type Platform struct {
	OS, Arch, Variant string
	// Build means the platform of the engine running the build, whatever
	// platform the value is built for: a stage there runs natively.
	Build bool
}

// String formats the platform as os/arch[/variant].
func (p Platform) String() string {
	if p.Build {
		return "build"
	}
	if p.OS == "" {
		return ""
	}
	s := p.OS + "/" + p.Arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// MountKind says what is mounted.
type MountKind int

const (
	MountCache MountKind = iota
	MountTemp
	MountSecret
	MountDirectory
	MountSSH
	MountFile
)

func (k MountKind) String() string {
	return [...]string{"cache", "tmp", "secret", "dir", "ssh", "file"}[k]
}

// Sharing is how concurrent builds share a cache mount.
type Sharing int

const (
	SharingShared Sharing = iota
	SharingPrivate
	SharingLocked
)

func (s Sharing) String() string {
	switch s {
	case SharingShared:
		return "shared"
	case SharingPrivate:
		return "private"
	case SharingLocked:
		return "locked"
	}
	return "invalid"
}

// Mount is something mounted into exec steps at Target.
type Mount struct {
	Target  string
	Kind    MountKind
	CacheID string
	Sharing Sharing
	Owner   *Owner
	Source  *Node  // MountDirectory / MountFile
	Path    string // path inside Source
	Secret  *Secret
	SSHID   string
	Mode    os.FileMode // secret/ssh file mode; 0 means 0400 / 0600
	Loc     Location
	// Travel says how a cache volume's contents travel with the engine's
	// caches (MountCache only). It never enters a step's identity or
	// cache key.
	Travel VolumeTravel
}

// Secret is a secret and where its value comes from. Only its name is ever
// written into a graph.
type Secret struct {
	Name  string
	Env   string
	File  string
	Value []byte
}

// SecretEnv exposes a secret as an environment variable of exec steps.
type SecretEnv struct {
	Name   string
	Secret *Secret
}

// Proxy holds proxy settings and the network's CA bundle for RUN steps.
type Proxy struct {
	HTTP, HTTPS, FTP, NoProxy, All string
	// CABundle is a host file with PEM certificates trusted by RUN steps.
	CABundle string
}

// Empty reports whether p sets nothing.
func (p *Proxy) Empty() bool {
	return p == nil || *p == Proxy{}
}

// ImageConfig is the part of an image's config a program sets. Nil fields
// and empty maps inherit from the base image.
type ImageConfig struct {
	Entrypoint  []string
	SetEntry    bool
	Cmd         []string
	SetCmd      bool
	Labels      map[string]string
	Ports       []string // "8080/tcp"
	Annotations map[string]string
	StopSignal  string
	// EntrypointLoc and CmdLoc are the Go lines that set Entrypoint and
	// Cmd (for lint findings); never part of the image.
	EntrypointLoc, CmdLoc Location
}

// Container is the internal model of sdk.Container.
type Container struct {
	Root      *Node
	Image     *ImageOp // base image, nil for scratch
	Env       []EnvVar
	Workdir   string
	User      string
	UserLoc   Location // the Go line that set User (for lint findings)
	Mounts    []Mount
	SecretEnv []SecretEnv
	Proxy     *Proxy
	Config    *ImageConfig // nil: the program sets none; shared until changed (EditConfig)
	Platform  Platform
	Services  []ServiceBinding // bound to later exec steps
	Err       error
}

// Directory is the internal model of sdk.Directory: a path in a snapshot.
type Directory struct {
	Root *Node
	Path string // absolute path inside Root
	Err  error
}

// File is the internal model of sdk.File.
type File struct {
	Root *Node
	Path string
	Err  error
}

// Settings returns the image config the program set (empty if none).
func (c *Container) Settings() ImageConfig {
	if c.Config == nil {
		return ImageConfig{}
	}
	return *c.Config
}

// EditConfig gives c its own copy of the image config, to change: values
// share one config until one of them changes it, which keeps the copy
// every With* call makes small.
func (c *Container) EditConfig() *ImageConfig {
	var n ImageConfig
	if c.Config != nil {
		n = *c.Config
	}
	c.Config = &n
	return c.Config
}

// Clone returns a shallow copy of c whose slices and maps can be replaced
// (never mutated in place) by the caller.
func (c *Container) Clone() *Container {
	n := *c
	return &n
}

// SetEnv returns env with name set to value, replacing an earlier value.
func SetEnv(env []EnvVar, name, value string) []EnvVar {
	out := make([]EnvVar, 0, len(env)+1)
	for _, e := range env {
		if e.Name != name {
			out = append(out, e)
		}
	}
	return append(out, EnvVar{name, value})
}

// WithoutEnv returns env without name.
func WithoutEnv(env []EnvVar, name string) []EnvVar {
	return slices.DeleteFunc(slices.Clone(env), func(e EnvVar) bool { return e.Name == name })
}
