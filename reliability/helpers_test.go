package reliability

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ladingbuild/lading/engine"
	"github.com/ladingbuild/lading/internal/testenv"
	"github.com/ladingbuild/lading/internal/testenv/testengine"
)

// sharedEngine connects to the test environment's engine (skipping, or
// failing in CI, when it is not configured).
func sharedEngine(t *testing.T, opts ...engine.Option) (*engine.Engine, testenv.Env) {
	t.Helper()
	return testengine.Connect(t, opts...)
}

// token returns a random string no earlier run used: it makes steps miss
// the cache and values easy to search for.
func token(t testing.TB) string {
	t.Helper()
	return testenv.Token(t)
}

// stepStarted returns an events callback that closes the returned channel
// the first time a step whose name contains marker starts.
func stepStarted(marker string) (func(engine.Event), <-chan struct{}) {
	ch := make(chan struct{})
	done := false
	return func(ev engine.Event) {
		// Events arrive from one goroutine, in order.
		if !done && ev.Kind == engine.StepStarted && strings.Contains(ev.Name, marker) {
			done = true
			close(ch)
		}
	}, ch
}

// --- own buildkitd processes ------------------------------------------------

// isolateLocal points lading's local engine at temporary directories
// (XDG_RUNTIME_DIR, XDG_CACHE_HOME), so that the test never touches the
// user's engine. At the end it stops the engine started there, kills the
// runc containers a killed engine left behind (they belong to engines
// this test started) and unmounts what is still mounted below.
func isolateLocal(t *testing.T) (root string) {
	t.Helper()
	// Short paths: a unix socket path must fit in 108 bytes, and
	// t.TempDir's, named after the test, may not.
	dir, err := os.MkdirTemp("", "ldr-") //nolint:usetesting // see above; removed in the cleanup below
	require.NoError(t, err)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("BUILDKIT_HOST", "")
	t.Setenv("LADING_REGISTRY_MIRROR", "")
	t.Setenv("LADING_INSECURE_REGISTRY", "")
	t.Setenv("LADING_BUILDKITD", "")
	root = filepath.Join(dir, "cache", "lading", "engine")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, engine.StopLocal(ctx), "stopping the local engine")
		killRuncUnder(t, root)
		unmountUnder(dir)
		os.RemoveAll(dir)
	})
	return root
}

// runcContainer is a container as `runc list` shows it.
type runcContainer struct {
	ID     string `json:"id"`
	PID    int    `json:"pid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// runcContainers lists the runc containers whose bundle lives below root.
// BuildKit's runc executor keeps runc's state in runc's default root
// (/run/runc), shared by every buildkitd on the machine: only the bundle
// path tells whose a container is.
func runcContainers(root string) []runcContainer {
	out, err := exec.Command("runc", "list", "-f", "json").Output()
	if err != nil {
		return nil
	}
	var all, mine []runcContainer
	if json.Unmarshal(out, &all) != nil {
		return nil
	}
	for _, c := range all {
		if strings.HasPrefix(c.Bundle, filepath.Clean(root)+"/") {
			mine = append(mine, c)
		}
	}
	return mine
}

// killRuncUnder kills and deletes the runc containers whose bundle lives
// below root: containers of an engine this test started, which outlive it
// when it is killed with SIGKILL.
func killRuncUnder(t *testing.T, root string) {
	t.Helper()
	for _, c := range runcContainers(root) {
		t.Logf("removing leftover runc container %s (pid %d, %s)", c.ID, c.PID, c.Status)
		if out, err := exec.Command("runc", "kill", c.ID, "KILL").CombinedOutput(); err != nil {
			t.Logf("runc kill %s: %v: %s", c.ID, err, out) // it may have exited meanwhile
		}
		waitGone(c.PID, 5*time.Second)
		if out, err := exec.Command("runc", "delete", "--force", c.ID).CombinedOutput(); err != nil {
			t.Logf("runc delete --force %s: %v: %s", c.ID, err, out)
		}
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	prefix := filepath.Clean(dir) + "/"
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.HasPrefix(fields[4], prefix) {
			points = append(points, fields[4])
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	return points
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
// It is best effort: a mount point can vanish with its parent's unmount.
func unmountUnder(dir string) {
	for _, mp := range mountsUnder(dir) {
		_ = syscall.Unmount(mp, syscall.MNT_DETACH)
	}
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	dt, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(dt, ')'); i >= 0 && i+2 < len(dt) {
		return dt[i+2] != 'Z'
	}
	return true
}

// waitGone waits up to d for pid to exit.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// pidsWithArg lists the processes whose command line contains s.
func pidsWithArg(s string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dt, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(dt, []byte(s)) && processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// --- images in the registry ----------------------------------------------------

// pulledImage is an image as the registry serves it.
type pulledImage struct {
	Manifest    ocispecs.Manifest
	RawManifest []byte
	Config      ocispecs.Image
	RawConfig   []byte
	// Layers are the uncompressed layer tarballs the build added, top
	// layer last; BaseLayers counts the layers left out because they are
	// the very blobs of the base image.
	Layers     [][]byte
	BaseLayers int
}

// pullImage reads repo@digest back from the registry: manifest, config
// and every layer, uncompressed, except the layers it shares with base
// (e.g. "library/debian:bookworm"), which existed before the build.
func pullImage(t *testing.T, registry, repo, digest, base string) pulledImage {
	t.Helper()
	skip := map[string]bool{}
	if base != "" {
		name, tag, _ := strings.Cut(base, ":")
		skip = testenv.LayerDigests(t, registry, name, tag)
	}
	img := testenv.PullImage(t, registry, repo, digest)
	p := pulledImage{Manifest: img.Manifest, RawManifest: img.RawManifest, Config: img.Config, RawConfig: img.RawConfig}
	for i, l := range img.Manifest.Layers {
		if skip[l.Digest.String()] {
			p.BaseLayers++
			continue
		}
		p.Layers = append(p.Layers, gunzip(t, img.Layers[i]))
	}
	require.NotEmpty(t, p.Layers, "the build added no layer")
	if base != "" {
		require.Equal(t, len(skip), p.BaseLayers, "the image reuses the base image's layers as they are")
	}
	return p
}

// contains reports whether s occurs in the manifest, the config (which
// holds the image's history) or any layer.
func (p pulledImage) contains(s string) (where string, found bool) {
	switch {
	case bytes.Contains(p.RawManifest, []byte(s)):
		return "manifest", true
	case bytes.Contains(p.RawConfig, []byte(s)):
		return "config", true
	}
	for i, l := range p.Layers {
		if bytes.Contains(l, []byte(s)) {
			return fmt.Sprintf("layer %d", i), true
		}
	}
	return "", false
}

// gunzip decompresses dt, or returns it as it is when it is not gzip.
func gunzip(t *testing.T, dt []byte) []byte {
	t.Helper()
	return testenv.Gunzip(t, dt)
}

// tarNames lists the entries of a tarball.
func tarNames(t *testing.T, dt []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(dt))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
}

// imageRef names a fresh image in the test registry.
func imageRef(t *testing.T, env testenv.Env) (ref, repo string) {
	repo = "lading-reliability/" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	return env.Registry + "/" + repo + ":" + token(t), repo
}

// --- the daemon's build history ----------------------------------------------

// historyRecord is one record of the daemon's build history: the record
// itself as JSON, and every blob it points at (logs, trace, provenance
// and other attestations), uncompressed.
type historyRecord struct {
	Ref   string
	Text  []byte
	Blobs map[string][]byte // by descriptor name, e.g. "logs", "attestation 0"
}

// find returns where s occurs in the record.
func (r historyRecord) find(s string) []string {
	var where []string
	if bytes.Contains(r.Text, []byte(s)) {
		where = append(where, "record")
	}
	for name, b := range r.Blobs {
		if bytes.Contains(b, []byte(s)) {
			where = append(where, name)
		}
	}
	slices.Sort(where)
	return where
}

// buildHistory reads the records of the daemon at addr whose build started
// at or after since, with the blobs they point at. It talks to the daemon
// through BuildKit's client, as `buildctl history` does.
func buildHistory(t *testing.T, addr string, since time.Time) []historyRecord {
	t.Helper()
	ctx := t.Context()
	c, err := client.New(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	require.NoError(t, err)
	var out []historyRecord
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		rec := ev.GetRecord()
		if rec == nil || rec.CreatedAt == nil || rec.CreatedAt.AsTime().Before(since.Add(-time.Second)) {
			continue
		}
		text, err := protojson.Marshal(rec)
		require.NoError(t, err)
		hr := historyRecord{Ref: rec.Ref, Text: text, Blobs: map[string][]byte{}}
		descs := map[string]*controlapi.Descriptor{"logs": rec.Logs, "trace": rec.Trace, "external error": rec.ExternalError}
		results := map[string]*controlapi.BuildResultInfo{"result": rec.Result}
		for k, r := range rec.Results {
			results["result "+k] = r
		}
		for name, r := range results {
			if r == nil {
				continue
			}
			descs[name+" (deprecated)"] = r.ResultDeprecated
			for i, a := range r.Attestations {
				descs[fmt.Sprintf("%s attestation %d", name, i)] = a
			}
			for i, d := range r.Results {
				descs[fmt.Sprintf("%s platform %d", name, i)] = d
			}
		}
		for name, d := range descs {
			if d == nil || d.Digest == "" {
				continue
			}
			hr.Blobs[name] = gunzip(t, readContent(t, c, d.Digest))
		}
		out = append(out, hr)
	}
	return out
}

// readContent reads a blob from the daemon's content store.
func readContent(t *testing.T, c *client.Client, dgst string) []byte {
	t.Helper()
	rc, err := c.ContentClient().Read(t.Context(), &contentapi.ReadContentRequest{Digest: dgst})
	require.NoError(t, err)
	var buf bytes.Buffer
	for {
		resp, err := rc.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes()
		}
		if err != nil {
			t.Logf("reading %s from the content store: %v", dgst, err)
			return buf.Bytes()
		}
		buf.Write(resp.Data)
	}
}

// historyLeaks returns, for each record since since, where any of the
// needles occur.
func historyLeaks(t *testing.T, addr string, since time.Time, needles ...string) []string {
	t.Helper()
	var leaks []string
	for _, r := range buildHistory(t, addr, since) {
		for _, n := range needles {
			if where := r.find(n); len(where) > 0 {
				leaks = append(leaks, fmt.Sprintf("record %s holds %q in: %s", r.Ref, n, strings.Join(where, ", ")))
			}
		}
	}
	return leaks
}
