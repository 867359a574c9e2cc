package lint

import "slices"

// Rule is the id of a lint rule, e.g. "base-latest". Pass it to Allow to
// silence the rule on one step.
type Rule string

// The rules. docs/lint.md explains each one and how to silence it.
const (
	// BaseLatest: a base image without a tag, or tagged "latest".
	BaseLatest Rule = "base-latest"
	// BaseUnpinned: a base image by tag only (no digest), not pinned.
	BaseUnpinned Rule = "base-unpinned"
	// GitUnpinned: a Git source at a branch or tag, not a commit.
	GitUnpinned Rule = "git-unpinned"
	// InitEntrypoint: an init system or supervisor as the image's process.
	InitEntrypoint Rule = "init-entrypoint"
	// RootUser: the image runs as root.
	RootUser Rule = "root-user"
	// SecretEnv: a credential in an environment variable.
	SecretEnv Rule = "secret-env"
	// SecretArg: a credential in a command's arguments.
	SecretArg Rule = "secret-arg"
	// SecretLabel: a credential in an image label or annotation.
	SecretLabel Rule = "secret-label"
	// SecretFile: a credential in the contents of WithNewFile.
	SecretFile Rule = "secret-file"
	// ProxyEnv: proxy variables set with WithEnv or sdk.Env.
	ProxyEnv Rule = "proxy-env"
	// CABundle: a CA bundle from the host copied into the image.
	CABundle Rule = "ca-bundle"
	// HostContext: a host directory that sends .git, node_modules, build
	// outputs or credential files to the engine.
	HostContext Rule = "host-context"
	// PackageNoCache: a package-manager step without a cache volume.
	PackageNoCache Rule = "pkg-no-cache"
	// PackageCacheInLayer: a package-manager step that leaves its caches
	// in the image's layer.
	PackageCacheInLayer Rule = "pkg-cache-in-layer"
	// CacheSharing: a Shared cache volume for apt or dpkg, which need
	// Locked.
	CacheSharing Rule = "cache-sharing"
	// PipeToShell: a downloaded script run unverified (curl … | sh).
	PipeToShell Rule = "pipe-to-shell"
	// DownloadUnverified: a download in a step with no checksum check, or
	// an sdk.HTTP download without a checksum that no lock records.
	DownloadUnverified Rule = "download-unverified"
	// LargeFile: a WithNewFile larger than the threshold (LargeFile).
	LargeFile Rule = "large-file"
	// BadAllow: an Allow naming an unknown rule or giving no reason.
	BadAllow Rule = "lint-allow"
)

// RuleInfo describes a rule: its id, its usual severity, what it checks
// and why.
type RuleInfo struct {
	Rule     Rule
	Severity Severity // some findings of the rule may be less severe
	Summary  string
	Why      string
}

var rules = []RuleInfo{
	{BaseLatest, Error, "a base image without a tag or tagged latest", "latest moves: the same code builds a different image tomorrow, and nobody can say which one shipped"},
	{BaseUnpinned, Warning, "a base image by tag, without a digest, not pinned", "tags are mutable; a digest (or a lock entry) makes the build reproducible"},
	{GitUnpinned, Warning, "a Git source at a branch or tag, not a commit", "branches and tags move; a commit id does not"},
	{InitEntrypoint, Error, "an init system or supervisor (systemd, supervisord, s6, runit…) as entrypoint", "an image is one process, not a VM: the runtime restarts it, collects its logs and stops it"},
	{RootUser, Error, "the image runs as root (user unset, root or 0)", "a process that escapes as root owns the node; run as an unprivileged uid"},
	{SecretEnv, Error, "a credential in an environment variable", "env is in the image config, the build definition and the cache key; anyone who pulls the image reads it"},
	{SecretArg, Error, "a credential in a command's arguments", "arguments are in the build definition, the progress output and the provenance record"},
	{SecretLabel, Error, "a credential in an image label or annotation", "labels and annotations are public metadata of the image"},
	{SecretFile, Error, "a credential in the contents of WithNewFile", "the contents are in the build definition and in a layer of the image"},
	{ProxyEnv, Error, "proxy variables set with WithEnv or sdk.Env", "they leak the network's proxy (and its password) into the image or the cache key; WithProxy gives them to RUN steps only"},
	{CABundle, Warning, "a CA bundle from the host copied into the image", "the build network's TLS-inspecting CA is not the runtime's; WithProxy's CABundle trusts it for RUN steps only"},
	{HostContext, Warning, "a host directory that sends .git, node_modules, build outputs or credential files", "they are sent to the engine on every build, bust the cache, and credentials end up in layers"},
	{PackageNoCache, Warning, "a package-manager step (apt-get, apt, pip, npm, yarn, apk, dnf, yum) without a cache volume", "every rebuild downloads every package again"},
	{PackageCacheInLayer, Warning, "a package-manager step that leaves its caches in the image's layer", "apt lists, pip and npm caches add tens of megabytes to every pull"},
	{CacheSharing, Error, "a Shared cache volume at apt's or dpkg's directories", "apt and dpkg lock their directories; concurrent builds sharing one fail or corrupt it: use sdk.Locked"},
	{PipeToShell, Error, "a downloaded script run without verification (curl … | sh)", "whoever controls the server, or the network, runs code in your build"},
	{DownloadUnverified, Warning, "a download (curl, wget) in a step that checks no checksum, or sdk.HTTP without a checksum the lock records", "the content can change or be tampered with; a checksum (sdk.HTTP's, the lock's, or sha256sum -c) pins it"},
	{LargeFile, Warning, "a WithNewFile larger than the threshold", "the contents travel inside the build definition on every build; copy a file instead"},
	{BadAllow, Error, "an Allow naming an unknown rule or giving no reason", "a silence must say which rule and why, so a reviewer can judge it"},
}

// Rules lists every rule, in the order docs/lint.md describes them.
func Rules() []RuleInfo { return slices.Clone(rules) }

// known reports whether r is a rule.
func known(r Rule) bool {
	for _, i := range rules {
		if i.Rule == r {
			return true
		}
	}
	return false
}
