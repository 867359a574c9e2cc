#!/usr/bin/env bash
# hack/testenv.sh — the real test environment that CI and the integration
# tests use: a local registry on 127.0.0.1:5000 that stands in for Docker Hub,
# two buildkitd (runc worker, overlayfs) that resolve docker.io through it —
# the primary one at the BuildKit version of go.mod, and the oldest version
# lading supports (the line Docker Engine ships) on its own socket and root —
# and stand-in base images (debian, golang, maven, tomcat) seeded into it.
#
#   hack/testenv.sh up      install/build what is missing, start, seed (idempotent)
#   hack/testenv.sh down    stop the daemons this script started (by pid file)
#   hack/testenv.sh status  print what runs; exit 0 only if everything is up
#   hack/testenv.sh env     print `export ...` lines: eval "$(hack/testenv.sh env)"
#                           (BUILDKIT_HOST, LADING_TEST_REGISTRY, LADING_TESTENV_BIN,
#                           LADING_TEST_BUILDKIT_HOST_OLDEST, ...; see cmd_env)
#   hack/testenv.sh check   smoke builds against the stand-ins (about a minute)
#   hack/testenv.sh lint [ARGS]  golangci-lint run ARGS (default ./...), pinned,
#                           built into the cache on first use
#
# Environment knobs (defaults in brackets):
#   LADING_TESTENV_CACHE  [$HOME/.cache/lading-testenv]  binaries, registry data,
#                         rootfs tarballs, seed markers; survives between runs
#   LADING_TESTENV_STATE  [/run/lading-testenv]  socket, pid files, configs, logs
#   LADING_TESTENV_ROOT   [/var/lib/lading-testenv/buildkit]  buildkitd root;
#                         the oldest-version buildkitd uses ROOT-oldest
#   LADING_TESTENV_REGISTRY_PORT [5000]  the registry's port on 127.0.0.1 (the
#                         stand-ins' names do not change: they are docker.io's)
#   LADING_TESTENV_RESEED [unset]  1: rebuild and push every stand-in image
#
# A second `up` with everything running must stay well under 2 s, and process
# creation is slow on these VMs (~10 ms each): the already-up path uses bash
# builtins wherever it can and about a dozen external commands in all.
#
# See hack/README.md for what each stand-in image reproduces.
set -euo pipefail

export PATH="/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
# Everything here talks to loopback: never through an HTTP proxy from the env.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="${HACK_DIR%/*}"
STANDINS="$HACK_DIR/standins"

CACHE="${LADING_TESTENV_CACHE:-${HOME:-/root}/.cache/lading-testenv}"
BIN="$CACHE/bin"
STATE="${LADING_TESTENV_STATE:-/run/lading-testenv}"
BK_ROOT="${LADING_TESTENV_ROOT:-/var/lib/lading-testenv/buildkit}"
SOCK="$STATE/buildkitd.sock"
BUILDKIT_ADDR="unix://$SOCK"
# The second engine: the oldest BuildKit line lading supports, the one Docker
# Engine ships. CI runs the integration packages against it too. Its
# buildkitd lives in its own bin dir (same name, so pid files and argv[0]
# checks work as for the primary) and gets its own socket, root and config.
OLDEST_VERSION="v0.33.1"
OLDEST_BIN="$BIN/buildkit-oldest"
OLDEST_SOCK="$STATE/buildkitd-oldest.sock"
OLDEST_ADDR="unix://$OLDEST_SOCK"
OLDEST_ROOT="$BK_ROOT-oldest"
# A much older engine, never started by `up`: the capability tests start it
# themselves to check that features it lacks fail before solving. v0.12.5 is
# the oldest line the module proxy serves that still builds here.
OLD_VERSION="v0.12.5"
OLD_BIN="$BIN/buildkit-old"
REGISTRY_ADDR="127.0.0.1:${LADING_TESTENV_REGISTRY_PORT:-5000}"
REGISTRY_URL="http://$REGISTRY_ADDR"

REGISTRY_VERSION="v3.1.2"
GOLANGCI_LINT_VERSION="v2.15.0"
APT_PACKAGES=(runc debootstrap skopeo curl ca-certificates chromium)

# Bump when ensure_rootfs changes: invalidates the rootfs tarballs and, through
# the recipe hashes, every stand-in image.
ROOTFS_RECIPE_VERSION=2

log() { printf 'testenv: %s\n' "$*" >&2; }
die() { printf 'testenv: error: %s\n' "$*" >&2; exit 1; }
now_us() { local t="${EPOCHREALTIME/[.,]/}"; echo "$t"; }
elapsed() { # elapsed START_US — "12.3s" since START_US
	local d=$(( $(now_us) - $1 ))
	printf '%d.%ds' $((d / 1000000)) $((d % 1000000 / 100000))
}
readfile() { # readfile FILE — its content (no trailing newline), or nothing
	[ -f "$1" ] && printf '%s' "$(<"$1")"
	return 0
}

need_root() {
	[ "$EUID" = 0 ] || die "must run as root (buildkitd with the runc worker needs it)"
}

# The daemon must speak the same BuildKit as the client library: take the
# version from the repo's go.mod so the two cannot drift.
buildkit_version() {
	local line
	while read -r line; do
		line="${line#require }"
		if [[ "$line" =~ ^github\.com/moby/buildkit[[:space:]]+(v[^[:space:]]+) ]]; then
			echo "${BASH_REMATCH[1]}"
			return 0
		fi
	done <"$REPO_ROOT/go.mod"
	die "cannot find github.com/moby/buildkit in $REPO_ROOT/go.mod"
}

go_version() { # the Go in /usr/local/go, e.g. 1.26.8
	local v
	read -r v </usr/local/go/VERSION || die "no Go toolchain in /usr/local/go"
	echo "${v#go}"
}

# ---------------------------------------------------------------- packages

ensure_packages() {
	local missing=() p status
	local -A ok=()
	while read -r p status; do
		[ "$status" = "install ok installed" ] && ok[$p]=1
	done < <(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)
	for p in "${APT_PACKAGES[@]}"; do [ -n "${ok[$p]:-}" ] || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "apt-get install ${missing[*]}"
	apt-get update -qq >"$STATE/apt.log" 2>&1 || { tail -n 30 "$STATE/apt.log" >&2; die "apt-get update failed"; }
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$STATE/apt.log" 2>&1 ||
		{ tail -n 30 "$STATE/apt.log" >&2; die "apt-get install failed"; }
}

# ---------------------------------------------------------------- binaries

# build_in_module NAME OUTDIR MODULE VERSION LDFLAGS MAIN_GO PKG... —
# CGO_ENABLED=0 go build of PKG... (or, if MAIN_GO is not empty, of a main
# package with that source, as OUTDIR/NAME) into OUTDIR, from a throwaway
# module that requires MODULE@VERSION. (`go install pkg@version` refuses
# modules that have exclude directives, as BuildKit's has.)
# With BUILD_AFTER=LOCKFILE set, the module's downloads run at once but the
# compile waits until no one holds LOCKFILE (see ensure_binaries).
build_in_module() {
	local name="$1" outdir="$2" module="$3" version="$4" ldflags="$5" main_go="$6"; shift 6
	local dir blog="$STATE/build-$name.log" t0 after="${BUILD_AFTER:-}"; t0="$(now_us)"
	dir="$(mktemp -d "${TMPDIR:-/tmp}/lading-testenv-build.XXXXXX")"
	log "building $name from $module@$version (cold: minutes)"
	(
		set -e
		cd "$dir"
		go mod init "ladingtestenv/$name"
		if [ -n "$main_go" ]; then
			printf '%s\n' "$main_go" >main.go
		else
			{
				printf '//go:build tools\n\npackage tools\n\nimport (\n'
				printf '\t_ "%s"\n' "$@"
				printf ')\n'
			} >tools.go
		fi
		go get "$module@$version"
		go mod tidy
		if [ -n "$after" ]; then
			echo "waiting for $after"
			flock "$after" true
		fi
		mkdir -p "$outdir"
		if [ -n "$main_go" ]; then
			CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$outdir/$name" .
		else
			CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$outdir/" "$@"
		fi
	) >"$blog" 2>&1 || { tail -n 40 "$blog" >&2; rm -rf "$dir"; die "building $name failed (log: $blog)"; }
	rm -rf "$dir"
	log "built $name in $(elapsed "$t0")"
}

# The registry's own cmd/registry/main.go from distribution v3.1.2, minus the
# cloud storage drivers (azure, gcs, s3) and the cloudfront middleware: they
# are never used here and tripled the cold build time (~6 min on 2 cores).
REGISTRY_MAIN='// Code generated by hack/testenv.sh: distribution v3 cmd/registry, filesystem storage only.
package main

import (
	_ "net/http/pprof"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/silly"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/proxy"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/redirect"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/rewrite"
)

func main() {
	registry.RootCmd.Execute() //nolint:errcheck
}'

# version_ok BINARY WANT — BINARY --version mentions WANT. The answer is
# remembered in BINARY.version-ok and trusted while the binary is not newer.
version_ok() {
	local bin="$1" want="$2" stamp="$1.version-ok"
	[ -x "$bin" ] || return 1
	if [ -f "$stamp" ] && ! [ "$bin" -nt "$stamp" ] && [ "$(<"$stamp")" = "$want" ]; then
		return 0
	fi
	local out
	out="$("$bin" --version 2>/dev/null)" || return 1
	[[ " $out " == *" $want "* ]] || return 1
	echo "$want" >"$stamp"
}

# buildkit_build OUTDIR VERSION PKG... — BuildKit's commands at VERSION into OUTDIR.
buildkit_build() {
	local outdir="$1" version="$2"; shift 2
	build_in_module "buildkit-$version" "$outdir" github.com/moby/buildkit "$version" \
		"-s -w -X github.com/moby/buildkit/version.Version=$version" "" "$@"
}

# golangci-lint reports "has version 2.15.0 built with ...", without the v.
golangci_lint_ok() { version_ok "$BIN/golangci-lint" "${GOLANGCI_LINT_VERSION#v}"; }

# golangci-lint has no exclude directives: `go install` of the pinned
# version builds it with exactly the dependencies it was released with.
# With BUILD_AFTER=LOCKFILE, as in build_in_module: download first (`go
# install -n` resolves and fetches without compiling), compile later.
build_golangci_lint() {
	local blog="$STATE/build-golangci-lint.log" t0 after="${BUILD_AFTER:-}"; t0="$(now_us)"
	local pkg="github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
	log "building golangci-lint $GOLANGCI_LINT_VERSION (cold: minutes)"
	mkdir -p "$BIN"
	(
		set -e
		if [ -n "$after" ]; then
			GOBIN="$BIN" go install -n "$pkg"
			echo "waiting for $after"
			flock "$after" true
		fi
		GOBIN="$BIN" CGO_ENABLED=0 go install -trimpath "$pkg"
	) >"$blog" 2>&1 || { tail -n 40 "$blog" >&2; die "building golangci-lint failed (log: $blog)"; }
	golangci_lint_ok || die "built golangci-lint does not report $GOLANGCI_LINT_VERSION"
	log "built golangci-lint in $(elapsed "$t0")"
}

# ensure_binaries builds what is missing, all at once: module downloads
# overlap compiles, and 2 cores stay busy. It waits only for what `up` needs
# next (registry, primary buildkitd); the oldest-version buildkitd and
# golangci-lint go on building while the stand-ins are seeded (mostly apt
# downloads), and wait_late_builds collects them. Those two download at once
# but compile only after the primary buildkitd, which seeding waits for: on
# 2 cores, compiling everything at once would delay it by minutes. (The two
# BuildKit versions share few compiled packages: golang.org/x/sys, at the
# bottom of the graph, differs.)
LATE_PIDS=()
ensure_binaries() {
	local bkv; bkv="$(buildkit_version)"
	mkdir -p "$BIN"
	local pids=() p failed=0 lockfile="$STATE/build-buildkit.lock" lockfd
	if ! version_ok "$BIN/buildkitd" "$bkv" || ! version_ok "$BIN/buildctl" "$bkv"; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		# The lock is taken here and held by the build's subshell alone (the
		# parent closes its fd before starting anything else): the late
		# builds compile once it is released.
		exec {lockfd}>"$lockfile"
		flock "$lockfd"
		(
			buildkit_build "$BIN" "$bkv" github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
			version_ok "$BIN/buildkitd" "$bkv" && version_ok "$BIN/buildctl" "$bkv" ||
				die "built buildkitd/buildctl do not report $bkv"
		) &
		pids+=($!)
		exec {lockfd}>&-
	fi
	if ! version_ok "$BIN/registry" "$REGISTRY_VERSION"; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		(
			build_in_module registry "$BIN" github.com/distribution/distribution/v3 "$REGISTRY_VERSION" \
				"-s -w -X github.com/distribution/distribution/v3/version.version=$REGISTRY_VERSION" \
				"$REGISTRY_MAIN"
			version_ok "$BIN/registry" "$REGISTRY_VERSION" || die "built registry does not report $REGISTRY_VERSION"
		) &
		pids+=($!)
	fi
	if ! version_ok "$OLDEST_BIN/buildkitd" "$OLDEST_VERSION"; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		(
			BUILD_AFTER="$lockfile" buildkit_build "$OLDEST_BIN" "$OLDEST_VERSION" github.com/moby/buildkit/cmd/buildkitd
			version_ok "$OLDEST_BIN/buildkitd" "$OLDEST_VERSION" || die "built buildkitd does not report $OLDEST_VERSION"
		) &
		LATE_PIDS+=($!)
	fi
	if ! version_ok "$OLD_BIN/buildkitd" "$OLD_VERSION"; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		(
			BUILD_AFTER="$lockfile" buildkit_build "$OLD_BIN" "$OLD_VERSION" github.com/moby/buildkit/cmd/buildkitd
			version_ok "$OLD_BIN/buildkitd" "$OLD_VERSION" || die "built buildkitd does not report $OLD_VERSION"
		) &
		LATE_PIDS+=($!)
	fi
	if ! golangci_lint_ok; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		BUILD_AFTER="$lockfile" build_golangci_lint &
		LATE_PIDS+=($!)
	fi
	for p in "${pids[@]}"; do wait "$p" || failed=1; done
	[ "$failed" = 0 ] || die "building the test environment's binaries failed"
}

wait_late_builds() {
	local p failed=0
	for p in "${LATE_PIDS[@]}"; do wait "$p" || failed=1; done
	LATE_PIDS=()
	[ "$failed" = 0 ] || die "building the test environment's binaries failed"
}

# ---------------------------------------------------------------- processes

# pid_of NAME BINARY — set PID to the pid recorded in $STATE/NAME.pid if that
# process is alive and was started as BINARY (argv[0]; guards against a
# recycled pid, and still matches after BINARY was rebuilt under it).
pid_of() {
	PID=""
	local pid argv0
	pid="$(readfile "$STATE/$1.pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	{ IFS= read -r -d '' argv0 <"/proc/$pid/cmdline"; } 2>/dev/null || return 1
	[ "$argv0" = "$2" ] || return 1
	PID="$pid"
}

# start_daemon NAME CMD... — run CMD detached in its own session, stdin from
# /dev/null, output to $STATE/NAME.log, every other fd closed (so that no pipe
# of the caller, e.g. CI's log capture or make's jobserver, is held open), and
# record its pid in $STATE/NAME.pid.
start_daemon() {
	local name="$1"; shift
	rm -f "$STATE/$name.pid"
	: >"$STATE/$name.log"
	setsid bash -c '
		pidfile="$1"; shift
		for fd in /proc/$$/fd/*; do
			fd="${fd##*/}"
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
		done
		echo $$ >"$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
		exec "$@"
	' _ "$STATE/$name.pid" "$@" </dev/null >>"$STATE/$name.log" 2>&1 &
	local i
	for i in {1..200}; do [ -s "$STATE/$name.pid" ] && return 0; sleep 0.01; done
	die "$name did not record its pid"
}

# wait_until NAME TIMEOUT_S CMD... — poll CMD until it succeeds; fail early
# (with the log tail) if the daemon died.
wait_until() {
	local name="$1" timeout="$2"; shift 2
	local pid deadline=$(( ${EPOCHSECONDS} + timeout ))
	pid="$(readfile "$STATE/$name.pid")"
	while ! "$@" >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 40 "$STATE/$name.log" >&2 || true
			die "$name exited during startup (log: $STATE/$name.log)"
		fi
		if [ "$EPOCHSECONDS" -ge "$deadline" ]; then
			tail -n 40 "$STATE/$name.log" >&2 || true
			die "$name not ready after ${timeout}s (log: $STATE/$name.log)"
		fi
		sleep 0.05
	done
}

# stop_pid NAME BINARY — TERM the recorded pid, wait, KILL if it lingers.
stop_pid() {
	local name="$1" binary="$2" i
	if pid_of "$name" "$binary"; then
		log "stopping $name (pid $PID)"
		kill -TERM "$PID" 2>/dev/null || true
		for i in {1..200}; do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
		if kill -0 "$PID" 2>/dev/null; then
			log "$name did not stop in 10s, sending KILL"
			kill -KILL "$PID" 2>/dev/null || true
			for i in {1..100}; do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
		fi
	fi
	rm -f "$STATE/$name.pid"
}

registry_answers() { curl -fsS -o /dev/null --max-time 2 "$REGISTRY_URL/v2/" 2>/dev/null; }
buildkitd_answers() { # buildkitd_answers ADDR
	"$BIN/buildctl" --addr "$1" --timeout 2 debug workers >/dev/null 2>&1
}

# same_binary PID BINARY — the process still runs BINARY's current file. A
# rebuild (e.g. a version bump) replaces the file under a running daemon,
# which must then be restarted: one stat for both.
same_binary() {
	local ids=()
	mapfile -t ids < <(stat -L -c %d:%i "/proc/$1/exe" "$2" 2>/dev/null)
	[ "${#ids[@]}" = 2 ] && [ "${ids[0]}" = "${ids[1]}" ]
}

write_if_changed() { # write_if_changed FILE CONTENT — returns 0 if the file changed
	if [ -f "$1" ] && [ "$(<"$1")" = "$2" ]; then return 1; fi
	printf '%s\n' "$2" >"$1"
}

ensure_registry() {
	local cfg="$STATE/registry.yml" changed=0
	write_if_changed "$cfg" "# written by hack/testenv.sh
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $CACHE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR" && changed=1
	if pid_of registry "$BIN/registry"; then
		if [ "$changed" = 0 ] && same_binary "$PID" "$BIN/registry" && registry_answers; then return 0; fi
		stop_pid registry "$BIN/registry"
	fi
	if registry_answers; then
		die "$REGISTRY_ADDR answers, but not from the registry this script started; stop that first"
	fi
	mkdir -p "$CACHE/registry"
	log "starting registry on $REGISTRY_ADDR"
	OTEL_TRACES_EXPORTER=none start_daemon registry "$BIN/registry" serve "$cfg"
	wait_until registry 30 registry_answers
}

# ensure_buildkitd NAME BINARY SOCKET ROOT — a buildkitd at unix://SOCKET
# with its state in ROOT, config $STATE/NAME.toml, pid and log $STATE/NAME.*.
ensure_buildkitd() {
	local name="$1" bin="$2" sock="$3" root="$4"
	local addr="unix://$3" cfg="$STATE/$1.toml" changed=0 runc
	runc="$(type -P runc)" || die "runc not on PATH (apt-get install runc)"
	write_if_changed "$cfg" "# written by hack/testenv.sh
root = \"$root\"

[grpc]
  address = [\"$addr\"]

# Its own trace socket: BuildKit's default is one path for all daemons,
# and a daemon that exits deletes it under the others' steps.
[otel]
  socketPath = \"$STATE/$name-otel.sock\"

[worker.oci]
  enabled = true
  snapshotter = \"overlayfs\"
  binary = \"$runc\"

[worker.containerd]
  enabled = false

# Docker Hub is not reachable: the local registry serves same-named stand-ins.
[registry.\"docker.io\"]
  mirrors = [\"$REGISTRY_ADDR\"]

[registry.\"$REGISTRY_ADDR\"]
  http = true" && changed=1
	if pid_of "$name" "$bin"; then
		if [ "$changed" = 0 ] && same_binary "$PID" "$bin" && buildkitd_answers "$addr"; then return 0; fi
		stop_pid "$name" "$bin"
	fi
	if [ -S "$sock" ] && buildkitd_answers "$addr"; then
		die "$sock answers, but not from the buildkitd this script started; stop that first"
	fi
	rm -f "$sock"
	mkdir -p "$root"
	log "starting $name on $addr"
	start_daemon "$name" "$bin" --config "$cfg"
	wait_until "$name" 60 buildkitd_answers "$addr"
}

# Kill runc containers whose bundle lives under our buildkitd roots (they can
# outlive a killed buildkitd), then unmount whatever is still mounted under our
# own directories, deepest first.
cleanup_leftovers() {
	local id bundle pid mp
	if type -P runc >/dev/null; then
		while read -r id pid bundle; do
			case "$bundle" in
			"$BK_ROOT"/* | "$OLDEST_ROOT"/*)
				log "killing leftover runc container $id (pid $pid)"
				runc kill "$id" KILL 2>/dev/null || true
				for _ in {1..100}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
				runc delete --force "$id" 2>/dev/null || true
				;;
			esac
		done < <(runc list -f json 2>/dev/null | tr '{' '\n' |
			sed -nE 's/.*"id":"([^"]*)".*"pid":([0-9]+).*"bundle":"([^"]*)".*/\1 \2 \3/p')
	fi
	while read -r _ _ _ _ mp _; do
		mp="$(printf '%b' "$mp")" # mountinfo escapes spaces etc. as \040
		case "$mp" in "$BK_ROOT"/* | "$OLDEST_ROOT"/* | "$STATE"/*) echo "${#mp} $mp" ;; esac
	done </proc/self/mountinfo | sort -rn | cut -d' ' -f2- | while read -r mp; do
		log "unmounting leftover $mp"
		umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "could not unmount $mp"
	done
}

# reap_test_engines — stop the buildkitd of tests whose test binary was
# killed (a timeout, ^C): tests start their own engines under /tmp/l*-N
# and stop them in t.Cleanup, which a killed binary never runs. No test
# runs for an hour (make test's -timeout is 45m), so an engine of that age
# is a leftover; younger ones may belong to a test running now.
reap_test_engines() {
	local pid age args dir
	while read -r pid age args; do
		[ "$age" -gt 3600 ] || continue
		dir="$(sed -nE 's|.*--config (/tmp/l[a-z-]*-[0-9]+)/.*|\1|p' <<<"$args")"
		[ -n "$dir" ] || continue
		log "stopping leftover test engine pid $pid ($dir, up ${age}s)"
		kill "$pid" 2>/dev/null || true
		for _ in {1..100}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
		{ grep -F " $dir/" /proc/self/mountinfo || true; } | awk '{print length($5), $5}' | sort -rn | cut -d' ' -f2- |
			while read -r mp; do umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true; done
		rm -rf "$dir"
	done < <(ps -eo pid=,etimes=,args= | awk '$3 ~ /buildkitd$/ && / --config \/tmp\/l[a-z-]*-[0-9]+\//')
}

# ---------------------------------------------------------------- stand-in images

# The apt mirror this machine uses for Debian itself (not -security).
debian_mirror() {
	local m
	m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		/^[[:space:]]*$/ { if (uri != "" && suites ~ / bookworm /) { print uri; exit } uri=""; suites=""; next }
		/^URIs:/ { uri=$2 } /^Suites:/ { $1=""; suites=$0 " " }
		END { if (uri != "" && suites ~ / bookworm /) print uri }')"
	if [ -z "$m" ]; then
		m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1=="deb" && $0 ~ / bookworm( |$)/ { for (i=2;i<=NF;i++) if ($i ~ /^https?:/) { print $i; exit } }')"
	fi
	m="${m%%$'\n'*}"
	echo "${m:-http://deb.debian.org/debian}"
}

# ensure_rootfs MIRROR — $CACHE/rootfs/debian-bookworm{,-slim}.tar from
# `debootstrap --variant=minbase bookworm`, made to look like the official
# image's rootfs (deb822 sources incl. updates/security, docker-clean, no apt
# lists). Several minutes cold (downloads); cached.
rootfs_ready() { # rootfs_ready MIRROR
	local dir="$CACHE/rootfs"
	[ -f "$dir/debian-bookworm.tar" ] && [ -f "$dir/debian-bookworm-slim.tar" ] &&
		[ "$(readfile "$dir/stamp")" = "recipe=$ROOTFS_RECIPE_VERSION mirror=$1" ]
}

ensure_rootfs() {
	local mirror="$1" dir="$CACHE/rootfs" stamp
	stamp="recipe=$ROOTFS_RECIPE_VERSION mirror=$mirror"
	rootfs_ready "$mirror" && return 0
	local t0 tmp blog="$STATE/debootstrap.log"; t0="$(now_us)"
	mkdir -p "$dir"
	tmp="$(mktemp -d "$dir/build.XXXXXX")"
	log "debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
	if ! debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$blog" 2>&1; then
		tail -n 30 "$blog" >&2
		# debootstrap mounts proc/sys inside the target; never leave them behind.
		umount -R "$tmp/root/proc" "$tmp/root/sys" 2>/dev/null || true
		rm -rf "$tmp"
		die "debootstrap failed (log: $blog)"
	fi
	local r="$tmp/root" sec
	sec="${mirror%/debian}/debian-security"
	[ "${mirror%/debian}" = "$mirror" ] && sec="http://deb.debian.org/debian-security"
	rm -f "$r/etc/apt/sources.list"
	mkdir -p "$r/etc/apt/sources.list.d"
	cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $sec
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	# as in the official image: apt keeps no downloaded debs
	cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* "$r"/var/log/* "$r"/tmp/* "$r"/root/.bash_history
	: >"$r/etc/hostname"
	: >"$r/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
	tar --numeric-owner -C "$r" -cf "$tmp/full.tar" .
	# slim: no docs/man/info (copyrights kept), and dpkg told not to add them back
	find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
	find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
	rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff/* "$r"/usr/share/lintian/* "$r"/usr/share/linda/*
	mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
	cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
	tar --numeric-owner -C "$r" -cf "$tmp/slim.tar" .
	mv "$tmp/full.tar" "$dir/debian-bookworm.tar"
	mv "$tmp/slim.tar" "$dir/debian-bookworm-slim.tar"
	rm -rf "$tmp"
	echo "$stamp" >"$dir/stamp"
	log "rootfs ready in $(elapsed "$t0")"
}

# A stand-in's recipe identity ("material") is the sha256 of every file in
# hack/standins/RECIPE plus extra inputs (parent's material hash, rootfs recipe
# and mirror, Go version). $CACHE/seeded/MARKER holds the material hash it was
# last pushed from; the image carries it as label org.ladingbuild.testenv.recipe.
declare -A FILE_SUMS=()
load_file_sums() { # one sha256sum over all recipe files
	local sum path
	while read -r sum path; do FILE_SUMS[$path]="$sum"; done < <(
		cd "$STANDINS" && sha256sum -- */* 2>/dev/null | LC_ALL=C sort -k2
	)
}
recipe_material() { # recipe_material RECIPE EXTRA... — stdout: multi-line material
	local recipe="$1" path; shift
	for path in "${!FILE_SUMS[@]}"; do
		[ "${path%%/*}" = "$recipe" ] && echo "$path ${FILE_SUMS[$path]}"
	done | LC_ALL=C sort
	printf '%s\n' "$@"
}

# Which of TAG... (NAME:TAG under library/) exist in the registry: one curl for
# all manifests (HEAD, with the Accept headers of every manifest kind).
declare -A TAG_PRESENT=()
probe_tags() {
	local urls=() tag code
	for tag in "$@"; do urls+=(-o /dev/null "$REGISTRY_URL/v2/library/${tag%%:*}/manifests/${tag#*:}"); done
	local codes=()
	mapfile -t codes < <(curl -sS --max-time 10 -I -w '%{http_code}\n' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"${urls[@]}" 2>/dev/null || true)
	local i=0
	for tag in "$@"; do
		code="${codes[$i]:-000}"
		[ "$code" = 200 ] && TAG_PRESENT[$tag]=1 || TAG_PRESENT[$tag]=""
		i=$((i + 1))
	done
}

# fresh MARKER HASH TAG... — already pushed from this recipe, every tag present.
fresh() {
	local marker="$1" hash="$2" tag; shift 2
	[ "${LADING_TESTENV_RESEED:-}" != 1 ] || return 1
	[ "$(readfile "$CACHE/seeded/$marker")" = "$hash" ] || return 1
	for tag in "$@"; do [ -n "${TAG_PRESENT[$tag]:-}" ] || return 1; done
}

# seed MARKER RECIPE HASH CONTEXT_ARGS TAG... — build hack/standins/RECIPE/Dockerfile
# and push it as 127.0.0.1:5000/library/TAG for each TAG.
seed() {
	local marker="$1" recipe="$2" hash="$3" ctxargs="$4"; shift 4
	local names="" tag t0 blog="$STATE/seed-$marker.log"; t0="$(now_us)"
	for tag in "$@"; do names="${names:+$names,}$REGISTRY_ADDR/library/$tag"; done
	log "seeding $* (recipe $hash)"
	# shellcheck disable=SC2086 # ctxargs is a list of flags
	if ! "$BIN/buildctl" --addr "$BUILDKIT_ADDR" build --progress=plain \
		--frontend dockerfile.v0 \
		--local dockerfile="$STANDINS/$recipe" \
		$ctxargs \
		--opt label:org.ladingbuild.testenv.recipe="$hash" \
		--output "type=image,\"name=$names\",push=true" >"$blog" 2>&1; then
		tail -n 40 "$blog" >&2
		log "seeding $marker failed (log: $blog)"
		return 1
	fi
	mkdir -p "$CACHE/seeded"
	echo "$hash" >"$CACHE/seeded/$marker"
	log "seeded $marker in $(elapsed "$t0")"
}

ensure_images() {
	local gov gomm mirror="$MIRROR"
	gov="$(go_version)"  # e.g. 1.26.8
	gomm="${gov%.*}"     # e.g. 1.26
	load_file_sums

	local deb_tags=(debian:bookworm debian:12)
	local slim_tags=(debian:bookworm-slim debian:12-slim)
	local go_tags=("golang:$gomm" "golang:$gomm-bookworm" "golang:$gov" "golang:$gov-bookworm")
	local mvn_tags=(maven:3.9-eclipse-temurin-17 maven:3-eclipse-temurin-17)
	local tc_tags=(tomcat:10.1-jre17 tomcat:10-jre17 tomcat:10.1)
	probe_tags "${deb_tags[@]}" "${slim_tags[@]}" "${go_tags[@]}" "${mvn_tags[@]}" "${tc_tags[@]}"

	# A parent's hash is an input of its children's: a new debian rebuilds all.
	local h_deb h_slim h_go h_mvn h_tc
	h_deb="$(recipe_material debian "rootfs=$ROOTFS_RECIPE_VERSION full $mirror" | sha256sum)"
	h_slim="$(recipe_material debian "rootfs=$ROOTFS_RECIPE_VERSION slim $mirror" | sha256sum)"
	h_deb="${h_deb:0:16}" h_slim="${h_slim:0:16}"
	h_go="$(recipe_material golang "parent=$h_deb" "go=$gov" | sha256sum)"
	h_mvn="$(recipe_material maven "parent=$h_deb" | sha256sum)"
	h_tc="$(recipe_material tomcat "parent=$h_deb" | sha256sum)"
	h_go="${h_go:0:16}" h_mvn="${h_mvn:0:16}" h_tc="${h_tc:0:16}"

	local need_deb=0 need_slim=0
	fresh debian "$h_deb" "${deb_tags[@]}" || need_deb=1
	fresh debian-slim "$h_slim" "${slim_tags[@]}" || need_slim=1
	if [ "$need_deb$need_slim" != 00 ]; then
		wait_rootfs_prefetch
		ensure_rootfs "$mirror"
	fi
	if [ "$need_deb" = 1 ]; then
		seed debian debian "$h_deb" \
			"--local context=$CACHE/rootfs --opt build-arg:ROOTFS=debian-bookworm.tar" "${deb_tags[@]}" ||
			die "seeding failed"
	fi
	if [ "$need_slim" = 1 ]; then
		seed debian-slim debian "$h_slim" \
			"--local context=$CACHE/rootfs --opt build-arg:ROOTFS=debian-bookworm-slim.tar" "${slim_tags[@]}" ||
			die "seeding failed"
	fi

	# The children only depend on debian: build them in parallel (their time
	# is mostly apt downloads). The machine's Go toolchain is sent as the
	# named build context "gotoolchain".
	local pids=() failed=0 p
	if ! fresh golang "$h_go" "${go_tags[@]}"; then
		seed golang golang "$h_go" \
			"--local context=$STANDINS/golang --local gotoolchain=/usr/local/go --opt context:gotoolchain=local:gotoolchain --opt build-arg:GOLANG_VERSION=$gov" \
			"${go_tags[@]}" &
		pids+=($!)
	fi
	if ! fresh maven "$h_mvn" "${mvn_tags[@]}"; then
		seed maven maven "$h_mvn" "--local context=$STANDINS/maven" "${mvn_tags[@]}" &
		pids+=($!)
	fi
	if ! fresh tomcat "$h_tc" "${tc_tags[@]}"; then
		seed tomcat tomcat "$h_tc" "--local context=$STANDINS/tomcat" "${tc_tags[@]}" &
		pids+=($!)
	fi
	for p in "${pids[@]}"; do wait "$p" || failed=1; done
	[ "$failed" = 0 ] || die "seeding failed"
}

# ---------------------------------------------------------------- SBOM scanner
# The SBOM scanner image BuildKit's attest:sbom runs (its scanner protocol):
# hack/sbomscanner, a small main over syft's Go module, in its own module so
# that syft stays out of lading's go.mod. It is pushed as the stand-in for
# docker.io/docker/buildkit-syft-scanner:stable-1 (lading's default scanner,
# reached through the docker.io mirror) and as lading/sbom-scanner:TAG.
# The binary compiles after the primary buildkitd (BUILD_AFTER, as the late
# builds do) and is cached in $BIN with the hash of its sources; the image is
# pushed once per hash (marker $CACHE/seeded/sbom-scanner).
SBOM_SYFT_VERSION="v1.57.1"
SBOM_SCANNER_TAG="syft-$SBOM_SYFT_VERSION"
SBOM_SCANNER_NAMES=(docker/buildkit-syft-scanner:stable-1 "lading/sbom-scanner:$SBOM_SCANNER_TAG")
sbom_scanner_hash() {
	local h; h="$(cat "$HACK_DIR/sbomscanner/go.mod" "$HACK_DIR/sbomscanner/main.go" | sha256sum)"
	echo "${h:0:16}"
}
sbom_scanner_ok() { [ -x "$BIN/sbomscanner" ] && [ "$(readfile "$BIN/sbomscanner.recipe")" = "$(sbom_scanner_hash)" ]; }
build_sbom_scanner() {
	local blog="$STATE/build-sbomscanner.log" t0 dir after="${BUILD_AFTER:-}" hash; t0="$(now_us)"
	hash="$(sbom_scanner_hash)"
	dir="$(mktemp -d "${TMPDIR:-/tmp}/lading-testenv-build.XXXXXX")"
	log "building the SBOM scanner from syft $SBOM_SYFT_VERSION (cold: minutes)"
	# && throughout: set -e does not apply on the left of ||.
	(
		cp "$HACK_DIR/sbomscanner/go.mod" "$HACK_DIR/sbomscanner/main.go" "$dir/" &&
			cd "$dir" && go mod tidy && go mod download &&
			{ [ -z "$after" ] || { echo "waiting for $after" && flock "$after" true; }; } &&
			mkdir -p "$BIN" &&
			CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/sbomscanner.tmp" . &&
			mv "$BIN/sbomscanner.tmp" "$BIN/sbomscanner" &&
			echo "$hash" >"$BIN/sbomscanner.recipe"
	) >"$blog" 2>&1 || { tail -n 40 "$blog" >&2; rm -rf "$dir"; die "building the SBOM scanner failed (log: $blog)"; }
	rm -rf "$dir"
	log "built the SBOM scanner in $(elapsed "$t0")"
}
start_sbom_scanner_build() { # in the background with the late builds
	sbom_scanner_ok && return 0
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	BUILD_AFTER="$STATE/build-buildkit.lock" build_sbom_scanner &
	LATE_PIDS+=($!)
}
ensure_sbom_scanner_image() {
	local hash name names="" missing=0 t0 ctx blog="$STATE/seed-sbom-scanner.log"
	hash="$(sbom_scanner_hash)"
	for name in "${SBOM_SCANNER_NAMES[@]}"; do
		curl -fsS -o /dev/null --max-time 5 -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
			"$REGISTRY_URL/v2/${name%%:*}/manifests/${name#*:}" 2>/dev/null || missing=1
		names="${names:+$names,}$REGISTRY_ADDR/$name"
	done
	if [ "$missing" = 0 ] && [ "${LADING_TESTENV_RESEED:-}" != 1 ] && [ "$(readfile "$CACHE/seeded/sbom-scanner")" = "$hash" ]; then
		return 0
	fi
	sbom_scanner_ok || build_sbom_scanner
	t0="$(now_us)"
	ctx="$(mktemp -d "${TMPDIR:-/tmp}/lading-testenv-scanner.XXXXXX")"
	cp "$BIN/sbomscanner" "$ctx/"
	printf 'FROM scratch\nCOPY sbomscanner /bin/sbomscanner\nENTRYPOINT ["/bin/sbomscanner"]\n' >"$ctx/Dockerfile"
	log "seeding the SBOM scanner image (recipe $hash)"
	if ! "$BIN/buildctl" --addr "$BUILDKIT_ADDR" build --progress=plain --frontend dockerfile.v0 \
		--local dockerfile="$ctx" --local context="$ctx" \
		--opt label:org.ladingbuild.testenv.recipe="$hash" \
		--output "type=image,\"name=$names\",push=true" >"$blog" 2>&1; then
		rm -rf "$ctx"
		tail -n 40 "$blog" >&2
		die "seeding the SBOM scanner failed (log: $blog)"
	fi
	rm -rf "$ctx"
	mkdir -p "$CACHE/seeded"
	echo "$hash" >"$CACHE/seeded/sbom-scanner"
	log "seeded the SBOM scanner in $(elapsed "$t0")"
}

# buildx, the independent reader of attestations in the tests
# (`buildx imagetools inspect --format '{{json .Provenance}}'`), built from
# its module like the registry: measured 37 s download + 4 min compile
# (92 s CPU) at load ~18. A late build: it compiles after the primary
# buildkitd, while the stand-ins are seeded.
BUILDX_VERSION="v0.38.2"
buildx_ok() {
	local stamp="$BIN/buildx.version-ok" out
	[ -x "$BIN/buildx" ] || return 1
	if [ -f "$stamp" ] && ! [ "$BIN/buildx" -nt "$stamp" ] && [ "$(<"$stamp")" = "$BUILDX_VERSION" ]; then
		return 0
	fi
	out="$("$BIN/buildx" version 2>/dev/null)" || return 1
	[[ " $out " == *" $BUILDX_VERSION "* ]] || return 1
	echo "$BUILDX_VERSION" >"$stamp"
}
start_buildx_build() {
	buildx_ok && return 0
	command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
	(
		BUILD_AFTER="$STATE/build-buildkit.lock" build_in_module buildx "$BIN" github.com/docker/buildx "$BUILDX_VERSION" \
			"-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION" "" github.com/docker/buildx/cmd/buildx
		buildx_ok || die "built buildx does not report $BUILDX_VERSION"
	) &
	LATE_PIDS+=($!)
}

# ---------------------------------------------------------------- commands

lock() { # one up/down at a time (fd 9 is closed in the daemons, see start_daemon)
	mkdir -p "$STATE"
	exec 9>"$STATE/lock"
	flock 9
}

# Cold (no rootfs and no seed marker for debian), debootstrap — mostly
# downloads — runs in the background while the Go builds use the CPU.
MIRROR=""
ROOTFS_PID=""
start_rootfs_prefetch() {
	rootfs_ready "$MIRROR" && return 0
	[ -f "$CACHE/seeded/debian" ] && [ -f "$CACHE/seeded/debian-slim" ] && return 0
	ensure_rootfs "$MIRROR" &
	ROOTFS_PID=$!
}
wait_rootfs_prefetch() {
	[ -n "$ROOTFS_PID" ] || return 0
	local p="$ROOTFS_PID"
	ROOTFS_PID=""
	wait "$p" || die "building the debian rootfs failed (log: $STATE/debootstrap.log)"
}

cmd_up() {
	need_root
	local t0; t0="$(now_us)"
	lock
	mkdir -p "$CACHE"
	# never exit with a background debootstrap or build still holding our stdout/stderr
	trap 'if [ -n "$ROOTFS_PID" ]; then wait "$ROOTFS_PID" 2>/dev/null || true; fi
		for p in "${LATE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done' EXIT
	ensure_packages
	reap_test_engines
	MIRROR="$(debian_mirror)"
	start_rootfs_prefetch
	ensure_binaries
	start_sbom_scanner_build # SBOM scanner block
	start_buildx_build       # SBOM scanner block: buildx
	ensure_registry
	ensure_buildkitd buildkitd "$BIN/buildkitd" "$SOCK" "$BK_ROOT"
	ensure_images
	wait_late_builds
	ensure_sbom_scanner_image # SBOM scanner block
	ensure_buildkitd buildkitd-oldest "$OLDEST_BIN/buildkitd" "$OLDEST_SOCK" "$OLDEST_ROOT"
	wait_rootfs_prefetch
	run_pieces up
	log "up in $(elapsed "$t0"): BUILDKIT_HOST=$BUILDKIT_ADDR LADING_TEST_BUILDKIT_HOST_OLDEST=$OLDEST_ADDR LADING_TEST_REGISTRY=$REGISTRY_ADDR"
}

cmd_down() {
	need_root
	lock
	run_pieces down
	stop_pid buildkitd-oldest "$OLDEST_BIN/buildkitd"
	stop_pid buildkitd "$BIN/buildkitd"
	stop_pid registry "$BIN/registry"
	cleanup_leftovers
	rm -f "$SOCK" "$OLDEST_SOCK"
	log "down"
}

cmd_status() {
	local ok=0
	if pid_of registry "$BIN/registry" && registry_answers; then
		echo "registry:  up   pid $PID  $REGISTRY_URL  data $CACHE/registry"
	else
		echo "registry:  down"; ok=1
	fi
	if pid_of buildkitd "$BIN/buildkitd" && buildkitd_answers "$BUILDKIT_ADDR"; then
		echo "buildkitd: up   pid $PID  $BUILDKIT_ADDR  root $BK_ROOT  $(readfile "$BIN/buildkitd.version-ok")"
	else
		echo "buildkitd: down"; ok=1
	fi
	if pid_of buildkitd-oldest "$OLDEST_BIN/buildkitd" && buildkitd_answers "$OLDEST_ADDR"; then
		echo "buildkitd: up   pid $PID  $OLDEST_ADDR  root $OLDEST_ROOT  $(readfile "$OLDEST_BIN/buildkitd.version-ok") (oldest)"
	else
		echo "buildkitd: down (oldest, $OLDEST_VERSION)"; ok=1
	fi
	if pid_of registry "$BIN/registry"; then
		local repo tags
		for repo in debian golang maven tomcat; do
			tags="$(curl -fsS --max-time 2 "$REGISTRY_URL/v2/library/$repo/tags/list" 2>/dev/null |
				sed -nE 's/.*"tags":\[([^]]*)\].*/\1/p' | tr -d '"')"
			echo "image:     library/$repo: ${tags:-(none)}"
		done
	fi
	run_pieces status || ok=1
	echo "logs:      $STATE/*.log"
	return "$ok"
}

# env — what tests need, as `export` lines. The primary engine is
# BUILDKIT_HOST; `make test` reruns the integration packages with
# BUILDKIT_HOST=$LADING_TEST_BUILDKIT_HOST_OLDEST and the other *_OLDEST
# values in place of theirs. internal/testenv reads:
#   LADING_TEST_BUILDKIT_VERSION  the version BUILDKIT_HOST must report
#   LADING_TEST_BUILDKITD         the buildkitd tests that start their own use
cmd_env() {
	local bkv; bkv="$(buildkit_version)"
	echo "export BUILDKIT_HOST=$BUILDKIT_ADDR"
	echo "export LADING_TEST_REGISTRY=$REGISTRY_ADDR"
	echo "export LADING_TESTENV_BIN=$BIN" # buildkitd, buildctl, registry, golangci-lint (testenv.BinDir)
	echo "export LADING_TEST_BUILDKIT_VERSION=$bkv"
	echo "export LADING_TEST_BUILDKITD=$BIN/buildkitd"
	echo "export LADING_TEST_BUILDKIT_HOST_OLDEST=$OLDEST_ADDR"
	echo "export LADING_TEST_BUILDKIT_VERSION_OLDEST=$OLDEST_VERSION"
	echo "export LADING_TEST_BUILDKITD_OLDEST=$OLDEST_BIN/buildkitd"
	echo "export LADING_TEST_BUILDKITD_OLD=$OLD_BIN/buildkitd"
	echo "export LADING_TEST_SBOM_SCANNER=$REGISTRY_ADDR/lading/sbom-scanner:$SBOM_SCANNER_TAG" # SBOM scanner block
	echo "export LADING_TEST_BUILDX=$BIN/buildx"                                                 # SBOM scanner block
	run_pieces env
}

# lint [ARGS] — golangci-lint run ARGS (default ./...) from the repository
# root, with the pinned golangci-lint (built into the cache when missing).
cmd_lint() {
	if ! golangci_lint_ok; then
		command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"
		mkdir -p "$STATE"
		build_golangci_lint
	fi
	cd "$REPO_ROOT"
	[ $# -gt 0 ] || set -- ./...
	exec "$BIN/golangci-lint" run "$@"
}

# check — smoke builds proving the stand-ins resolve through the docker.io
# mirror and present the interface of the real images, then their configs.
cmd_check() {
	cmd_status >/dev/null || die "not up; run: hack/testenv.sh up"
	local d name t0
	for d in "$STANDINS"/check/*/; do
		name="${d%/}"; name="${name##*/}"
		t0="$(now_us)"
		if "$BIN/buildctl" --addr "$BUILDKIT_ADDR" build --progress=plain --no-cache \
			--frontend dockerfile.v0 --local dockerfile="$d" --local context="$d" \
			>"$STATE/check-$name.log" 2>&1; then
			echo "check $name: ok ($(elapsed "$t0"))"
			sed -E 's/\x1b\[[0-9;]*m//g' "$STATE/check-$name.log" | grep -E '^#[0-9]+ [0-9.]+ CHECK ' |
				sed -E 's/^#[0-9]+ [0-9.]+ CHECK /    /' || true
		else
			tail -n 40 "$STATE/check-$name.log" >&2
			die "check $name failed (log: $STATE/check-$name.log)"
		fi
	done
	local ref gov; gov="$(go_version)"
	for ref in debian:bookworm "golang:${gov%.*}" maven:3.9-eclipse-temurin-17 tomcat:10.1-jre17; do
		echo "config $ref:"
		skopeo inspect --tls-verify=false --config "docker://$REGISTRY_ADDR/library/$ref" |
			awk '/^    "config": \{/{p=1;next} p&&/^    \}/{exit} p' | tr -d '\n' | tr -s ' ' | sed 's/^/   /'
		echo
	done
}

# Pieces of the environment for one feature each (Docker, rootless, a fleet…)
# live in hack/testenv.d/NAME.sh: each defines up_NAME, and may define
# env_NAME, status_NAME and down_NAME, and add to APT_PACKAGES. cmd_up runs
# every up_NAME after the core daemons are up, in file-name order.
PIECES=()
for piece in "$HACK_DIR"/testenv.d/*.sh; do
	[ -e "$piece" ] || continue
	# shellcheck source=/dev/null
	. "$piece"
	piece="${piece##*/}"
	PIECES+=("${piece%.sh}")
done
run_pieces() { # run_pieces up|env|status|down — each piece's function, if defined
	local p
	for p in "${PIECES[@]}"; do
		if declare -F "$1_$p" >/dev/null; then "$1_$p" || return 1; fi
	done
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
check) cmd_check ;;
lint) shift; cmd_lint "$@" ;;
*)
	echo "usage: $0 up|down|status|env|check|lint [ARGS]" >&2
	exit 2
	;;
esac
