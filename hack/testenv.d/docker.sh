# hack/testenv.d/docker.sh — Docker and Podman for the tests of loading
# images into a local daemon and of engines in containers (DooD):
#
#   - dockerd from Debian's docker.io (Docker 20.10, API 1.41, with its own
#     containerd) on unix://$STATE/docker.sock, state under $DOCKER_ROOT. No
#     bridge and no iptables rules: on these machines traffic may only go to
#     loopback, so containers run with the host network. Docker Hub is
#     reached through the local registry (a mirror), which is also allowed
#     over plain HTTP.
#   - podman from Debian (4.3), daemonless as root, with its own storage
#     under $PODMAN_ROOT and its Docker-compatible API served by `podman
#     system service` on unix://$STATE/podman.sock (lading's Podman output
#     talks to that API, as it does to Docker's).
#   - an image lading-testenv/buildkitd:HASH in that dockerd, made from the
#     buildkitd and buildctl the test environment builds and Debian's runc,
#     for docker-container:// engines; rebuilt only when a binary changes.
#
# A different `docker` program comes first on PATH on these machines: this
# piece and the tests only ever run Debian's CLI by its path.
APT_PACKAGES+=(docker.io podman)

DOCKER_CLI=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
PODMAN=/usr/bin/podman
DOCKER_SOCK="$STATE/docker.sock"
DOCKER_ADDR="unix://$DOCKER_SOCK"
DOCKER_ROOT="${LADING_TESTENV_DOCKER_ROOT:-/var/lib/lading-testenv/docker}"
PODMAN_SOCK="$STATE/podman.sock"
PODMAN_ADDR="unix://$PODMAN_SOCK"
PODMAN_ROOT="${LADING_TESTENV_PODMAN_ROOT:-/var/lib/lading-testenv/podman}"
BUILDKITD_IMAGE_REPO="lading-testenv/buildkitd"

# Debian's docker.io runs `invoke-rc.d docker start` in its postinst when no
# systemd runs (as on these machines): that would start a second dockerd
# with the defaults (a docker0 bridge, iptables rules, /var/lib/docker), and
# a failed start fails the install. A policy-rc.d that refuses to start
# docker and containerd keeps apt from starting anything; this piece starts
# its own dockerd. An existing policy-rc.d (the machine image has one that
# refuses everything) is left as it is. It must be in place before `up`
# installs the packages, hence here, when the piece is sourced.
docker_policy_rc() {
	[ "$EUID" = 0 ] || return 0
	[ -e /usr/sbin/policy-rc.d ] && return 0
	printf '%s\n' '#!/bin/sh' \
		'# written by lading hack/testenv.d/docker.sh: the test environment starts its own dockerd' \
		'case "$1" in docker|containerd) exit 101 ;; esac' \
		'exit 0' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
}
if [ "${1:-}" = up ]; then docker_policy_rc; fi

docker_answers() { "$DOCKER_CLI" -H "$DOCKER_ADDR" version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }
podman_answers() { curl -fsS -o /dev/null --max-time 2 --unix-socket "$PODMAN_SOCK" http://d/_ping 2>/dev/null; }

# podman_flags: the global flags every podman command here uses (its own
# storage, no systemd, host network by default).
podman_flags() {
	echo "--root $PODMAN_ROOT/storage --runroot $STATE/podman-run --cgroup-manager cgroupfs --events-backend file"
}

ensure_dockerd() {
	local cfg="$STATE/dockerd.json" changed=0
	# --config-file keeps /etc/docker/daemon.json out; exec-root and pidfile
	# keep dockerd off /var/run/docker*.
	write_if_changed "$cfg" "{
  \"data-root\": \"$DOCKER_ROOT\",
  \"exec-root\": \"$STATE/docker-exec\",
  \"pidfile\": \"$STATE/dockerd-own.pid\",
  \"hosts\": [\"$DOCKER_ADDR\"],
  \"bridge\": \"none\",
  \"iptables\": false,
  \"ip-masq\": false,
  \"userland-proxy\": false,
  \"registry-mirrors\": [\"http://$REGISTRY_ADDR\"],
  \"insecure-registries\": [\"$REGISTRY_ADDR\"],
  \"storage-driver\": \"overlay2\"
}" && changed=1
	if pid_of dockerd "$DOCKERD"; then
		if [ "$changed" = 0 ] && same_binary "$PID" "$DOCKERD" && docker_answers; then return 0; fi
		stop_pid dockerd "$DOCKERD"
	fi
	if [ -S "$DOCKER_SOCK" ] && docker_answers; then
		die "$DOCKER_SOCK answers, but not from the dockerd this script started; stop that first"
	fi
	rm -f "$DOCKER_SOCK"
	mkdir -p "$DOCKER_ROOT" "$STATE/docker-exec"
	log "starting dockerd on $DOCKER_ADDR"
	start_daemon dockerd "$DOCKERD" --config-file "$cfg"
	wait_until dockerd 60 docker_answers
}

# podman_nproc PID — the hard process limit of a running podman: podman
# changes its own limits when it starts, and a container may not get more
# than it has.
podman_nproc() {
	local line
	while read -r line; do
		if [[ "$line" =~ ^Max\ processes\ +[^\ ]+\ +([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; return 0; fi
	done <"/proc/$1/limits"
	ulimit -Hu
}

ensure_podman_service() { # [again]: the restart that applies podman's own limit
	local conf="$STATE/podman-containers.conf" reg="$STATE/podman-registries.conf" changed=0 nofile nproc
	nofile="$(ulimit -Hn)"
	nproc="$(readfile "$STATE/podman-nproc")"
	[ -n "$nproc" ] || nproc="$(ulimit -Hu)"
	write_if_changed "$conf" "# written by hack/testenv.d/docker.sh
[containers]
netns = \"host\"
# As root, podman raises a container's open-file and process limits
# (1048576, 4194304), which needs CAP_SYS_RESOURCE: these machines lack
# it. Keep the limits the podman service itself has.
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]
[engine]
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"" && changed=1
	write_if_changed "$reg" "# written by hack/testenv.d/docker.sh: docker.io through the local registry
unqualified-search-registries = [\"docker.io\"]
[[registry]]
location = \"docker.io\"
[[registry.mirror]]
location = \"$REGISTRY_ADDR\"
insecure = true
[[registry]]
location = \"$REGISTRY_ADDR\"
insecure = true" && changed=1
	if pid_of podman "$PODMAN"; then
		if [ "$changed" = 0 ] && same_binary "$PID" "$PODMAN" && podman_answers; then return 0; fi
		stop_pid podman "$PODMAN"
	fi
	rm -f "$PODMAN_SOCK"
	mkdir -p "$PODMAN_ROOT/storage" "$STATE/podman-run"
	log "starting podman system service on $PODMAN_ADDR"
	# shellcheck disable=SC2046 # podman_flags is a list of flags
	CONTAINERS_CONF="$conf" CONTAINERS_REGISTRIES_CONF="$reg" \
		start_daemon podman "$PODMAN" $(podman_flags) system service --time=0 "$PODMAN_ADDR"
	wait_until podman 30 podman_answers
	# Once: learn the limit podman gave itself, and start again with it.
	pid_of podman "$PODMAN" || die "podman exited during startup (log: $STATE/podman.log)"
	local got; got="$(podman_nproc "$PID")"
	if [ "$got" != "$nproc" ]; then
		[ "${1:-}" != again ] || die "podman's process limit moves between starts ($nproc, then $got; log: $STATE/podman.log)"
		echo "$got" >"$STATE/podman-nproc"
		ensure_podman_service again
	fi
}

# The buildkitd image's tag: a hash of what goes into it, remembered in
# $CACHE/docker-buildkitd-image with the files' stat (hashing ~100 MB on
# every `up` and `env` would cost a good part of a second).
BUILDKITD_IMAGE_MEMO="$CACHE/docker-buildkitd-image"
buildkitd_image_tag() {
	local files=("$BIN/buildkitd" "$BIN/buildctl" "$(type -P runc)") key memo h
	key="$(stat -L -c '%d:%i:%s:%Y' "${files[@]}" | tr '\n' ' ')"
	memo="$(readfile "$BUILDKITD_IMAGE_MEMO")"
	if [ "${memo% *}" = "$key" ]; then echo "${memo##* }"; return 0; fi
	h="$(cat "${files[@]}" | sha256sum)"
	mkdir -p "$CACHE"
	printf '%s %s\n' "$key" "${h:0:16}" >"$BUILDKITD_IMAGE_MEMO"
	echo "${h:0:16}"
}

ensure_buildkitd_image() {
	local tag ref ctx blog="$STATE/docker-buildkitd-image.log" t0
	tag="$(buildkitd_image_tag)"
	ref="$BUILDKITD_IMAGE_REPO:$tag"
	if "$DOCKER_CLI" -H "$DOCKER_ADDR" image inspect "$ref" >/dev/null 2>&1; then
		BUILDKITD_IMAGE="$ref"
		return 0
	fi
	t0="$(now_us)"
	ctx="$(mktemp -d "${TMPDIR:-/tmp}/lading-testenv-bkimage.XXXXXX")"
	cp "$BIN/buildkitd" "$BIN/buildctl" "$(type -P runc)" "$ctx/"
	# The engine in the container reaches the registry on the host's
	# loopback (host network), as the test environment's own engines do.
	printf '%s\n' "[worker.oci]" "  snapshotter = \"overlayfs\"" "[worker.containerd]" "  enabled = false" \
		"[registry.\"docker.io\"]" "  mirrors = [\"$REGISTRY_ADDR\"]" \
		"[registry.\"$REGISTRY_ADDR\"]" "  http = true" >"$ctx/buildkitd.toml"
	printf '%s\n' 'FROM debian:bookworm-slim' \
		'COPY buildkitd buildctl runc /usr/bin/' \
		'COPY buildkitd.toml /etc/buildkit/buildkitd.toml' \
		'VOLUME /var/lib/buildkit' \
		'ENTRYPOINT ["/usr/bin/buildkitd"]' >"$ctx/Dockerfile"
	log "making $ref for docker-container:// engines"
	if ! { "$BIN/buildctl" --addr "$BUILDKIT_ADDR" build --progress=plain --frontend dockerfile.v0 \
		--local dockerfile="$ctx" --local context="$ctx" \
		--output "type=docker,name=docker.io/$ref" 2>"$blog" |
		"$DOCKER_CLI" -H "$DOCKER_ADDR" load >>"$blog" 2>&1; }; then
		rm -rf "$ctx"
		tail -n 40 "$blog" >&2
		die "making $ref failed (log: $blog)"
	fi
	rm -rf "$ctx"
	BUILDKITD_IMAGE="$ref"
	log "made $ref in $(elapsed "$t0")"
}

up_docker() {
	[ -x "$DOCKERD" ] && [ -x "$DOCKER_CLI" ] || die "Debian's docker.io is not installed ($DOCKERD, $DOCKER_CLI)"
	[ -x "$PODMAN" ] || die "Debian's podman is not installed ($PODMAN)"
	ensure_dockerd
	ensure_podman_service
	ensure_buildkitd_image
}

env_docker() {
	echo "export LADING_TEST_DOCKER_HOST=$DOCKER_ADDR"
	echo "export LADING_TEST_DOCKER_CLI=$DOCKER_CLI"
	echo "export LADING_TEST_PODMAN=$PODMAN"
	echo "export LADING_TEST_PODMAN_HOST=$PODMAN_ADDR"
	local memo; memo="$(readfile "$BUILDKITD_IMAGE_MEMO")"
	[ -z "$memo" ] || echo "export LADING_TEST_BUILDKITD_IMAGE=$BUILDKITD_IMAGE_REPO:${memo##* }"
}

status_docker() {
	if pid_of dockerd "$DOCKERD" && docker_answers; then
		echo "dockerd:   up   pid $PID  $DOCKER_ADDR  root $DOCKER_ROOT"
	else
		echo "dockerd:   down"; return 1
	fi
	if pid_of podman "$PODMAN" && podman_answers; then
		echo "podman:    up   pid $PID  $PODMAN_ADDR  root $PODMAN_ROOT"
	else
		echo "podman:    down"; return 1
	fi
}

down_docker() {
	stop_pid podman "$PODMAN"
	stop_pid dockerd "$DOCKERD"
	rm -f "$DOCKER_SOCK" "$PODMAN_SOCK"
}
