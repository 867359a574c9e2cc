package sdk

import (
	"fmt"
	"os"

	"github.com/moby/patternmatcher"

	"github.com/ladingbuild/lading/internal/llb"
)

// CopyOption tunes WithDirectory and WithFile.
type CopyOption interface{ copyOption(*copyOpts) }

// FileOption tunes WithNewFile and WithNewDirectory.
type FileOption interface{ fileOption(*fileOpts) }

// HostOption tunes Host.
type HostOption interface{ hostOption(*hostOpts) }

// CacheOption tunes WithMountedCache.
type CacheOption interface{ cacheOption(*cacheOpts) }

type copyOpts struct {
	owner            *llb.Owner
	mode             *os.FileMode
	include, exclude []string
}

type fileOpts struct {
	owner *llb.Owner
	mode  os.FileMode
	set   bool
}

type hostOpts struct {
	include, exclude []string
	noDockerignore   bool
}

type cacheOpts struct {
	sharing   Sharing
	owner     *llb.Owner
	travel    llb.VolumeTravel // travel.go
	travelErr string
}

// Ownership sets the owner of copied or created files, or of a cache
// mount's root directory.
type Ownership struct{ o llb.Owner }

// Owner sets the owner by numeric uid and gid.
func Owner(uid, gid int) Ownership { return Ownership{llb.Owner{UID: uid, GID: gid}} }

// OwnerName sets the owner by user and group name, looked up in the
// destination's /etc/passwd and /etc/group.
func OwnerName(user, group string) Ownership {
	return Ownership{llb.Owner{User: user, Group: group}}
}

func (o Ownership) copyOption(c *copyOpts)   { v := o.o; c.owner = &v }
func (o Ownership) fileOption(f *fileOpts)   { v := o.o; f.owner = &v }
func (o Ownership) cacheOption(c *cacheOpts) { v := o.o; c.owner = &v }

// Mode sets file permissions.
type Mode struct{ m os.FileMode }

// Permissions sets the permission bits of copied or created files, e.g.
// Permissions(0o755).
func Permissions(perm os.FileMode) Mode { return Mode{perm} }

func (m Mode) copyOption(c *copyOpts) { v := m.m; c.mode = &v }
func (m Mode) fileOption(f *fileOpts) { f.mode, f.set = m.m, true }

// Filter selects the files of a directory by .dockerignore-style patterns.
type Filter struct{ include, exclude []string }

// Include keeps only paths matching the patterns.
func Include(patterns ...string) Filter { return Filter{include: patterns} }

// Exclude drops paths matching the patterns ("bin/", "**/*.tmp", "!keep").
func Exclude(patterns ...string) Filter { return Filter{exclude: patterns} }

func (f Filter) copyOption(c *copyOpts) {
	c.include = append(c.include, f.include...)
	c.exclude = append(c.exclude, f.exclude...)
}

func (f Filter) hostOption(h *hostOpts) {
	h.include = append(h.include, f.include...)
	h.exclude = append(h.exclude, f.exclude...)
}

type hostOptionFunc func(*hostOpts)

func (f hostOptionFunc) hostOption(h *hostOpts) { f(h) }

// IgnoreDockerignore makes Host send files its .dockerignore would leave
// out.
func IgnoreDockerignore() HostOption {
	return hostOptionFunc(func(h *hostOpts) { h.noDockerignore = true })
}

func checkPatterns(loc llb.Location, op string, patterns []string) error {
	for _, p := range patterns {
		if p == "" {
			return llb.Invalid(loc, op, "patterns", "a pattern is empty", "remove the empty pattern")
		}
	}
	if err := checkText(loc, op, "patterns", patterns...); err != nil {
		return err
	}
	if _, err := patternmatcher.New(patterns); err != nil {
		return llb.Invalid(loc, op, "patterns", llb.Shorten(err.Error()), "use .dockerignore syntax: dir/, *.go, **/*.tmp, !keep.txt")
	}
	return nil
}

func copyOptions(loc llb.Location, op string, opts []CopyOption) (llb.CopyOpts, error) {
	var o copyOpts
	for _, opt := range opts {
		if opt == nil {
			return llb.CopyOpts{}, nilOption(loc, op)
		}
		opt.copyOption(&o)
	}
	if err := checkOwner(loc, op, o.owner); err != nil {
		return llb.CopyOpts{}, err
	}
	if o.mode != nil && *o.mode&^0o7777 != 0 {
		return llb.CopyOpts{}, llb.Invalid(loc, op, "Permissions", fmt.Sprintf("%#o has bits beyond 07777", uint32(*o.mode)), "give permission bits only, e.g. 0o755")
	}
	if err := checkPatterns(loc, op, o.include); err != nil {
		return llb.CopyOpts{}, err
	}
	if err := checkPatterns(loc, op, o.exclude); err != nil {
		return llb.CopyOpts{}, err
	}
	return llb.CopyOpts{Owner: o.owner, Mode: o.mode, Include: o.include, Exclude: o.exclude}, nil
}

func fileOptions(loc llb.Location, op string, opts []FileOption, mode os.FileMode) (fileOpts, error) {
	o := fileOpts{mode: mode}
	for _, opt := range opts {
		if opt == nil {
			return o, nilOption(loc, op)
		}
		opt.fileOption(&o)
	}
	if o.set && o.mode&^0o7777 != 0 {
		return o, llb.Invalid(loc, op, "Permissions", fmt.Sprintf("%#o has bits beyond 07777", uint32(o.mode)), "give permission bits only, e.g. 0o644")
	}
	return o, checkOwner(loc, op, o.owner)
}

func checkOwner(loc llb.Location, op string, o *llb.Owner) error {
	if o != nil && (o.UID < 0 || o.GID < 0) {
		return llb.Invalid(loc, op, "Owner", fmt.Sprintf("negative id %d:%d", o.UID, o.GID), "uids and gids are 0 or more")
	}
	return nil
}

func newFile(loc llb.Location, op string, root *llb.Node, p, contents string, opts []FileOption) (*llb.MkfileOp, error) {
	if p == "/" {
		return nil, llb.Invalid(loc, op, "path", `"/" is a directory`, `give the file's path, e.g. "/etc/app.conf"`)
	}
	o, err := fileOptions(loc, op, opts, 0o644)
	if err != nil {
		return nil, err
	}
	return &llb.MkfileOp{Dest: root, Path: p, Data: []byte(contents), Mode: o.mode, Owner: o.owner}, nil
}

// nilOption is the error for a nil option passed to op.
func nilOption(loc llb.Location, op string) error {
	return llb.Invalid(loc, op, "opts", "an option is nil", "remove the nil option, or pass one made by this package (sdk.Env, sdk.Permissions, sdk.ForPlatform…)")
}
