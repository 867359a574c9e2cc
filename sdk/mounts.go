package sdk

import (
	"slices"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// CacheVolume names a persistent cache directory kept by the engine across
// builds, e.g. CacheVolume("go-build"). Mount it with WithMountedCache. Its
// contents are never part of an image.
type CacheVolume string

// Sharing says how concurrent builds use one cache volume.
type Sharing int

// Sharing modes of a cache mount.
const (
	// Shared lets concurrent builds use the cache at once (the default).
	Shared Sharing = iota
	// Private gives each concurrent build its own copy.
	Private
	// Locked makes concurrent builds wait for each other.
	Locked
)

func (s Sharing) cacheOption(c *cacheOpts) { c.sharing = s }

// WithMountedCache mounts a cache volume at path for later exec steps.
// Options: a Sharing mode, Owner for the cache's root directory, and how
// the volume travels with the engine's caches (LocalOnly, SaveLimit).
func (c *Container) WithMountedCache(path string, cache CacheVolume, opts ...CacheOption) *Container {
	loc := caller()
	return c.mount(loc, "WithMountedCache", path, func(target string) (llb.Mount, error) {
		if strings.TrimSpace(string(cache)) == "" {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedCache", "cache", "the cache id is empty", `name the cache, e.g. sdk.CacheVolume("go-build")`)
		}
		if err := checkText(loc, "WithMountedCache", "cache", string(cache)); err != nil {
			return llb.Mount{}, err
		}
		var o cacheOpts
		for _, opt := range opts {
			if opt == nil {
				return llb.Mount{}, nilOption(loc, "WithMountedCache")
			}
			opt.cacheOption(&o)
		}
		if o.sharing < Shared || o.sharing > Locked {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedCache", "sharing", "unknown sharing mode", "use sdk.Shared, sdk.Private or sdk.Locked")
		}
		if err := checkOwner(loc, "WithMountedCache", o.owner); err != nil {
			return llb.Mount{}, err
		}
		if err := checkTravel(loc, "WithMountedCache", &o); err != nil {
			return llb.Mount{}, err
		}
		return llb.Mount{Target: target, Kind: llb.MountCache, CacheID: string(cache), Sharing: llb.Sharing(o.sharing), Owner: o.owner, Travel: o.travel}, nil
	})
}

// WithMountedTemp mounts an empty tmpfs at path for later exec steps.
func (c *Container) WithMountedTemp(path string) *Container {
	loc := caller()
	return c.mount(loc, "WithMountedTemp", path, func(target string) (llb.Mount, error) {
		return llb.Mount{Target: target, Kind: llb.MountTemp}, nil
	})
}

// WithMountedSecret mounts a secret as a read-only file at path for later
// exec steps. The value never enters the image, its history or the cache
// key. Owner sets the file's owner.
func (c *Container) WithMountedSecret(path string, secret *Secret, opts ...FileOption) *Container {
	loc := caller()
	return c.mount(loc, "WithMountedSecret", path, func(target string) (llb.Mount, error) {
		if secret == nil || secret.s == nil {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedSecret", "secret", "the secret is nil", "pass a secret from sdk.SecretFromEnv, SecretFromFile or SecretFromValue")
		}
		if secret.err != nil {
			return llb.Mount{}, secret.err
		}
		o, err := fileOptions(loc, "WithMountedSecret", opts, 0o400)
		if err != nil {
			return llb.Mount{}, err
		}
		if o.owner != nil && (o.owner.User != "" || o.owner.Group != "") {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedSecret", "Owner", "a secret file's owner must be numeric", "use sdk.Owner(uid, gid) instead of sdk.OwnerName")
		}
		return llb.Mount{Target: target, Kind: llb.MountSecret, Secret: secret.s, Owner: o.owner, Mode: o.mode}, nil
	})
}

// WithMountedDirectory mounts dir read-only at path for later exec steps,
// without copying it into the container's filesystem.
func (c *Container) WithMountedDirectory(path string, dir *Directory) *Container {
	loc := caller()
	return c.mount(loc, "WithMountedDirectory", path, func(target string) (llb.Mount, error) {
		if dir == nil || dir.m == nil {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedDirectory", "dir", "the directory is nil", "pass a directory from sdk.Host, sdk.Git or Container.Directory")
		}
		if dir.m.Err != nil {
			return llb.Mount{}, dir.m.Err
		}
		return llb.Mount{Target: target, Kind: llb.MountDirectory, Source: dir.m.Root, Path: dir.m.Path}, nil
	})
}

// WithMountedFile mounts file read-only at path for later exec steps.
func (c *Container) WithMountedFile(path string, file *File) *Container {
	loc := caller()
	return c.mount(loc, "WithMountedFile", path, func(target string) (llb.Mount, error) {
		if file == nil || file.m == nil {
			return llb.Mount{}, llb.Invalid(loc, "WithMountedFile", "file", "the file is nil", "pass a file from Container.File or sdk.HTTP")
		}
		if file.m.Err != nil {
			return llb.Mount{}, file.m.Err
		}
		return llb.Mount{Target: target, Kind: llb.MountFile, Source: file.m.Root, Path: file.m.Path}, nil
	})
}

// WithSSHAgent forwards the SSH agent of the machine running the program
// (SSH_AUTH_SOCK) to later exec steps, as a socket at path; the steps see
// SSH_AUTH_SOCK pointing at it (set by the engine for the step only, never
// in the image).
func (c *Container) WithSSHAgent(path string) *Container {
	loc := caller()
	return c.mount(loc, "WithSSHAgent", path, func(target string) (llb.Mount, error) {
		return llb.Mount{Target: target, Kind: llb.MountSSH, SSHID: "default"}, nil
	})
}

// WithoutMount removes the mount at path from later exec steps.
func (c *Container) WithoutMount(path string) *Container {
	loc := caller()
	return c.with(loc, "WithoutMount", func(m *llb.Container) error {
		p, err := absPath(loc, "WithoutMount", "path", path)
		if err != nil {
			return err
		}
		m.Mounts = slices.DeleteFunc(slices.Clone(m.Mounts), func(mt llb.Mount) bool { return mt.Target == p })
		return nil
	})
}

// WithSecretEnv exposes a secret to later exec steps as the environment
// variable name. The value never enters the image config, its history or
// the cache key.
func (c *Container) WithSecretEnv(name string, secret *Secret) *Container {
	loc := caller()
	return c.with(loc, "WithSecretEnv", func(m *llb.Container) error {
		if err := checkEnvName(loc, "WithSecretEnv", name); err != nil {
			return err
		}
		if secret == nil || secret.s == nil {
			return llb.Invalid(loc, "WithSecretEnv", "secret", "the secret is nil", "pass a secret from sdk.SecretFromEnv, SecretFromFile or SecretFromValue")
		}
		if secret.err != nil {
			return secret.err
		}
		env := slices.DeleteFunc(slices.Clone(m.SecretEnv), func(e llb.SecretEnv) bool { return e.Name == name })
		m.SecretEnv = append(env, llb.SecretEnv{Name: name, Secret: secret.s})
		return nil
	})
}

// mount adds a mount at path, refusing "/" and a path that is already
// mounted.
func (c *Container) mount(loc llb.Location, op, path string, f func(target string) (llb.Mount, error)) *Container {
	return c.with(loc, op, func(m *llb.Container) error {
		target, err := absPath(loc, op, "path", path)
		if err != nil {
			return err
		}
		if target == "/" {
			return llb.Invalid(loc, op, "path", "cannot mount over the root filesystem", "mount at a subdirectory, e.g. /cache")
		}
		for _, mt := range m.Mounts {
			if mt.Target == target {
				return llb.Invalid(loc, op, "path", llb.Quote(target)+" is already mounted (by the step at "+mt.Loc.String()+")", "mount each path once, or call WithoutMount first")
			}
		}
		mt, err := f(target)
		if err != nil {
			return err
		}
		mt.Loc = loc
		mounts := append(slices.Clone(m.Mounts), mt)
		slices.SortFunc(mounts, func(a, b llb.Mount) int { return strings.Compare(a.Target, b.Target) })
		m.Mounts = mounts
		return nil
	})
}
