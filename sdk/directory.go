package sdk

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ladingbuild/lading/internal/llb"
)

// Directory is a directory tree: from the host, a git repository, or a
// container's filesystem. It is immutable and safe for concurrent use.
type Directory struct {
	m *llb.Directory
}

// Host is a directory on the machine running the program, sent to the
// engine when a build needs it. Paths matched by its .dockerignore, and by
// Exclude options, are not sent; Include options keep only what they match.
// Without Include options, a graph that reads only some paths of it (with
// Directory or File) sends only those. A relative path is taken from the
// current working directory.
func Host(path string, opts ...HostOption) *Directory {
	loc := caller()
	fail := func(err error) *Directory { return &Directory{&llb.Directory{Err: err}} }
	if path == "" {
		return fail(llb.Invalid(loc, "Host", "path", "the path is empty", `use "." for the current directory`))
	}
	var o hostOpts
	for _, opt := range opts {
		if opt == nil {
			return fail(nilOption(loc, "Host"))
		}
		opt.hostOption(&o)
	}
	if err := checkPatterns(loc, "Host", o.include); err != nil {
		return fail(err)
	}
	if err := checkPatterns(loc, "Host", o.exclude); err != nil {
		return fail(err)
	}
	if err := checkText(loc, "Host", "path", path); err != nil {
		return fail(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail(llb.Invalid(loc, "Host", "path", llb.Shorten(err.Error()), "give an existing directory"))
	}
	op := &llb.LocalOp{Path: abs, Given: path, Include: o.include, Exclude: o.exclude, NoDockerignore: o.noDockerignore}
	return &Directory{&llb.Directory{Root: &llb.Node{Op: op, Loc: loc}, Path: "/"}}
}

// GitOption tunes Git.
type GitOption interface{ gitOption(*llb.GitOp) }

type keepGitDir struct{}

func (keepGitDir) gitOption(g *llb.GitOp) { g.KeepGitDir = true }

// KeepGitDir keeps the .git directory of a Git checkout.
func KeepGitDir() GitOption { return keepGitDir{} }

// Git is a checkout of a git repository at ref (a branch, tag or commit).
func Git(repo, ref string, opts ...GitOption) *Directory {
	loc := caller()
	fail := func(err error) *Directory { return &Directory{&llb.Directory{Err: err}} }
	if repo == "" {
		return fail(llb.Invalid(loc, "Git", "url", "the repository URL is empty", `e.g. "https://github.com/org/repo.git"`))
	}
	if strings.ContainsAny(repo, " \t\n") {
		return fail(llb.Invalid(loc, "Git", "url", llb.Quote(repo)+" contains whitespace", "give a URL such as https://host/org/repo.git or git@host:org/repo.git"))
	}
	if err := checkText(loc, "Git", "url", repo, ref); err != nil {
		return fail(err)
	}
	if ref == "" {
		return fail(llb.Invalid(loc, "Git", "ref", "the ref is empty", `name a branch, tag or commit, e.g. "main" or "v1.2.3"`))
	}
	op := &llb.GitOp{URL: repo, Ref: ref}
	for _, opt := range opts {
		if opt == nil {
			return fail(nilOption(loc, "Git"))
		}
		opt.gitOption(op)
	}
	return &Directory{&llb.Directory{Root: &llb.Node{Op: op, Loc: loc}, Path: "/"}}
}

// NewDirectory is an empty directory, to fill with WithNewFile,
// WithFile and WithDirectory.
func NewDirectory() *Directory {
	return &Directory{&llb.Directory{Root: &llb.Node{Op: llb.ScratchOp{}, Loc: caller()}, Path: "/"}}
}

func (d *Directory) with(loc llb.Location, op string, f func(m *llb.Directory) error) *Directory {
	if d == nil || d.m == nil {
		return &Directory{&llb.Directory{Err: llb.Invalid(loc, op, "receiver", "the directory is nil", "start from sdk.Host, sdk.Git or sdk.NewDirectory")}}
	}
	if d.m.Err != nil {
		return d
	}
	m := *d.m
	if err := f(&m); err != nil {
		m.Err = err
	}
	return &Directory{&m}
}

func joinInner(base, p string) string {
	if p == "/" {
		return base
	}
	if base == "/" {
		return p
	}
	return base + p
}

// WithDirectory copies src into d at path.
func (d *Directory) WithDirectory(path string, src *Directory, opts ...CopyOption) *Directory {
	loc := caller()
	return d.with(loc, "Directory.WithDirectory", func(m *llb.Directory) error {
		p, err := relPath(loc, "Directory.WithDirectory", "path", path)
		if err != nil {
			return err
		}
		if src == nil || src.m == nil {
			return llb.Invalid(loc, "Directory.WithDirectory", "dir", "the directory is nil", "pass a directory from sdk.Host, sdk.Git or Container.Directory")
		}
		if src.m.Err != nil {
			return src.m.Err
		}
		o, err := copyOptions(loc, "Directory.WithDirectory", opts)
		if err != nil {
			return err
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.CopyOp{Dest: m.Root, DestPath: joinInner(m.Path, p), Src: src.m.Root, SrcPath: src.m.Path, Opts: o}}
		return nil
	})
}

// WithFile copies file into d at path.
func (d *Directory) WithFile(path string, file *File, opts ...CopyOption) *Directory {
	loc := caller()
	return d.with(loc, "Directory.WithFile", func(m *llb.Directory) error {
		p, err := relPath(loc, "Directory.WithFile", "path", path)
		if err != nil {
			return err
		}
		if p == "/" {
			return llb.Invalid(loc, "Directory.WithFile", "path", "the path names the directory itself", `give the file's name, e.g. "app"`)
		}
		if file == nil || file.m == nil {
			return llb.Invalid(loc, "Directory.WithFile", "file", "the file is nil", "pass a file from Container.File, Directory.File or sdk.HTTP")
		}
		if file.m.Err != nil {
			return file.m.Err
		}
		o, err := copyOptions(loc, "Directory.WithFile", opts)
		if err != nil {
			return err
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.CopyOp{Dest: m.Root, DestPath: joinInner(m.Path, p), Src: file.m.Root, SrcPath: file.m.Path, File: true, Opts: o}}
		return nil
	})
}

// WithNewFile writes a file with the given contents into d at path.
func (d *Directory) WithNewFile(path, contents string, opts ...FileOption) *Directory {
	loc := caller()
	return d.with(loc, "Directory.WithNewFile", func(m *llb.Directory) error {
		p, err := relPath(loc, "Directory.WithNewFile", "path", path)
		if err != nil {
			return err
		}
		op, err := newFile(loc, "Directory.WithNewFile", m.Root, joinInner(m.Path, p), contents, opts)
		if err != nil {
			return err
		}
		if p == "/" {
			return llb.Invalid(loc, "Directory.WithNewFile", "path", "the path names the directory itself", `give the file's name, e.g. "config.json"`)
		}
		m.Root = &llb.Node{Loc: loc, Op: op}
		return nil
	})
}

// WithoutPath removes a file or directory from d.
func (d *Directory) WithoutPath(path string) *Directory {
	loc := caller()
	return d.with(loc, "Directory.WithoutPath", func(m *llb.Directory) error {
		p, err := relPath(loc, "Directory.WithoutPath", "path", path)
		if err != nil {
			return err
		}
		if p == "/" {
			return llb.Invalid(loc, "Directory.WithoutPath", "path", "cannot remove the directory itself", "use sdk.NewDirectory() for an empty directory")
		}
		m.Root = &llb.Node{Loc: loc, Op: &llb.RmOp{Dest: m.Root, Path: joinInner(m.Path, p)}}
		return nil
	})
}

// Directory returns the subdirectory at path.
func (d *Directory) Directory(path string) *Directory {
	loc := caller()
	return d.with(loc, "Directory.Directory", func(m *llb.Directory) error {
		p, err := relPath(loc, "Directory.Directory", "path", path)
		m.Path = joinInner(m.Path, p)
		return err
	})
}

// File returns the file at path.
func (d *Directory) File(path string) *File {
	loc := caller()
	if d == nil || d.m == nil {
		return &File{&llb.File{Err: llb.Invalid(loc, "Directory.File", "receiver", "the directory is nil", "start from sdk.Host, sdk.Git or sdk.NewDirectory")}}
	}
	if d.m.Err != nil {
		return &File{&llb.File{Err: d.m.Err}}
	}
	p, err := relPath(loc, "Directory.File", "path", path)
	if err == nil && p == "/" {
		err = llb.Invalid(loc, "Directory.File", "path", "the path names the directory itself", `give the file's name, e.g. "go.mod"`)
	}
	return &File{&llb.File{Root: d.m.Root, Path: joinInner(d.m.Path, p), Err: err}}
}

// validURL reports whether s is an http(s) URL with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
