package engine

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
)

// A volume holding symbolic links (one dangling), a hard link, a fifo and
// an empty directory, unchanged since its save, uploads nothing; all of
// them travel.
func TestCacheVolumeWithSymlinkUnchangedIsNotSaved(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("symlink-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	_, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; ln -s x /data/link; ln -s /nowhere /data/dangling; ln /data/x /data/hard; mkfifo /data/fifo; mkdir /data/empty; echo odd > \"/data/new$(printf '\\nline')\"; echo one"))
	require.NoError(t, err)
	first := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	require.NotEmpty(t, first)
	_, err = e.output(t.Context(), volumeWriter(vol, "echo two"))
	require.NoError(t, err)
	assert.Equal(t, first, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "an unchanged volume with links is not pushed")

	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cd /data && readlink link dangling && cat hard && test -p fifo && test -d empty && ls | wc -l"}))
	require.NoError(t, err)
	assert.Equal(t, "x\n/nowhere\nx\n6\n", res.stdout, "links, a hard link's contents, a fifo and an empty directory travel; the name with a line break does not")
}

// Directories, modes and owners travel as the volume holds them: a step
// running as a user can write into the subdirectories it made, after a
// restore on a fresh engine; a mode-only change and a removed directory
// tree are saved.
func TestCacheVolumeKeepsOwnersAndModes(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("owner-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	user := func(script string) *sdk.Container {
		return sdk.From("debian:bookworm").
			WithUser("1000:1000").
			WithMountedCache("/data", vol, sdk.Owner(1000, 1000)).
			WithExec([]string{"sh", "-c", script})
	}
	_, err := e.output(t.Context(), user("mkdir -p /data/sub/deep /data/gone/deeper && chmod 0700 /data/sub && echo a > /data/sub/deep/f && echo g > /data/gone/deeper/f && echo s > /data/script && echo one"))
	require.NoError(t, err)
	// A mode-only change: same contents, same time.
	_, err = e.output(t.Context(), user("touch -r /data/script /data/ref && chmod 0755 /data/script && touch -r /data/ref /data/script && rm /data/ref && rm -r /data/gone && echo two"))
	require.NoError(t, err)

	fresh := secondEngine(t, env.Registry, WithCache(cache.ReadOnly()))
	res, err := fresh.output(t.Context(), user("echo b > /data/sub/deep/g && test ! -e /data/gone && stat -c '%a %u:%g %n' /data/sub /data/sub/deep /data/script"))
	require.NoError(t, err, "the user's own directories stay writable after a restore")
	assert.Equal(t, "700 1000:1000 /data/sub\n755 1000:1000 /data/sub/deep\n755 1000:1000 /data/script\n", res.stdout)
}

// A registry cache that refuses (asks for credentials the runner lacks),
// fails, or answers garbage gives one warning naming the cache, and the
// build goes on cold.
func TestCacheVolumeFaultyRegistryWarnsOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"auth", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="lading-test"`)
			w.WriteHeader(http.StatusUnauthorized)
		}},
		{"error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.Header().Set("Content-Type", ocispecs.MediaTypeImageManifest)
			w.Header().Set("Docker-Content-Digest", digest.FromString("garbage").String())
			_, _ = w.Write([]byte("{not json"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			cache := RegistryCache(host + "/lading-test/faulty:cache")
			e, _ := testEngine(t, WithCache(cache), WithInsecureRegistry(host))
			vol := sdk.CacheVolume("faulty-" + tc.name + "-" + uniqueTag(t))
			res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo built "+tc.name))
			require.NoError(t, err, "a faulty cache never fails a build")
			assert.Equal(t, "built "+tc.name+"\n", res.stdout)
			var named int
			for _, w := range res.Summary.Warnings {
				if strings.Contains(w, cache.String()) {
					named++
				}
			}
			assert.Equal(t, 1, named, "one warning naming the cache: %v", res.Summary.Warnings)
		})
	}
}

// A local cache that cannot be written (its path is under a file) never
// fails a build: it warns, naming the cache.
func TestCacheVolumeUnwritableLocalCacheWarns(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	cache := LocalCache(filepath.Join(file, "cache"))
	e, _ := testEngine(t, WithCache(cache))
	vol := sdk.CacheVolume("unwritable-" + uniqueTag(t))
	res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo built"))
	require.NoError(t, err, "an unwritable cache never fails a build")
	assert.Equal(t, "built\n", res.stdout)
	var named int
	for _, w := range res.Summary.Warnings {
		if strings.Contains(w, cache.String()) {
			named++
			assert.Contains(t, w, "cannot be written")
		}
	}
	assert.Equal(t, 1, named, "one warning naming the cache: %v", res.Summary.Warnings)
}

// With several caches, a volume is restored from the first that holds a
// save (a read-only one included) and saved to every writable one.
func TestCacheVolumeSeveralCaches(t *testing.T) {
	_, env := testEngine(t)
	tag := uniqueTag(t)
	main := RegistryCache(env.Registry + "/lading-test/vols:" + tag + "-main")
	dir := filepath.Join(t.TempDir(), "cache")
	vol := sdk.CacheVolume("several-caches-" + tag)
	seed, _ := testEngine(t, WithCache(main))
	_, err := seed.output(t.Context(), volumeWriter(vol, "echo from-main > /data/f; echo seed"))
	require.NoError(t, err)

	fresh := secondEngine(t, env.Registry, WithCache(LocalCache(dir), main.ReadOnly()))
	res, err := fresh.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cat /data/f; echo more > /data/g"}))
	require.NoError(t, err)
	assert.Equal(t, "from-main\n", res.stdout, "restored from the read-only cache")
	assert.True(t, hasWarning(res, "local:"), "the empty local cache says it holds no save: %v", res.Summary.Warnings)
	s, err := readLocalSave(dir, string(vol))
	require.NoError(t, err, "saved to the writable cache")
	assert.Equal(t, 1, s.layers)

	other := secondEngine(t, env.Registry, WithCache(LocalCache(dir).ReadOnly()))
	res, err = other.output(t.Context(), sdk.From("debian:bookworm").
		WithMountedCache("/data", vol).
		WithExec([]string{"sh", "-c", "cat /data/f /data/g"}))
	require.NoError(t, err)
	assert.Equal(t, "from-main\nmore\n", res.stdout, "the local save holds the whole volume")
}

// A volume of many small files: the first save copies them all, an
// unchanged one writes nothing, and a one-file change saves a layer of
// about that file.
func TestCacheVolumeManySmallFiles(t *testing.T) {
	t.Parallel()
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("many-" + tag)
	var progress syncBuffer
	e, _ := testEngine(t, WithCache(cache), WithProgress(ProgressPlain), WithProgressOutput(&progress))
	for _, script := range []string{
		"for d in $(seq 1 30); do mkdir -p /data/$d; for f in $(seq 1 100); do echo $d-$f > /data/$d/$f; done; done; echo a",
		"echo b",
		"echo changed > /data/7/7; echo c",
	} {
		_, err := e.output(t.Context(), volumeWriter(vol, script))
		require.NoError(t, err)
	}
	out := progress.String()
	assert.Contains(t, out, `checking cache volume "`+string(vol)+`" for changes to save`, "the wait after the build is explained")
	assert.Contains(t, out, `saved cache volume "`+string(vol)+`" (`)
	assert.Contains(t, out, ", 3030 entries changed) to "+cache.String())
	assert.Contains(t, out, `cache volume "`+string(vol)+`" unchanged`)
	assert.Contains(t, out, ", 1 entries changed) to "+cache.String())
	_, body := registryGet(t, env.Registry, "lading-test/vols/manifests/"+tag+"-vol-"+string(vol), ocispecs.MediaTypeImageManifest)
	var m ocispecs.Manifest
	require.NoError(t, json.Unmarshal(body, &m))
	require.Len(t, m.Layers, 2)
	assert.Less(t, m.Layers[1].Size, int64(4096), "the change's layer holds about one file")
}

// syncBuffer is a bytes.Buffer safe for the progress writer's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A volume found empty after a build is not saved over its save: a
// private mount of a volume another build holds is a new, empty one.
func TestCacheVolumeEmptyIsNotSavedOverItsSave(t *testing.T) {
	t.Parallel()
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("empty-" + tag)
	var progress syncBuffer
	e, _ := testEngine(t, WithCache(cache), WithProgress(ProgressPlain), WithProgressOutput(&progress))
	_, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo one"))
	require.NoError(t, err)
	first := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	require.NotEmpty(t, first)
	_, err = e.output(t.Context(), volumeWriter(vol, "rm /data/x; echo two", sdk.Private))
	require.NoError(t, err)
	assert.Equal(t, first, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "the save stays")
	assert.Contains(t, progress.String(), `cache volume "`+string(vol)+`" is empty: `+cache.String()+" keeps its save")
}

// A local cache whose layer index is garbage never fails a build: one
// warning names it and says what to remove; its volumes still travel.
func TestCacheVolumeCorruptLocalIndexWarns(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{false, true} {
		t.Run(map[bool]string{false: "writable", true: "read-only"}[ro], func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "cache")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), []byte("{garbage"), 0o644))
			cache := LocalCache(dir)
			if ro {
				cache = cache.ReadOnly()
			}
			e, _ := testEngine(t, WithCache(cache))
			vol := sdk.CacheVolume("corrupt-index-" + uniqueTag(t))
			res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo built"))
			require.NoError(t, err, "a corrupt cache never fails a build")
			assert.Equal(t, "built\n", res.stdout)
			require.Len(t, res.Summary.Warnings, 1, "%v", res.Summary.Warnings)
			assert.Contains(t, res.Summary.Warnings[0], cache.String())
			assert.Contains(t, res.Summary.Warnings[0], "remove "+filepath.Join(dir, "index.json")+" to start it afresh")
			if !ro {
				_, err := readLocalSave(dir, string(vol))
				require.NoError(t, err, "the volume is saved all the same")
			}
		})
	}
}

// A volume mounted at /lading (where the copy steps mount their own
// directories) keeps only what the steps wrote, and saves only that.
func TestCacheVolumeAtLadingPath(t *testing.T) {
	t.Parallel()
	_, env := testEngine(t)
	tag := uniqueTag(t)
	cache := RegistryCache(env.Registry + "/lading-test/vols:" + tag)
	vol := sdk.CacheVolume("at-lading-" + tag)
	e, _ := testEngine(t, WithCache(cache))
	step := func(script string) *sdk.Container {
		return sdk.From("debian:bookworm").
			WithMountedCache("/lading", vol).
			WithExec([]string{"sh", "-c", script})
	}
	_, err := e.output(t.Context(), step("echo x > /lading/x; echo one"))
	require.NoError(t, err)
	first := tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol))
	require.NotEmpty(t, first)
	res, err := e.output(t.Context(), step("ls -A /lading; echo two"))
	require.NoError(t, err)
	assert.Equal(t, "x\ntwo\n", res.stdout)
	assert.Equal(t, first, tagDigest(t, env.Registry, "lading-test/vols", tag+"-vol-"+string(vol)), "unchanged")
	assert.Empty(t, res.Summary.Warnings)
}

// A first save that fails (the registry refuses pushes) says so, after
// the warning that the cache holds no save yet.
func TestCacheVolumeRefusedFirstSaveWarns(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors":[{"code":"DENIED","message":"pushes are refused"}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cache := RegistryCache(host + "/lading-test/refused:cache")
	e, _ := testEngine(t, WithCache(cache), WithInsecureRegistry(host))
	vol := sdk.CacheVolume("refused-" + uniqueTag(t))
	res, err := e.output(t.Context(), volumeWriter(vol, "echo x > /data/x; echo built"))
	require.NoError(t, err, "a refused save never fails a build")
	require.Len(t, res.Summary.Warnings, 2, "%v", res.Summary.Warnings)
	assert.Contains(t, res.Summary.Warnings[0], "holds no save of cache volume")
	assert.Contains(t, res.Summary.Warnings[1], cache.String()+" was not updated with cache volume "+strconv.Quote(string(vol)))
}
