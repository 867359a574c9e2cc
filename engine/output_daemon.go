package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/moby/api/types/jsonstream"
	dockerclient "github.com/moby/moby/client"

	lllb "github.com/ladingbuild/lading/internal/llb"
)

// LoadOutput loads the built image into a local Docker or Podman daemon,
// the way `docker buildx build --load` does: BuildKit's Docker exporter
// streams the image archive straight into the daemon's image load API (no
// file in between). Make one with [DockerLoad] or [PodmanLoad]; [LoadOutput.At]
// picks another daemon. What was loaded is in [Result.Loaded].
//
// The load happens while the engine exports, with the layers
// uncompressed (the daemon unpacks them anyway): a build that fails in a
// step loads nothing, and a load the daemon refuses fails the build. A
// failure after the export (a cache export, another output) leaves the
// image loaded. A multi-platform build cannot be loaded (Docker's classic
// image store holds one platform per tag): load one platform, or publish
// the index. Attestations are not attached to a loaded image, as with a
// Docker tarball. A LoadOutput is immutable and safe for concurrent use.
type LoadOutput struct {
	kind daemonKind
	refs []string
	host string
}

// DockerLoad loads the built image into the Docker daemon as ref and every
// extra tag. ref is a name with an optional tag ("app:1.0"; "app" means
// "app:latest"); an extra tag is a tag of the same repository ("1.0",
// "latest") or a full reference. The daemon is the one of
// [WithDockerHost], else DOCKER_HOST, else the Docker CLI context in use,
// else /var/run/docker.sock; the API version is negotiated (Docker 20.10,
// API 1.41, and later).
func DockerLoad(ref string, moreTags ...string) *LoadOutput {
	return &LoadOutput{kind: kindDocker, refs: append([]string{ref}, moreTags...)}
}

// PodmanLoad loads the built image into Podman through its
// Docker-compatible API service (`podman system service`, or the
// podman.socket unit), as ref and every extra tag (see [DockerLoad]). The
// service is the one at CONTAINER_HOST, else Podman's default socket:
// /run/podman/podman.sock for root, $XDG_RUNTIME_DIR/podman/podman.sock
// for other users.
func PodmanLoad(ref string, moreTags ...string) *LoadOutput {
	return &LoadOutput{kind: kindPodman, refs: append([]string{ref}, moreTags...)}
}

// At returns a copy of the output that loads into the daemon at addr
// ("unix:///run/user/1000/podman/podman.sock", "tcp://127.0.0.1:2375"),
// whatever the environment says. At on a nil *LoadOutput returns nil
// (which a build refuses).
func (o *LoadOutput) At(addr string) *LoadOutput {
	if o == nil {
		return nil
	}
	c := *o
	c.refs = append([]string(nil), o.refs...)
	c.host = addr
	return &c
}

// String describes the output ("docker load app:1.0").
func (o *LoadOutput) String() string {
	if o == nil {
		return "<nil LoadOutput>"
	}
	return string(o.kind) + " load " + strings.Join(o.refs, ",")
}

// LoadedImage is an image a [LoadOutput] loaded into a daemon.
type LoadedImage struct {
	// Daemon is "docker" or "podman".
	Daemon string
	// Host is the daemon's address.
	Host string
	// ID is the daemon's image ID ("sha256:…"): the digest of the image
	// config for Docker's classic store and for Podman.
	ID string
	// Tags are the references the image was loaded as, normalized
	// ("docker.io/library/app:1.0").
	Tags []string
}

// loadTags validates the output's references and expands short tags.
func loadTags(refs []string) ([]string, error) {
	if len(refs) == 0 || refs[0] == "" {
		return nil, errors.New("loading into a daemon needs an image name, e.g. engine.DockerLoad(\"app:1.0\")")
	}
	first, err := reference.ParseNormalizedNamed(refs[0])
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %s: %w", quote(refs[0]), bounded(err))
	}
	if _, ok := first.(reference.Digested); ok {
		return nil, fmt.Errorf("image reference %s names a digest: a loaded image is named by tags, e.g. %s", quote(refs[0]), reference.TrimNamed(first).String()+":1.0")
	}
	first = reference.TagNameOnly(first)
	names := []string{first.String()}
	for _, t := range refs[1:] {
		var n reference.Named
		if !strings.ContainsAny(t, ":/@") {
			n, err = reference.WithTag(reference.TrimNamed(first), t)
		} else if n, err = reference.ParseNormalizedNamed(t); err == nil {
			if _, ok := n.(reference.Digested); ok {
				err = errors.New("a loaded image is named by tags, not digests")
			}
			n = reference.TagNameOnly(n)
		}
		if err != nil {
			return nil, fmt.Errorf("invalid tag %s: %w", quote(t), bounded(err))
		}
		names = append(names, n.String())
	}
	return names, nil
}

func (o *LoadOutput) prepare(e *Engine, p *lllb.Program) (*export, error) {
	if o == nil {
		return nil, errors.New("engine: nil *LoadOutput")
	}
	tags, err := loadTags(o.refs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o, err)
	}
	if p.Kind != lllb.KindContainer {
		return nil, fmt.Errorf("%s: only a container can be loaded into %s; export a directory or a file with LocalPath", o, o.kind)
	}
	if len(e.s.platforms) > 1 {
		return nil, fmt.Errorf("%s: a build for %d platforms cannot be loaded into %s (its image store holds one platform per tag): "+
			"load one platform (engine.WithPlatforms with one), or publish the image index with engine.Registry", o, len(e.s.platforms), o.kind)
	}
	target, err := resolveDaemon(o.kind, o.host, &e.s, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o, err)
	}
	// prepare has no context: the daemon is asked once, briefly, before
	// the build, so that a missing daemon fails now and not after it.
	d, err := dialDaemon(context.Background(), o.kind, target)
	if err != nil {
		return nil, err
	}
	l := &daemonLoad{d: d, tags: tags}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	attrs := map[string]string{
		string(exptypes.OptKeyName): strings.Join(archiveNames(tags), ","),
		// The daemon unpacks every layer it loads: compressing them on
		// the way out only costs time (bench metric docker-load: 0.39×
		// a tarball and docker load). The image ID, the config digest,
		// does not depend on it.
		string(exptypes.OptKeyLayerCompression): "uncompressed",
	}
	addAnnotations(attrs, p)
	return &export{
		entry: client.ExportEntry{
			Type:   client.ExporterDocker,
			Attrs:  attrs,
			Output: func(map[string]string) (io.WriteCloser, error) { return l.start(), nil },
		},
		commit:  l.commit,
		cleanup: l.cleanup,
		loaded:  l.result,
	}, nil
}

// daemonLoad is one load under way: the pipe BuildKit's exporter writes
// the archive into, and the API call reading it.
type daemonLoad struct {
	d      *daemonConn
	tags   []string
	ctx    context.Context // cancelled by cleanup: prepare and commit have none
	cancel context.CancelFunc

	mu     sync.Mutex
	pw     *io.PipeWriter
	done   chan error // the load's outcome, once started
	loaded *LoadedImage
}

// start begins the load and returns where the exporter writes the archive.
func (l *daemonLoad) start() io.WriteCloser {
	pr, pw := io.Pipe()
	l.mu.Lock()
	l.pw = pw
	l.done = make(chan error, 1)
	done := l.done
	l.mu.Unlock()
	go func() {
		err := l.load(pr)
		pr.CloseWithError(err) // unblocks the exporter if the daemon gave up early
		done <- err
	}()
	return pw
}

// load sends the archive to the daemon and reads its answer.
func (l *daemonLoad) load(r io.Reader) error {
	res, err := l.d.c.ImageLoad(l.ctx, r, dockerclient.ImageLoadWithQuiet(true))
	if err != nil {
		return fmt.Errorf("loading into %s at %s: %w", l.d.kind, l.d.addr, err)
	}
	defer res.Close()
	return readLoadStream(res, l.d)
}

// readLoadStream reads the daemon's JSON message stream and returns the
// first error it reports.
func readLoadStream(r io.Reader, d *daemonConn) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			jsonstream.Message
			ErrorText string `json:"error,omitempty"`
		}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("loading into %s at %s: reading its answer: %w", d.kind, d.addr, err)
		}
		switch {
		case m.Error != nil && m.Error.Message != "":
			return fmt.Errorf("loading into %s at %s: the daemon refused the image: %s", d.kind, d.addr, m.Error.Message)
		case m.ErrorText != "":
			return fmt.Errorf("loading into %s at %s: the daemon refused the image: %s", d.kind, d.addr, m.ErrorText)
		}
	}
}

// commit waits for the daemon to finish loading and reads back the image
// it now holds under the first tag.
func (l *daemonLoad) commit() error {
	l.mu.Lock()
	done := l.done
	l.mu.Unlock()
	if done == nil {
		return fmt.Errorf("loading into %s at %s: the engine sent no image", l.d.kind, l.d.addr)
	}
	if err := <-done; err != nil {
		return err
	}
	if err := l.tagRest(); err != nil {
		return err
	}
	img, err := l.d.c.ImageInspect(l.ctx, l.tags[0])
	if err != nil {
		return fmt.Errorf("loaded into %s at %s, but reading back %s failed: %w", l.d.kind, l.d.addr, l.tags[0], err)
	}
	l.mu.Lock()
	l.loaded = &LoadedImage{Daemon: string(l.d.kind), Host: l.d.addr, ID: img.ID, Tags: l.tags}
	l.mu.Unlock()
	return nil
}

// archiveNames are the names the image archive carries: the first only.
// Podman's service (also behind DOCKER_HOST, for podman-docker users)
// files every name of an archive but one under localhost/ when it is a
// Docker Hub name (BuildKit writes them short, "team/app:1.0", as Docker
// does); so the archive names the image once, and tagRest gives it the
// others through the API, fully qualified, whichever daemon answers.
func archiveNames(tags []string) []string { return tags[:1] }

// tagRest gives the loaded image the names its archive did not carry.
func (l *daemonLoad) tagRest() error {
	names := archiveNames(l.tags)
	for _, t := range l.tags[len(names):] {
		if _, err := l.d.c.ImageTag(l.ctx, dockerclient.ImageTagOptions{Source: l.tags[0], Target: t}); err != nil {
			return fmt.Errorf("loaded into %s at %s as %s, but tagging it %s failed: %w", l.d.kind, l.d.addr, l.tags[0], t, err)
		}
	}
	return nil
}

// result is what commit loaded, or nil.
func (l *daemonLoad) result() *LoadedImage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loaded
}

// cleanup aborts a load the build did not finish and releases the client.
func (l *daemonLoad) cleanup() {
	l.mu.Lock()
	pw := l.pw
	l.mu.Unlock()
	if pw != nil {
		pw.CloseWithError(errors.New("the build did not finish"))
	}
	l.cancel()
	l.d.close()
}

// loadedImages lists what the build's outputs loaded into daemons.
func (r *run) loadedImages() []LoadedImage {
	var out []LoadedImage
	for _, x := range r.exports {
		if x.loaded != nil {
			if li := x.loaded(); li != nil {
				out = append(out, *li)
			}
		}
	}
	return out
}
