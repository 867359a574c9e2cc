package engine

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// Output is where a build's result goes. Outputs are made by [Registry],
// [OCITarball], [DockerTarball] and [LocalPath]; one build can have several.
// File outputs are atomic: they are written beside their destination and
// renamed into place only when the whole build succeeded.
type Output interface {
	// prepare turns the output into a BuildKit export for the program.
	prepare(e *Engine, p *lllb.Program) (*export, error)
}

// export is a prepared output: the BuildKit export entry, a function that
// moves the result into place after success, and one that removes
// temporary files.
type export struct {
	entry   client.ExportEntry
	commit  func() error
	cleanup func()
	publish bool
	loaded  func() *LoadedImage // what a LoadOutput loaded (output_daemon.go)
}

// registryOutput pushes an image.
type registryOutput struct {
	refs []string
}

// Registry pushes the built container image to a registry under ref and
// every extra tag. ref must carry an explicit tag ("registry.example.com/
// app:1.4.2"): a bare name would silently push "latest", so it is refused.
// An extra tag is either a tag of the same repository ("1.4", "latest") or
// a full reference. The manifest digest is in [Result.Digest].
func Registry(ref string, moreTags ...string) Output {
	return &registryOutput{refs: append([]string{ref}, moreTags...)}
}

// parseTags validates ref and expands moreTags into full references.
func parseTags(refs []string) ([]reference.Named, error) {
	if len(refs) == 0 || refs[0] == "" {
		return nil, fmt.Errorf("publishing needs an image reference with a tag, e.g. registry.example.com/app:1.0")
	}
	first, err := parseTagged(refs[0])
	if err != nil {
		return nil, err
	}
	named := []reference.Named{first}
	for _, t := range refs[1:] {
		if !strings.ContainsAny(t, ":/@") {
			nt, err := reference.WithTag(reference.TrimNamed(first), t)
			if err != nil {
				return nil, fmt.Errorf("invalid tag %q: %w", t, err)
			}
			named = append(named, nt)
			continue
		}
		n, err := parseTagged(t)
		if err != nil {
			return nil, err
		}
		named = append(named, n)
	}
	return named, nil
}

// parseTagged parses ref and requires an explicit tag or digest.
func parseTagged(ref string) (reference.Named, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	_, tagged := n.(reference.Tagged)
	_, digested := n.(reference.Digested)
	if !tagged && !digested {
		return nil, fmt.Errorf("image reference %q has no tag: a bare name would push %q; name the tag explicitly (%s:<tag>)", ref, n.Name()+":latest", ref)
	}
	return n, nil
}

func (o *registryOutput) prepare(e *Engine, p *lllb.Program) (*export, error) {
	named, err := parseTags(o.refs)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(named))
	insecure := false
	for i, n := range named {
		names[i] = n.String()
		if slices.Contains(e.s.insecure, reference.Domain(n)) {
			insecure = true
		}
	}
	attrs := map[string]string{
		string(exptypes.OptKeyName): strings.Join(names, ","),
		string(exptypes.OptKeyPush): "true",
	}
	if insecure {
		attrs[string(exptypes.OptKeyInsecure)] = "true"
	}
	addAnnotations(attrs, p)
	return &export{entry: client.ExportEntry{Type: client.ExporterImage, Attrs: attrs}, publish: true}, nil
}

// addAnnotations sets the program's manifest annotations on image exports.
func addAnnotations(attrs map[string]string, p *lllb.Program) {
	for k, v := range p.Annotations {
		attrs[exptypes.AnnotationManifestKey(nil, k)] = v
	}
}

// tarballOutput writes an OCI or Docker image archive.
type tarballOutput struct {
	kind string // client.ExporterOCI or client.ExporterDocker
	path string
	tags []string
}

// OCITarball writes the built image as an OCI image layout archive to path,
// naming it with the optional tags (full references, e.g. "app:1.0").
func OCITarball(path string, tags ...string) Output {
	return &tarballOutput{kind: client.ExporterOCI, path: path, tags: tags}
}

// DockerTarball writes the built image as an archive that "docker load"
// accepts, tagged with the given references (e.g. "app:1.0").
func DockerTarball(path string, tags ...string) Output {
	return &tarballOutput{kind: client.ExporterDocker, path: path, tags: tags}
}

func (o *tarballOutput) prepare(e *Engine, p *lllb.Program) (*export, error) {
	if o.path == "" {
		return nil, fmt.Errorf("%s tarball output needs a path", o.kind)
	}
	attrs := map[string]string{}
	if len(o.tags) > 0 {
		names := make([]string, len(o.tags))
		for i, t := range o.tags {
			n, err := reference.ParseNormalizedNamed(t)
			if err != nil {
				return nil, fmt.Errorf("invalid image reference %q: %w", t, err)
			}
			names[i] = reference.TagNameOnly(n).String()
		}
		attrs[string(exptypes.OptKeyName)] = strings.Join(names, ",")
	}
	addAnnotations(attrs, p)
	dest, err := filepath.Abs(o.path)
	if err != nil {
		return nil, err
	}
	f := &atomicFile{dest: dest}
	return &export{
		entry: client.ExportEntry{
			Type:  o.kind,
			Attrs: attrs,
			Output: func(map[string]string) (io.WriteCloser, error) {
				return f.create()
			},
		},
		commit:  f.commit,
		cleanup: f.cleanup,
	}, nil
}

// atomicFile is a file written under a temporary name beside its
// destination and renamed on commit.
type atomicFile struct {
	dest string
	tmp  string
}

func (f *atomicFile) create() (io.WriteCloser, error) {
	if err := os.MkdirAll(filepath.Dir(f.dest), 0o755); err != nil {
		return nil, err
	}
	tf, err := os.CreateTemp(filepath.Dir(f.dest), "."+filepath.Base(f.dest)+".tmp-*")
	if err != nil {
		return nil, err
	}
	f.tmp = tf.Name()
	return tf, nil
}

func (f *atomicFile) commit() error {
	if f.tmp == "" {
		return fmt.Errorf("writing %s: the engine sent no data", f.dest)
	}
	if err := os.Chmod(f.tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(f.tmp, f.dest); err != nil {
		return fmt.Errorf("writing %s: %w", f.dest, err)
	}
	f.tmp = ""
	return nil
}

func (f *atomicFile) cleanup() {
	if f.tmp != "" {
		os.Remove(f.tmp)
	}
}

// localOutput copies a directory or file to the host.
type localOutput struct {
	path string
}

// LocalPath copies the result to the host: a Directory's contents to the
// directory path (replacing it), a File to the file path, a Container's
// root filesystem to the directory path. The copy is assembled beside path
// and moved into place when the build succeeded.
func LocalPath(path string) Output { return &localOutput{path: path} }

func (o *localOutput) prepare(e *Engine, p *lllb.Program) (*export, error) {
	if o.path == "" {
		return nil, fmt.Errorf("local output needs a path")
	}
	dest, err := filepath.Abs(o.path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return nil, err
	}
	commit := func() error {
		if p.Kind == lllb.KindFile {
			src := filepath.Join(tmp, filepath.FromSlash(strings.TrimPrefix(p.FilePath, "/")))
			if err := os.Rename(src, dest); err != nil {
				return fmt.Errorf("writing %s: %w", dest, err)
			}
			return os.RemoveAll(tmp)
		}
		return replaceDir(tmp, dest)
	}
	return &export{
		entry:   client.ExportEntry{Type: client.ExporterLocal, OutputDir: tmp},
		commit:  commit,
		cleanup: func() { os.RemoveAll(tmp) },
	}, nil
}

// replaceDir moves the directory src to dest, replacing what was there.
func replaceDir(src, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		old := src + ".old"
		if err := os.Rename(dest, old); err != nil {
			return fmt.Errorf("replacing %s: %w", dest, err)
		}
		if err := os.Rename(src, dest); err != nil {
			if rerr := os.Rename(old, dest); rerr != nil {
				return fmt.Errorf("replacing %s: %w; putting its previous content back also failed, it is in %s: %w",
					dest, err, old, rerr)
			}
			return fmt.Errorf("replacing %s: %w", dest, err)
		}
		return os.RemoveAll(old)
	}
	if err := os.Rename(src, dest); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	return nil
}
