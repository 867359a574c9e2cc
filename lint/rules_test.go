package lint_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/lock"
	"github.com/ladingbuild/lading/sdk"
)

// base is a clean starting point: pinned by digest, non-root.
const digestRef = "debian:bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000"

func clean() *sdk.Container { return sdk.From(digestRef).WithUser("10001") }

func sh(script string) []string { return []string{"sh", "-c", script} }

// hostDir makes a host directory with the given top-level entries (a
// trailing "/" makes a directory).
func hostDir(t *testing.T, entries ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		p := filepath.Join(dir, e)
		if strings.HasSuffix(e, "/") {
			require.NoError(t, os.MkdirAll(p, 0o755))
			continue
		}
		require.NoError(t, os.WriteFile(p, []byte("x\n"), 0o644))
	}
	return dir
}

type ruleCase struct {
	name  string
	rule  lint.Rule
	value func(t *testing.T) sdk.Value
	opts  []lint.Option
	fires bool
}

var ruleCases = []ruleCase{
	{"latest tag", lint.BaseLatest, func(*testing.T) sdk.Value { return sdk.From("debian:latest").WithUser("1") }, nil, true},
	{"no tag", lint.BaseLatest, func(*testing.T) sdk.Value { return sdk.From("debian").WithUser("1") }, nil, true},
	{"digest", lint.BaseLatest, func(*testing.T) sdk.Value { return clean() }, nil, false},
	{"tag only", lint.BaseUnpinned, func(*testing.T) sdk.Value { return sdk.From("debian:bookworm").WithUser("1") }, nil, true},
	{"tag pinned by option", lint.BaseUnpinned, func(*testing.T) sdk.Value { return sdk.From("debian:bookworm").WithUser("1") }, []lint.Option{lint.Pinned("debian:bookworm")}, false},
	{"tag pinned by normalized ref", lint.BaseUnpinned, func(*testing.T) sdk.Value { return sdk.From("debian:bookworm").WithUser("1") }, []lint.Option{lint.Pinned("docker.io/library/debian:bookworm")}, false},
	{"tag pinned by func", lint.BaseUnpinned, func(*testing.T) sdk.Value { return sdk.From("debian:bookworm").WithUser("1") },
		[]lint.Option{lint.PinnedBy(func(s lint.Source) bool { return s.Kind == lint.ImageSource })}, false},
	{"build stage base", lint.BaseUnpinned, func(*testing.T) sdk.Value {
		b := sdk.From("golang:1.26").WithExec([]string{"go", "build"})
		return clean().WithFile("/app", b.File("/out/app"))
	}, nil, true},
	{"git branch", lint.GitUnpinned, func(*testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Git("https://example.com/r.git", "main"))
	}, nil, true},
	{"git commit", lint.GitUnpinned, func(*testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Git("https://example.com/r.git", "0123456789abcdef0123456789abcdef01234567"))
	}, nil, false},
	{"systemd", lint.InitEntrypoint, func(*testing.T) sdk.Value { return clean().WithEntrypoint("/lib/systemd/systemd") }, nil, true},
	{"supervisord in cmd", lint.InitEntrypoint, func(*testing.T) sdk.Value { return clean().WithDefaultArgs("supervisord", "-n") }, nil, true},
	{"s6 behind tini", lint.InitEntrypoint, func(*testing.T) sdk.Value { return clean().WithEntrypoint("tini", "--", "s6-svscan", "/etc/s6") }, nil, true},
	{"runit in a script", lint.InitEntrypoint, func(*testing.T) sdk.Value {
		return clean().WithEntrypoint("sh", "-c", "setup && exec runsvdir /etc/service")
	}, nil, true},
	{"supervisord in a script behind dumb-init", lint.InitEntrypoint, func(*testing.T) sdk.Value {
		return clean().WithEntrypoint("dumb-init", "--", "bash", "-c", "exec supervisord -n")
	}, nil, true},
	{"app in a script behind tini", lint.InitEntrypoint, func(*testing.T) sdk.Value {
		return clean().WithEntrypoint("tini", "--", "sh", "-c", "exec /usr/local/bin/app")
	}, nil, false},
	{"app behind tini", lint.InitEntrypoint, func(*testing.T) sdk.Value { return clean().WithEntrypoint("tini", "--", "/usr/local/bin/app") }, nil, false},
	{"user root", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef).WithUser("root") }, nil, true},
	{"user 0:0", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef).WithUser("0:0") }, nil, true},
	{"user 00", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef).WithUser("00") }, nil, true},
	{"user 000:0", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef).WithUser("000:0") }, nil, true},
	{"user 10001:0", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef).WithUser("10001:0") }, nil, false},
	{"user unset", lint.RootUser, func(*testing.T) sdk.Value { return sdk.From(digestRef) }, nil, true},
	{"scratch without user", lint.RootUser, func(*testing.T) sdk.Value { return sdk.Scratch().WithNewFile("/a", "a") }, nil, true},
	{"user 10001", lint.RootUser, func(*testing.T) sdk.Value { return clean() }, nil, false},
	{"credential env name", lint.SecretEnv, func(*testing.T) sdk.Value { return clean().WithEnv("NPM_TOKEN", "abcd1234efgh") }, nil, true},
	{"token-shaped env value", lint.SecretEnv, func(*testing.T) sdk.Value { return clean().WithEnv("X", "ghp_"+strings.Repeat("a", 36)) }, nil, true},
	{"secret value in exec env", lint.SecretEnv, func(*testing.T) sdk.Value {
		return clean().WithSecretEnv("T", sdk.SecretFromValue("t", "s3cr3t-value")).WithExec([]string{"make"}, sdk.Env("OPT", "s3cr3t-value"))
	}, nil, true},
	{"token file path", lint.SecretEnv, func(*testing.T) sdk.Value { return clean().WithEnv("NPM_TOKEN_FILE", "/run/secrets/npm") }, nil, false},
	{"secret env", lint.SecretEnv, func(*testing.T) sdk.Value {
		return clean().WithSecretEnv("NPM_TOKEN", sdk.SecretFromEnv("NPM_TOKEN")).WithExec([]string{"npm", "publish"})
	}, nil, false},
	{"password flag", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"mysql", "--password=hunter22", "-e", "select 1"})
	}, nil, true},
	{"token in a script", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("git clone https://x:glpat-" + strings.Repeat("b", 20) + "@gitlab.com/r.git"))
	}, nil, true},
	{"password from a variable", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh(`mysql --password="$DB_PASSWORD" -e 'select 1'`))
	}, nil, false},
	{"docker login -p", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("docker login -u me -p hunter22 registry.example.com"))
	}, nil, true},
	{"docker login -p from a variable", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh(`docker login -u me -p "$REG_PASSWORD" registry.example.com`))
	}, nil, false},
	{"authorization header", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"curl", "-fsSo", "/t", "-H", "Authorization: Bearer abcdefghijklmnop", "https://x.example/t"})
	}, nil, true},
	{"authorization header from a variable", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh(`curl -fsSo /t -H "Authorization: Bearer $TOKEN" https://x.example/t`))
	}, nil, false},
	{"password in a download's URL", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://ci:hunter22@x.example/t", "sha256:"+strings.Repeat("0", 64)))
	}, nil, true},
	{"token in a Git URL's query", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithDirectory("/s", sdk.Git("https://x.example/r.git?access_token=abcdef123456", strings.Repeat("a", 40)))
	}, nil, true},
	{"user without password in a Git URL", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithDirectory("/s", sdk.Git("ssh://git@x.example/r.git", strings.Repeat("a", 40)))
	}, nil, false},
	{"password-stdin", lint.SecretArg, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("docker login --password-stdin -u me < /run/secrets/p"))
	}, nil, false},
	{"credential label", lint.SecretLabel, func(*testing.T) sdk.Value { return clean().WithLabel("deploy.token", "abcdef123456") }, nil, true},
	{"secret value in annotation", lint.SecretLabel, func(*testing.T) sdk.Value {
		return clean().WithMountedSecret("/s", sdk.SecretFromValue("k", "value-of-k")).WithExec([]string{"true"}).WithAnnotation("a", "value-of-k")
	}, nil, true},
	{"ordinary labels", lint.SecretLabel, func(*testing.T) sdk.Value {
		return clean().WithLabel("org.opencontainers.image.authors", "team@example.com").WithLabel("org.opencontainers.image.title", "app")
	}, nil, false},
	{"npmrc with a token", lint.SecretFile, func(*testing.T) sdk.Value {
		return clean().WithNewFile("/root/.npmrc", "//registry.npmjs.org/:_authToken=abcdef123456\n")
	}, nil, true},
	{"private key", lint.SecretFile, func(*testing.T) sdk.Value {
		return clean().WithNewFile("/k", "-----BEGIN OPENSSH PRIVATE KEY-----\nxxx\n-----END OPENSSH PRIVATE KEY-----\n")
	}, nil, true},
	{"docker config with auth", lint.SecretFile, func(*testing.T) sdk.Value {
		return clean().WithNewFile("/root/.docker/config.json", `{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNzd29yZA=="}}}`)
	}, nil, true},
	{"docker config with a helper", lint.SecretFile, func(*testing.T) sdk.Value {
		return clean().WithNewFile("/root/.docker/config.json", `{"credsStore":"ecr-login","auths":{"registry.example.com":{}}}`)
	}, nil, false},
	{"authorization env", lint.SecretEnv, func(*testing.T) sdk.Value { return clean().WithEnv("AUTHORIZATION", "Bearer abcdefghijklmnop") }, nil, true},
	{"config without credentials", lint.SecretFile, func(*testing.T) sdk.Value {
		return clean().WithNewFile("/etc/app.conf", "listen = :8080\npassword_file = /run/secrets/p\n")
	}, nil, false},
	{"empty proxy clears the base's", lint.ProxyEnv, func(*testing.T) sdk.Value {
		return clean().WithEnv("HTTP_PROXY", "").WithEnv("https_proxy", "").WithExec([]string{"make"}, sdk.Env("NO_PROXY", ""))
	}, nil, false},
	{"proxy in image env", lint.ProxyEnv, func(*testing.T) sdk.Value { return clean().WithEnv("HTTPS_PROXY", "http://proxy:3128") }, nil, true},
	{"proxy in exec env", lint.ProxyEnv, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"make"}, sdk.Env("http_proxy", "http://proxy:3128"))
	}, nil, true},
	{"WithProxy", lint.ProxyEnv, func(*testing.T) sdk.Value {
		return clean().WithProxy(sdk.Proxy{HTTPS: "http://proxy:3128"}).WithExec([]string{"make"})
	}, nil, false},
	{"host CA into the image", lint.CABundle, func(t *testing.T) sdk.Value {
		return clean().WithFile("/usr/local/share/ca-certificates/corp.crt", sdk.Host(hostDir(t, "corp.crt")).File("corp.crt"))
	}, nil, true},
	{"CA env in image", lint.CABundle, func(*testing.T) sdk.Value { return clean().WithEnv("NODE_EXTRA_CA_CERTS", "/etc/corp.pem") }, nil, true},
	{"distribution bundle from a stage", lint.CABundle, func(*testing.T) sdk.Value {
		return sdk.Scratch().WithUser("1").WithFile("/etc/ssl/certs/ca-certificates.crt", sdk.From(digestRef).File("/etc/ssl/certs/ca-certificates.crt"))
	}, nil, false},
	{"host sends .git", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, ".git/", "main.go")))
	}, nil, true},
	{"host sends .env", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, ".env", "main.go")))
	}, nil, true},
	{"host sends a pem", lint.HostContext, func(t *testing.T) sdk.Value { return clean().WithDirectory("/src", sdk.Host(hostDir(t, "server.pem"))) }, nil, true},
	{"host sends node_modules", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, "node_modules/")))
	}, nil, true},
	{"the graph reads only a subdirectory", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, ".git/", ".env", "app/", "app/main.go")).Directory("app"))
	}, nil, false},
	{"excluded", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, ".git/", "node_modules/", "id_rsa", "main.go"), sdk.Exclude(".git/", "node_modules", "id_rsa")))
	}, nil, false},
	{"dockerignored", lint.HostContext, func(t *testing.T) sdk.Value {
		dir := hostDir(t, ".git/", "dist/", ".env", "main.go")
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(".git\ndist/\n.env\n"), 0o644))
		return clean().WithDirectory("/src", sdk.Host(dir))
	}, nil, false},
	{"dockerignore ignored", lint.HostContext, func(t *testing.T) sdk.Value {
		dir := hostDir(t, ".git/")
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(".git\n"), 0o644))
		return clean().WithDirectory("/src", sdk.Host(dir, sdk.IgnoreDockerignore()))
	}, nil, true},
	{"included only", lint.HostContext, func(t *testing.T) sdk.Value {
		return clean().WithDirectory("/src", sdk.Host(hostDir(t, ".git/", "src/"), sdk.Include("src/")))
	}, nil, false},
	{"apt without cache", lint.PackageNoCache, func(*testing.T) sdk.Value { return clean().WithExec(sh("apt-get update && apt-get install -y curl")) }, nil, true},
	{"pip without cache", lint.PackageNoCache, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"python3", "-m", "pip", "install", "flask"})
	}, nil, true},
	{"npm ci with cache", lint.PackageNoCache, func(*testing.T) sdk.Value {
		return clean().WithMountedCache("/root/.npm", sdk.CacheVolume("npm")).WithExec([]string{"npm", "ci"}, sdk.AsUser("root"))
	}, nil, false},
	{"apt with caches", lint.PackageNoCache, func(*testing.T) sdk.Value { return aptCached(sdk.Locked) }, nil, false},
	{"apt lists left", lint.PackageCacheInLayer, func(*testing.T) sdk.Value { return clean().WithExec(sh("apt-get update && apt-get install -y curl")) }, nil, true},
	{"apk without --no-cache", lint.PackageCacheInLayer, func(*testing.T) sdk.Value { return clean().WithExec([]string{"apk", "add", "curl"}) }, nil, true},
	{"apt cleaned", lint.PackageCacheInLayer, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("apt-get update && apt-get install -y curl && apt-get clean && rm -rf /var/lib/apt/lists/*"))
	}, nil, false},
	{"apk --no-cache", lint.PackageCacheInLayer, func(*testing.T) sdk.Value { return clean().WithExec([]string{"apk", "add", "--no-cache", "curl"}) }, nil, false},
	{"pip in a build stage", lint.PackageCacheInLayer, func(*testing.T) sdk.Value {
		b := sdk.From(digestRef).WithExec([]string{"pip", "install", "-t", "/out", "flask"})
		return clean().WithDirectory("/app", b.Directory("/out"))
	}, nil, false},
	{"apt cache shared", lint.CacheSharing, func(*testing.T) sdk.Value { return aptCached(sdk.Shared) }, nil, true},
	{"apt cache locked", lint.CacheSharing, func(*testing.T) sdk.Value { return aptCached(sdk.Locked) }, nil, false},
	{"go cache shared", lint.CacheSharing, func(*testing.T) sdk.Value {
		return clean().WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go")).WithExec([]string{"go", "build"})
	}, nil, false},
	{"curl | sh", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSL https://get.example.com | sudo bash -s"))
	}, nil, true},
	{"curl | tee | sh", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSL https://x.example/i.sh | tee /tmp/i.log | sh -s -- --yes"))
	}, nil, true},
	{"curl || sh fallback", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSo /tmp/t https://x.example/t || sh /opt/fallback.sh"))
	}, nil, false},
	{"bash <(wget)", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"bash", "-c", "bash <(wget -qO- https://x.example/i.sh)"})
	}, nil, true},
	{"sh -c $(curl)", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec([]string{"sh", "-c", `$(curl -fsSL https://x.example/i.sh)`})
	}, nil, true},
	{"curl to a file", lint.PipeToShell, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSLo /tmp/t.tgz https://x.example/t.tgz && tar xzf /tmp/t.tgz"))
	}, nil, false},
	{"download unchecked", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSLo /tmp/t.tgz https://x.example/t.tgz && tar xzf /tmp/t.tgz"))
	}, nil, true},
	{"download checked", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithExec(sh("curl -fsSLo t.tgz https://x.example/t.tgz && echo 'abc  t.tgz' | sha256sum -c && tar xzf t.tgz"))
	}, nil, false},
	{"curl to loopback", lint.DownloadUnverified, func(*testing.T) sdk.Value { return clean().WithExec(sh("curl -fsS http://127.0.0.1:8080/health")) }, nil, false},
	{"sdk.HTTP", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://x.example/t", "sha256:"+strings.Repeat("0", 64)))
	}, nil, false},
	{"sdk.HTTP without checksum", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://x.example/t", ""))
	}, nil, true},
	{"sdk.HTTP without checksum, locked", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://x.example/t", ""))
	}, []lint.Option{lint.WithLock(httpLock("https://x.example/t"))}, false},
	{"sdk.HTTP without checksum, lock of another URL", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://x.example/t", ""))
	}, []lint.Option{lint.WithLock(httpLock("https://x.example/other"))}, true},
	{"sdk.HTTP without checksum, pinned elsewhere", lint.DownloadUnverified, func(*testing.T) sdk.Value {
		return clean().WithFile("/t", sdk.HTTP("https://x.example/t", ""))
	}, []lint.Option{lint.Pinned("https://x.example/t")}, false},
	{"large new file", lint.LargeFile, func(*testing.T) sdk.Value { return clean().WithNewFile("/big", strings.Repeat("x", 2<<20)) }, nil, true},
	{"large with a lower limit", lint.LargeFile, func(*testing.T) sdk.Value { return clean().WithNewFile("/f", strings.Repeat("x", 200)) }, []lint.Option{lint.LargeFileLimit(100)}, true},
	{"small new file", lint.LargeFile, func(*testing.T) sdk.Value { return clean().WithNewFile("/f", "hello") }, nil, false},
	{"allow without reason", lint.BadAllow, func(*testing.T) sdk.Value { return lint.Allow(sdk.From("debian:latest"), lint.BaseLatest, " ") }, nil, true},
	{"allow of no rule", lint.BadAllow, func(*testing.T) sdk.Value { return lint.Allow(clean(), "no-such-rule", "why") }, nil, true},
	{"allow with reason", lint.BadAllow, func(*testing.T) sdk.Value { return lint.Allow(clean(), lint.RootUser, "why") }, nil, false},
}

func aptCached(sharing sdk.Sharing) *sdk.Container {
	return clean().
		WithMountedCache("/var/cache/apt", sdk.CacheVolume("apt-cache"), sharing).
		WithMountedCache("/var/lib/apt/lists", sdk.CacheVolume("apt-lists"), sharing).
		WithExec(sh("apt-get update && apt-get install -y curl"), sdk.AsUser("root"))
}

// TestRules runs every rule on a graph that triggers it and on one that
// does not.
func TestRules(t *testing.T) {
	t.Parallel()
	covered := map[lint.Rule][2]bool{}
	for _, tc := range ruleCases {
		c := covered[tc.rule]
		c[btoi(tc.fires)] = true
		covered[tc.rule] = c
		t.Run(string(tc.rule)+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := lint.Run(tc.value(t), tc.opts...)
			require.NoError(t, err)
			var got []lint.Finding
			for _, f := range r.Findings() {
				if f.Rule == tc.rule {
					got = append(got, f)
				}
			}
			if !tc.fires {
				assert.Empty(t, got, "all findings: %v", r.Findings())
				return
			}
			require.NotEmpty(t, got, "all findings: %v", r.Findings())
			for _, f := range got {
				assert.NotEmpty(t, f.Message)
				assert.NotEmpty(t, f.Fix)
				assert.Contains(t, f.Location.String(), "lint/rules_test.go:", "the finding names the test's line")
			}
		})
	}
	for _, info := range lint.Rules() {
		assert.Equal(t, [2]bool{true, true}, covered[info.Rule], "rule %s needs a case that fires and one that does not", info.Rule)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestWithLock: a tag or Git ref the lock records is pinned; one it does
// not record is still reported.
func TestWithLock(t *testing.T) {
	t.Parallel()
	f := lock.New()
	f.SetImage("docker.io/library/debian:bookworm", "linux/amd64", "sha256:"+strings.Repeat("a", 64))
	f.SetGit("https://github.com/org/repo.git", "main", strings.Repeat("b", 40))
	v := sdk.From("debian:bookworm").
		WithDirectory("/src", sdk.Git("https://github.com/org/repo.git", "main")).
		WithDirectory("/other", sdk.Git("https://github.com/org/other.git", "main")).
		WithFile("/x", sdk.From("debian:latest").File("/etc/os-release"))
	r, err := lint.Run(v, lint.WithLock(f))
	require.NoError(t, err)
	var got []string
	for _, fd := range r.Findings() {
		if fd.Rule == lint.BaseUnpinned || fd.Rule == lint.BaseLatest || fd.Rule == lint.GitUnpinned {
			got = append(got, string(fd.Rule)+" "+fd.Step)
		}
	}
	assert.ElementsMatch(t, []string{`base-latest From "debian:latest"`, "git-unpinned Git https://github.com/org/other.git#main"}, got)
	r, err = lint.Run(v, lint.WithLock(nil))
	require.NoError(t, err)
	n := 0
	for _, fd := range r.Findings() {
		if fd.Rule == lint.BaseUnpinned || fd.Rule == lint.GitUnpinned {
			n++
		}
	}
	assert.Equal(t, 3, n)
}

// httpLock is a lock recording a checksum for url.
func httpLock(url string) *lock.File {
	f := lock.New()
	f.SetHTTP(url, "sha256:"+strings.Repeat("2", 64))
	return f
}
