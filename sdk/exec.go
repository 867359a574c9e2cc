package sdk

import (
	"fmt"
	"slices"

	"github.com/ladingbuild/lading/internal/llb"
)

// ExecOption tunes one WithExec step.
type ExecOption interface{ execOption(*execOpts) }

type execOpts struct {
	env       []llb.EnvVar
	workdir   string
	user      string
	exitCodes []int
	insecure  bool
	targetEnv bool
	noNetwork bool
}

type execOptionFunc func(*execOpts)

func (f execOptionFunc) execOption(o *execOpts) { f(o) }

// Env sets an environment variable for one exec step only; it is not
// written into the image config.
func Env(name, value string) ExecOption {
	return execOptionFunc(func(o *execOpts) { o.env = append(o.env, llb.EnvVar{Name: name, Value: value}) })
}

// Workdir runs one exec step in dir instead of the container's workdir.
func Workdir(dir string) ExecOption {
	return execOptionFunc(func(o *execOpts) { o.workdir = dir })
}

// AsUser runs one exec step as user instead of the container's user.
func AsUser(user string) ExecOption {
	return execOptionFunc(func(o *execOpts) { o.user = user })
}

// ExitCodes lists the exit codes that count as success (by default only
// 0). Use it for a step that is expected to fail, e.g. ExitCodes(1).
func ExitCodes(codes ...int) ExecOption {
	return execOptionFunc(func(o *execOpts) { o.exitCodes = append(o.exitCodes, codes...) })
}

// TargetPlatformEnv gives one exec step TARGETPLATFORM, TARGETOS,
// TARGETARCH and TARGETVARIANT: the platform the image is being built for.
// With a stage on BuildPlatform this is how a step cross-compiles, e.g.
// sh -c 'GOOS=$TARGETOS GOARCH=$TARGETARCH go build ./...'.
func TargetPlatformEnv() ExecOption {
	return execOptionFunc(func(o *execOpts) { o.targetEnv = true })
}

// NoNetwork runs one exec step in a network namespace of its own, with
// only a loopback interface: it reaches nothing outside, and servers it
// starts on 127.0.0.1 cannot collide with other builds' (steps otherwise
// share the engine host's network).
func NoNetwork() ExecOption {
	return execOptionFunc(func(o *execOpts) { o.noNetwork = true })
}

// Insecure runs one exec step with extended privileges. The engine must
// allow the "security.insecure" entitlement.
func Insecure() ExecOption {
	return execOptionFunc(func(o *execOpts) { o.insecure = true })
}

// WithExec runs a command in the container. args[0] is the program
// (looked up in PATH); no shell is involved unless you run one. The step
// sees the container's env, workdir, user, mounts and proxy settings.
func (c *Container) WithExec(args []string, opts ...ExecOption) *Container {
	loc := caller()
	return c.with(loc, "WithExec", func(m *llb.Container) error {
		if len(args) == 0 {
			return llb.Invalid(loc, "WithExec", "args", "no command given", `pass the program and its arguments, e.g. []string{"go", "build", "./..."}`)
		}
		if args[0] == "" {
			return llb.Invalid(loc, "WithExec", "args", "the program name (args[0]) is empty", `put the program first, e.g. []string{"make", "test"}`)
		}
		if err := checkText(loc, "WithExec", "args", args...); err != nil {
			return err
		}
		var o execOpts
		for _, opt := range opts {
			if opt == nil {
				return nilOption(loc, "WithExec")
			}
			opt.execOption(&o)
		}
		env := m.Env
		for _, e := range o.env {
			if err := checkEnvName(loc, "WithExec", e.Name); err != nil {
				return err
			}
			if err := checkText(loc, "WithExec", "Env", e.Value); err != nil {
				return err
			}
			env = llb.SetEnv(env, e.Name, e.Value)
		}
		wd := m.Workdir
		if o.workdir != "" {
			p, err := absPath(loc, "WithExec", "Workdir", o.workdir)
			if err != nil {
				return err
			}
			wd = p
		}
		user := m.User
		if o.user != "" {
			if err := checkText(loc, "WithExec", "AsUser", o.user); err != nil {
				return err
			}
			user = o.user
		}
		for _, code := range o.exitCodes {
			if code < 0 || code > 255 {
				return llb.Invalid(loc, "WithExec", "ExitCodes", fmt.Sprintf("%d is not an exit code", code), "exit codes are 0 to 255")
			}
		}
		codes := slices.Clone(o.exitCodes)
		m.Root = &llb.Node{Loc: loc, Op: &llb.ExecOp{
			Base:      m.Root,
			Image:     m.Image,
			Args:      slices.Clone(args),
			Env:       env,
			Workdir:   wd,
			User:      user,
			Mounts:    m.Mounts,
			SecretEnv: m.SecretEnv,
			Proxy:     m.Proxy,
			ExitCodes: codes,
			Platform:  m.Platform,
			Insecure:  o.insecure,
			TargetEnv: o.targetEnv,
			NoNetwork: o.noNetwork,
			Services:  m.Services,
		}}
		return nil
	})
}
