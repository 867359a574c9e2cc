# hack/testenv.d/rootless.sh — a non-root user for the rootless local engine.
#
# The rootless tests (cmd/lading's TestRootlessEngine) run the local engine
# as this user: rootlesskit (user, mount and pid namespaces, the host's
# network), newuidmap/newgidmap from uidmap, and a 65536-id range in
# /etc/subuid and /etc/subgid. The tests bring their own copies of the test
# binary and buildkitd, and a fresh HOME and XDG dirs, so the user needs no
# files of its own beyond a home directory. slirp4netns is installed for
# users who want the engine's steps in a network namespace of their own;
# the tests use the host network, since traffic may only go to loopback.
#
# A second user, lading-test-noids, has no subordinate ids: the tests check
# the error that names the /etc/subuid line to add.
#
# Exports LADING_TEST_ROOTLESS_USER and LADING_TEST_ROOTLESS_USER_NO_IDS.

APT_PACKAGES+=(rootlesskit uidmap slirp4netns)
ROOTLESS_USER="${LADING_TESTENV_ROOTLESS_USER:-lading-test}"
ROOTLESS_USER_NO_IDS="$ROOTLESS_USER-noids"

# rootless_subids FILE — the user has a 65536-id range in FILE.
rootless_subids() {
	local line
	while IFS= read -r line; do
		[[ "$line" == "$ROOTLESS_USER:"* ]] || continue
		[ "${line##*:}" -ge 65536 ] 2>/dev/null && return 0
	done <"$1"
	return 1
}

# rootless_free_start — the first id after every range in /etc/subuid and
# /etc/subgid (at least 100000), so the user's range overlaps no other.
rootless_free_start() {
	local f user start count end=100000
	for f in /etc/subuid /etc/subgid; do
		[ -f "$f" ] || continue
		while IFS=: read -r user start count; do
			[[ "$start" =~ ^[0-9]+$ && "$count" =~ ^[0-9]+$ ]] || continue
			(( start + count > end )) && end=$(( start + count ))
		done <"$f"
	done
	echo "$end"
}

# rootless_user_exists USER — USER is in /etc/passwd (bash builtins only:
# a second `up` must stay fast).
rootless_user_exists() {
	local line
	while IFS= read -r line; do
		[[ "$line" == "$1:"* ]] && return 0
	done </etc/passwd
	return 1
}

# rootless_no_ids USER — neither /etc/subuid nor /etc/subgid names USER.
rootless_no_ids() {
	local f line
	for f in /etc/subuid /etc/subgid; do
		while IFS= read -r line; do
			[[ "$line" == "$1:"* ]] && return 1
		done <"$f"
	done
	return 0
}

up_rootless() {
	if ! rootless_user_exists "$ROOTLESS_USER"; then
		log "creating the rootless test user $ROOTLESS_USER"
		useradd --create-home --shell /bin/bash --comment "lading rootless tests" "$ROOTLESS_USER" ||
			die "useradd $ROOTLESS_USER failed"
	fi
	[ -f /etc/subuid ] || : >/etc/subuid
	[ -f /etc/subgid ] || : >/etc/subgid
	if ! rootless_subids /etc/subuid || ! rootless_subids /etc/subgid; then
		local start; start="$(rootless_free_start)"
		log "giving $ROOTLESS_USER the subordinate ids $start-$(( start + 65535 ))"
		rootless_subids /etc/subuid || usermod --add-subuids "$start-$(( start + 65535 ))" "$ROOTLESS_USER"
		rootless_subids /etc/subgid || usermod --add-subgids "$start-$(( start + 65535 ))" "$ROOTLESS_USER"
	fi
	if ! rootless_user_exists "$ROOTLESS_USER_NO_IDS"; then
		log "creating the test user $ROOTLESS_USER_NO_IDS (no subordinate ids)"
		useradd --create-home --shell /bin/bash --comment "lading rootless tests, no subordinate ids" \
			-K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$ROOTLESS_USER_NO_IDS" || die "useradd $ROOTLESS_USER_NO_IDS failed"
	fi
	if ! rootless_no_ids "$ROOTLESS_USER_NO_IDS"; then
		sed -i "/^$ROOTLESS_USER_NO_IDS:/d" /etc/subuid /etc/subgid
	fi
}

env_rootless() {
	echo "export LADING_TEST_ROOTLESS_USER=$ROOTLESS_USER"
	echo "export LADING_TEST_ROOTLESS_USER_NO_IDS=$ROOTLESS_USER_NO_IDS"
}

status_rootless() {
	local kit
	kit="$(command -v rootlesskit || true)"
	if id -u "$ROOTLESS_USER" >/dev/null 2>&1 && [ -n "$kit" ] && command -v newuidmap >/dev/null &&
		rootless_subids /etc/subuid && rootless_subids /etc/subgid &&
		rootless_user_exists "$ROOTLESS_USER_NO_IDS" && rootless_no_ids "$ROOTLESS_USER_NO_IDS"; then
		echo "rootless:  user $ROOTLESS_USER (uid $(id -u "$ROOTLESS_USER")), $kit; $ROOTLESS_USER_NO_IDS without subordinate ids"
	else
		echo "rootless:  not set up (users $ROOTLESS_USER and $ROOTLESS_USER_NO_IDS, rootlesskit, uidmap, /etc/subuid)"
		return 1
	fi
}
