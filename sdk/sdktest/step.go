package sdktest

import (
	"maps"
	"slices"

	"github.com/ladingbuild/lading/internal/llb"
)

// Step is one step of a Plan: an operation, what it reads and the Go line
// that made it.
type Step struct {
	// Index is the step's 1-based position in the plan; Inputs and
	// Mount.Input refer to steps by it.
	Index int
	// Op is the operation: "from", "scratch", "host", "git", "http",
	// "exec", "copy", "newfile", "mkdir" or "rm".
	Op string
	// Args are the operation's arguments: an exec step's command line, a
	// copy's source and destination paths and options, a base image's
	// reference as written.
	Args []string
	// Inputs are the indexes of the steps whose filesystems this one reads
	// (its base, a copy's source), in order; mounted inputs are in Mounts.
	Inputs []int
	// Env is the NAME=value environment an exec step gets from the
	// program (the base image's env is not known offline).
	Env []string
	// SecretEnv lists secrets exposed as env vars, as NAME=secret:<name>;
	// secret values never appear in a plan.
	SecretEnv []string
	// Workdir and User are an exec step's working directory and user;
	// empty means the base image's.
	Workdir, User string
	// Mounts are an exec step's mounts, sorted by target.
	Mounts []Mount
	// Proxy reports that an exec step gets proxy settings (WithProxy).
	Proxy bool
	// NoNetwork reports an exec step without network (sdk.NoNetwork).
	NoNetwork bool
	// Services are the services bound to an exec step
	// (WithServiceBinding), sorted by alias.
	Services []Binding
	// ExitCodes are the exit codes accepted as success; empty means 0.
	ExitCodes []int
	// Platform is the step's platform ("linux/arm64", "build"), empty for
	// the compilation's default.
	Platform string
	// Location is the Go call site that made the step, "dir/file.go:line".
	Location string
}

// Mount is a mount of an exec step.
type Mount struct {
	// Target is the absolute path the mount appears at.
	Target string
	// Kind is "cache", "tmp", "secret", "dir", "file" or "ssh".
	Kind string
	// Cache is a cache mount's volume name (sdk.CacheVolume).
	Cache string
	// Sharing is a cache mount's mode: "shared", "private" or "locked".
	Sharing string
	// Secret is a secret mount's secret name.
	Secret string
	// Input is the plan index of the step a "dir" or "file" mount reads.
	Input int
	// Path is the path inside Input that is mounted.
	Path string
}

// Binding is a service bound to an exec step.
type Binding struct {
	// Alias is the host name the step reaches the service at.
	Alias string
	// Command is what the service's container runs: its entrypoint and
	// default args.
	Command []string
	// Ports are the TCP ports it listens on (sdk.ServicePorts).
	Ports []int
	// Check is its health check command (sdk.HealthCheck), if any.
	Check []string
	// Location is the Go call site of AsService, "dir/file.go:line".
	Location string
}

// Binding returns the service bound to the step under alias.
func (s Step) Binding(alias string) (Binding, bool) {
	for _, b := range s.Services {
		if b.Alias == alias {
			return b, true
		}
	}
	return Binding{}, false
}

// Image is the image config a container value sets on top of its base
// image's (which is not known offline).
type Image struct {
	// Base is the base image's reference as written in sdk.From; empty
	// for sdk.Scratch.
	Base string
	// Env is the NAME=value environment the program sets (WithEnv).
	Env []string
	// Workdir and User are set by WithWorkdir and WithUser; empty
	// inherits the base image's.
	Workdir, User string
	// Entrypoint and Cmd are set by WithEntrypoint and WithDefaultArgs;
	// SetEntry and SetCmd say whether they were set at all (an empty Cmd
	// may be set on purpose).
	Entrypoint, Cmd  []string
	SetEntry, SetCmd bool
	// Labels are the image's labels set by WithLabel.
	Labels map[string]string
	// Ports are the exposed ports, e.g. "8080/tcp".
	Ports []string
	// Annotations are the manifest annotations set by WithAnnotation.
	Annotations map[string]string
}

// String renders the step as its line of the plan.
func (s Step) String() string { return s.model().String() }

// String renders the mount as target:kind:detail.
func (m Mount) String() string { return m.model().String() }

// String renders the image config as the plan's "image" line.
func (img *Image) String() string {
	return (&llb.PlanImage{Base: img.Base, Env: img.Env, Workdir: img.Workdir, User: img.User, Entrypoint: img.Entrypoint,
		Cmd: img.Cmd, SetCmd: img.SetCmd, SetEntry: img.SetEntry, Labels: img.Labels, Ports: img.Ports, Annotations: img.Annotations}).String()
}

func newStep(s llb.PlanStep) Step {
	out := Step{Index: s.Index, Op: s.Op, Args: slices.Clone(s.Args), Inputs: slices.Clone(s.Inputs), Env: slices.Clone(s.Env),
		SecretEnv: slices.Clone(s.SecretEnv), Workdir: s.Workdir, User: s.User, Proxy: s.Proxy, NoNetwork: s.NoNetwork,
		ExitCodes: slices.Clone(s.ExitCodes), Platform: s.Platform, Location: s.Location}
	for _, m := range s.Mounts {
		out.Mounts = append(out.Mounts, Mount(m))
	}
	for _, b := range s.Services {
		out.Services = append(out.Services, Binding{Alias: b.Alias, Command: slices.Clone(b.Command), Ports: slices.Clone(b.Ports),
			Check: slices.Clone(b.Check), Location: b.Location})
	}
	return out
}

func (s Step) model() llb.PlanStep {
	out := llb.PlanStep{Index: s.Index, Op: s.Op, Args: s.Args, Inputs: s.Inputs, Env: s.Env, SecretEnv: s.SecretEnv,
		Workdir: s.Workdir, User: s.User, Proxy: s.Proxy, NoNetwork: s.NoNetwork, ExitCodes: s.ExitCodes, Platform: s.Platform, Location: s.Location}
	for _, m := range s.Mounts {
		out.Mounts = append(out.Mounts, m.model())
	}
	for _, b := range s.Services {
		out.Services = append(out.Services, llb.PlanService(b))
	}
	return out
}

func (m Mount) model() llb.PlanMount { return llb.PlanMount(m) }

func newImage(img *llb.PlanImage) *Image {
	if img == nil {
		return nil
	}
	return &Image{Base: img.Base, Env: slices.Clone(img.Env), Workdir: img.Workdir, User: img.User, Entrypoint: slices.Clone(img.Entrypoint),
		Cmd: slices.Clone(img.Cmd), SetEntry: img.SetEntry, SetCmd: img.SetCmd, Labels: maps.Clone(img.Labels), Ports: slices.Clone(img.Ports),
		Annotations: maps.Clone(img.Annotations)}
}
