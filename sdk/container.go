package sdk

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/distribution/reference"

	"github.com/ladingbuild/lading/internal/llb"
)

// Container is a container image under construction: a root filesystem,
// the image config it will carry, and the state its exec steps run with
// (env, workdir, user, mounts, proxy). A Container is immutable and safe for
// concurrent use; every With* method returns a new Container.
type Container struct {
	m *llb.Container
}

// FromOption tunes From and Scratch.
type FromOption interface{ fromOption(*fromOpts) }

type fromOpts struct{ platform Platform }

// fromOptions applies the options of From or Scratch; a nil option is a
// ValidationError.
func fromOptions(loc llb.Location, op string, opts []FromOption) (fromOpts, error) {
	var o fromOpts
	for _, opt := range opts {
		if opt == nil {
			return o, nilOption(loc, op)
		}
		opt.fromOption(&o)
	}
	return o, nil
}

// From starts a container from a registry image. The image's config (ENV,
// WORKDIR, USER, ENTRYPOINT, CMD, labels, exposed ports) is inherited and
// can be changed with the With* methods. A short name such as "golang:1.26"
// means Docker Hub's image.
func From(ref string, opts ...FromOption) *Container {
	loc := caller()
	m := &llb.Container{}
	o, err := fromOptions(loc, "From", opts)
	if err != nil {
		m.Err = err
		return &Container{m}
	}
	p, err := o.platform.parse(loc, "From")
	if err != nil {
		m.Err = err
		return &Container{m}
	}
	m.Platform = p
	if ref == "" {
		m.Err = llb.Invalid(loc, "From", "ref", "the image reference is empty", `name an image such as "debian:bookworm"`)
		return &Container{m}
	}
	if len(ref) > maxRefLen {
		m.Err = llb.Invalid(loc, "From", "ref", fmt.Sprintf("%s is too long for an image reference (over %d bytes)", llb.Quote(ref), maxRefLen), `use name[:tag][@digest], e.g. "golang:1.26"`)
		return &Container{m}
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		m.Err = llb.Invalid(loc, "From", "ref", llb.Quote(ref)+" is not a valid image reference: "+refProblem(err), `use name[:tag][@digest], e.g. "golang:1.26" or "registry.example.com/team/app:1.2"`)
		return &Container{m}
	}
	img := &llb.ImageOp{Ref: reference.TagNameOnly(named).String(), Given: ref, Platform: p}
	m.Image = img
	m.Root = &llb.Node{Op: img, Loc: loc}
	return &Container{m}
}

// maxRefLen bounds an image reference (a 255-byte name, a 128-byte tag and
// a digest fit easily) so that a huge argument is refused before the
// reference parser's regular expressions scan it.
const maxRefLen = 1024

// refProblem says what is wrong with an image reference without quoting
// it again: some of the parser's messages repeat the whole name.
func refProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "must be lowercase"):
		return "the repository name must be lowercase"
	case strings.Contains(msg, "64-byte hexadecimal"):
		return "a 64-digit hex string is an image ID, not a repository name"
	}
	return llb.Shorten(msg)
}

// Scratch starts a container from an empty filesystem and an empty config.
func Scratch(opts ...FromOption) *Container {
	loc := caller()
	m := &llb.Container{}
	o, err := fromOptions(loc, "Scratch", opts)
	if err != nil {
		m.Err = err
		return &Container{m}
	}
	m.Platform, m.Err = o.platform.parse(loc, "Scratch")
	return &Container{m}
}

// with applies f to a copy of c's model. The first error recorded on a
// value sticks: later steps keep it and do nothing.
func (c *Container) with(loc llb.Location, op string, f func(m *llb.Container) error) *Container {
	if c == nil || c.m == nil {
		return &Container{&llb.Container{Err: llb.Invalid(loc, op, "receiver", "the container is nil", "start from sdk.From or sdk.Scratch")}}
	}
	if c.m.Err != nil {
		return c
	}
	m := c.m.Clone()
	if err := f(m); err != nil {
		m.Err = err
	}
	return &Container{m}
}

// With applies a reusable fragment of a pipeline: c.With(f) is f(c).
func (c *Container) With(f func(*Container) *Container) *Container {
	if f == nil {
		loc := caller()
		return c.with(loc, "With", func(*llb.Container) error {
			return llb.Invalid(loc, "With", "f", "the function is nil", "pass a func(*sdk.Container) *sdk.Container")
		})
	}
	return f(c)
}

// WithEnv sets an environment variable for later exec steps and in the
// image config.
func (c *Container) WithEnv(name, value string) *Container {
	loc := caller()
	return c.with(loc, "WithEnv", func(m *llb.Container) error {
		if err := checkEnvName(loc, "WithEnv", name); err != nil {
			return err
		}
		if err := checkText(loc, "WithEnv", "value", value); err != nil {
			return err
		}
		m.Env = llb.SetEnv(m.Env, name, value)
		return nil
	})
}

// WithoutEnv removes an environment variable set by WithEnv.
func (c *Container) WithoutEnv(name string) *Container {
	loc := caller()
	return c.with(loc, "WithoutEnv", func(m *llb.Container) error {
		if err := checkEnvName(loc, "WithoutEnv", name); err != nil {
			return err
		}
		m.Env = llb.WithoutEnv(m.Env, name)
		return nil
	})
}

func checkEnvName(loc llb.Location, op, name string) error {
	switch {
	case name == "":
		return llb.Invalid(loc, op, "name", "the variable name is empty", `name the variable, e.g. "GOFLAGS"`)
	case strings.ContainsAny(name, "=\x00"):
		return llb.Invalid(loc, op, "name", llb.Quote(name)+" contains '=' or NUL", "pass the name and the value as separate arguments")
	}
	return checkText(loc, op, "name", name)
}

// WithWorkdir sets the working directory of later exec steps and of the
// image.
func (c *Container) WithWorkdir(dir string) *Container {
	loc := caller()
	return c.with(loc, "WithWorkdir", func(m *llb.Container) error {
		p, err := absPath(loc, "WithWorkdir", "dir", dir)
		m.Workdir = p
		return err
	})
}

// WithUser sets the user (name, uid, or user:group) of later exec steps and
// of the image.
func (c *Container) WithUser(user string) *Container {
	loc := caller()
	return c.with(loc, "WithUser", func(m *llb.Container) error {
		if user == "" || strings.TrimSpace(user) != user || !utf8.ValidString(user) {
			return llb.Invalid(loc, "WithUser", "user", llb.Quote(user)+" is not a user", `give a name or id such as "10001" or "app:app"`)
		}
		m.User, m.UserLoc = user, loc
		return nil
	})
}

// WithDirectory copies the contents of dir into the container at path.
func (c *Container) WithDirectory(path string, dir *Directory, opts ...CopyOption) *Container {
	loc := caller()
	return c.with(loc, "WithDirectory", func(m *llb.Container) error {
		dest, err := absPath(loc, "WithDirectory", "path", path)
		if err != nil {
			return err
		}
		if dir == nil || dir.m == nil {
			return llb.Invalid(loc, "WithDirectory", "dir", "the directory is nil", "pass a directory from sdk.Host, sdk.Git or Container.Directory")
		}
		if dir.m.Err != nil {
			return dir.m.Err
		}
		o, err := copyOptions(loc, "WithDirectory", opts)
		if err != nil {
			return err
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.CopyOp{Dest: m.Root, DestPath: dest, Src: dir.m.Root, SrcPath: dir.m.Path, Opts: o}}
		return nil
	})
}

// WithFile copies file into the container at path.
func (c *Container) WithFile(path string, file *File, opts ...CopyOption) *Container {
	loc := caller()
	return c.with(loc, "WithFile", func(m *llb.Container) error {
		dest, err := absPath(loc, "WithFile", "path", path)
		if err != nil {
			return err
		}
		if dest == "/" {
			return llb.Invalid(loc, "WithFile", "path", `"/" is a directory`, `give the file's full path, e.g. "/usr/local/bin/app"`)
		}
		if file == nil || file.m == nil {
			return llb.Invalid(loc, "WithFile", "file", "the file is nil", "pass a file from Container.File, Directory.File or sdk.HTTP")
		}
		if file.m.Err != nil {
			return file.m.Err
		}
		o, err := copyOptions(loc, "WithFile", opts)
		if err != nil {
			return err
		}
		if len(o.Include) > 0 || len(o.Exclude) > 0 {
			return llb.Invalid(loc, "WithFile", "opts", "include/exclude patterns apply to directories", "drop the Include/Exclude option")
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.CopyOp{Dest: m.Root, DestPath: dest, Src: file.m.Root, SrcPath: file.m.Path, File: true, Opts: o}}
		return nil
	})
}

// WithNewFile writes a file with the given contents at path (mode 0644
// unless Permissions says otherwise).
func (c *Container) WithNewFile(path, contents string, opts ...FileOption) *Container {
	loc := caller()
	return c.with(loc, "WithNewFile", func(m *llb.Container) error {
		p, err := absPath(loc, "WithNewFile", "path", path)
		if err != nil {
			return err
		}
		op, err := newFile(loc, "WithNewFile", m.Root, p, contents, opts)
		if err != nil {
			return err
		}
		m.Root = &llb.Node{Loc: loc, Op: op}
		return nil
	})
}

// WithNewDirectory creates an empty directory and its parents at path.
func (c *Container) WithNewDirectory(path string, opts ...FileOption) *Container {
	loc := caller()
	return c.with(loc, "WithNewDirectory", func(m *llb.Container) error {
		p, err := absPath(loc, "WithNewDirectory", "path", path)
		if err != nil {
			return err
		}
		o, err := fileOptions(loc, "WithNewDirectory", opts, 0o755)
		if err != nil {
			return err
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.MkdirOp{Dest: m.Root, Path: p, Mode: o.mode, Owner: o.owner}}
		return nil
	})
}

// WithoutPath removes a file or directory from the container.
func (c *Container) WithoutPath(path string) *Container {
	loc := caller()
	return c.with(loc, "WithoutPath", func(m *llb.Container) error {
		p, err := absPath(loc, "WithoutPath", "path", path)
		if err != nil {
			return err
		}
		if p == "/" {
			return llb.Invalid(loc, "WithoutPath", "path", "cannot remove the root directory", "start from sdk.Scratch() for an empty filesystem")
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.RmOp{Dest: m.Root, Path: p}}
		return nil
	})
}

// File returns a file of the container's filesystem, for hand-off to
// another stage.
func (c *Container) File(path string) *File {
	loc := caller()
	if c == nil || c.m == nil {
		return &File{&llb.File{Err: llb.Invalid(loc, "File", "receiver", "the container is nil", "start from sdk.From or sdk.Scratch")}}
	}
	if c.m.Err != nil {
		return &File{&llb.File{Err: c.m.Err}}
	}
	p, err := absPath(loc, "File", "path", path)
	if err == nil && p == "/" {
		err = llb.Invalid(loc, "File", "path", `"/" is a directory`, "use Container.Directory for directories")
	}
	return &File{&llb.File{Root: c.m.Root, Path: p, Err: err}}
}

// Directory returns a directory of the container's filesystem, for
// hand-off to another stage.
func (c *Container) Directory(path string) *Directory {
	loc := caller()
	if c == nil || c.m == nil {
		return &Directory{&llb.Directory{Err: llb.Invalid(loc, "Directory", "receiver", "the container is nil", "start from sdk.From or sdk.Scratch")}}
	}
	if c.m.Err != nil {
		return &Directory{&llb.Directory{Err: c.m.Err}}
	}
	p, err := absPath(loc, "Directory", "path", path)
	return &Directory{&llb.Directory{Root: c.m.Root, Path: p, Err: err}}
}

// Rootfs returns the container's whole filesystem as a Directory.
func (c *Container) Rootfs() *Directory {
	if c == nil || c.m == nil {
		return &Directory{&llb.Directory{Err: llb.Invalid(caller(), "Rootfs", "receiver", "the container is nil", "start from sdk.From or sdk.Scratch")}}
	}
	return &Directory{&llb.Directory{Root: c.m.Root, Path: "/", Err: c.m.Err}}
}

// WithEntrypoint sets the image's entrypoint. Like a Dockerfile's
// ENTRYPOINT it clears default args inherited from the base image; set new
// ones with WithDefaultArgs.
func (c *Container) WithEntrypoint(args ...string) *Container {
	loc := caller()
	return c.with(loc, "WithEntrypoint", func(m *llb.Container) error {
		if len(args) == 0 || args[0] == "" {
			return llb.Invalid(loc, "WithEntrypoint", "args", "the entrypoint is empty", `give the program, e.g. WithEntrypoint("/usr/local/bin/app")`)
		}
		if err := checkText(loc, "WithEntrypoint", "args", args...); err != nil {
			return err
		}
		cfg := m.EditConfig()
		cfg.Entrypoint, cfg.SetEntry, cfg.EntrypointLoc = slices.Clone(args), true, loc
		return nil
	})
}

// WithDefaultArgs sets the image's default arguments (CMD).
func (c *Container) WithDefaultArgs(args ...string) *Container {
	loc := caller()
	return c.with(loc, "WithDefaultArgs", func(m *llb.Container) error {
		if err := checkText(loc, "WithDefaultArgs", "args", args...); err != nil {
			return err
		}
		cfg := m.EditConfig()
		cfg.Cmd, cfg.SetCmd, cfg.CmdLoc = slices.Clone(args), true, loc
		return nil
	})
}

// WithLabel sets an image label (OCI config Labels).
func (c *Container) WithLabel(name, value string) *Container {
	loc := caller()
	return c.with(loc, "WithLabel", func(m *llb.Container) error {
		if strings.TrimSpace(name) == "" {
			return llb.Invalid(loc, "WithLabel", "name", "the label name is empty", `use a key such as "org.opencontainers.image.source"`)
		}
		if err := checkText(loc, "WithLabel", "name", name, value); err != nil {
			return err
		}
		cfg := m.EditConfig()
		labels := maps.Clone(cfg.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[name] = value
		cfg.Labels = labels
		return nil
	})
}

// WithAnnotation sets an OCI annotation on the image manifest.
func (c *Container) WithAnnotation(name, value string) *Container {
	loc := caller()
	return c.with(loc, "WithAnnotation", func(m *llb.Container) error {
		if strings.TrimSpace(name) == "" {
			return llb.Invalid(loc, "WithAnnotation", "name", "the annotation name is empty", `use a key such as "org.opencontainers.image.revision"`)
		}
		if err := checkText(loc, "WithAnnotation", "name", name, value); err != nil {
			return err
		}
		cfg := m.EditConfig()
		ann := maps.Clone(cfg.Annotations)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[name] = value
		cfg.Annotations = ann
		return nil
	})
}

// Protocol is a network protocol of an exposed port.
type Protocol string

// Protocols for WithExposedPort.
const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// WithExposedPort records a port the image listens on (TCP unless a
// protocol is given).
func (c *Container) WithExposedPort(port int, protocol ...Protocol) *Container {
	loc := caller()
	return c.with(loc, "WithExposedPort", func(m *llb.Container) error {
		if port < 1 || port > 65535 {
			return llb.Invalid(loc, "WithExposedPort", "port", fmt.Sprintf("%d is out of range", port), "use a port between 1 and 65535")
		}
		proto := TCP
		if len(protocol) > 1 {
			return llb.Invalid(loc, "WithExposedPort", "protocol", "more than one protocol", "expose the port once per protocol")
		}
		if len(protocol) == 1 {
			proto = protocol[0]
		}
		if proto != TCP && proto != UDP {
			return llb.Invalid(loc, "WithExposedPort", "protocol", llb.Quote(string(proto))+" is not tcp or udp", "use sdk.TCP or sdk.UDP")
		}
		cfg := m.EditConfig()
		cfg.Ports = append(slices.Clone(cfg.Ports), fmt.Sprintf("%d/%s", port, proto))
		return nil
	})
}
