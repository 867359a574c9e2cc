# shellcheck shell=bash
# firststart: a stand-in for the official moby/buildkit image of the pinned
# BuildKit version, so the local engine's first start (engine/engineimage*.go)
# is tested end to end: it takes buildkitd and buildctl from this image
# through the docker.io mirror, 127.0.0.1:5000/moby/buildkit:VERSION.
#
# The image is an OCI index made by hand (no daemon needed) and pushed with
# skopeo. Layout as in BuildKit's Dockerfile (stage binaries-linux copied to
# /usr/bin/): /usr/bin/buildkitd, /usr/bin/buildctl and /usr/bin/buildkit-runc
# in one layer, the entrypoint script in a layer above it. The index also
# lists a second platform (arm64 on an amd64 host, and the other way round)
# whose layer holds no binaries: a puller that picks the wrong platform finds
# nothing to run. Layers are deterministic tars (mtime 0, owner 0, sorted,
# gzip -n), so the same binaries give the same digests; the marker
# $CACHE/seeded/firststart holds the hash of the binaries and this recipe,
# and a warm `up` with the tag present does nothing.

FIRSTSTART_RECIPE=1
FIRSTSTART_DIR="$CACHE/firststart"

firststart_repo() { echo "moby/buildkit"; }

firststart_hash() {
	local h
	h="$( {
		echo "recipe=$FIRSTSTART_RECIPE"
		sha256sum "$BIN/buildkitd" "$BIN/buildctl" "$(command -v runc)" | cut -d' ' -f1
	} | sha256sum)"
	echo "${h:0:16}"
}

# firststart_digest TAG — the digest the registry serves for the stand-in's
# tag (Docker-Content-Digest of a HEAD with the index's media type), or nothing.
firststart_digest() {
	curl -fsS --max-time 5 -I -H 'Accept: application/vnd.oci.image.index.v1+json' \
		"$REGISTRY_URL/v2/$(firststart_repo)/manifests/$1" 2>/dev/null |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

# Each helper below checks every command itself: they run on the left of
# `||`, where set -e does not apply.

# firststart_blob DIR FILE MEDIATYPE — move FILE into DIR/blobs/sha256 and
# print its descriptor's JSON.
firststart_blob() {
	local dir="$1" file="$2" mt="$3" sum size
	sum="$(sha256sum "$file" | cut -d' ' -f1)" && [ -n "$sum" ] || return 1
	size="$(stat -c %s "$file")" || return 1
	mv "$file" "$dir/blobs/sha256/$sum" || return 1
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$mt" "$sum" "$size"
}

# firststart_layer DIR ROOTFS — a gzip layer of ROOTFS; prints "DIFFID DESCRIPTOR".
firststart_layer() {
	local dir="$1" root="$2" tmp diffid desc
	tmp="$(mktemp "$dir/layer.XXXXXX")" || return 1
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$tmp.tar" . || return 1
	diffid="$(sha256sum "$tmp.tar" | cut -d' ' -f1)" || return 1
	gzip -n -c "$tmp.tar" >"$tmp" || return 1
	rm -f "$tmp.tar"
	desc="$(firststart_blob "$dir" "$tmp" application/vnd.oci.image.layer.v1.tar+gzip)" || return 1
	echo "sha256:$diffid $desc"
}

# firststart_image DIR ARCH ROOTFS... — one platform's image (layers bottom
# first); prints its manifest's descriptor with the platform.
firststart_image() {
	local dir="$1" arch="$2" root out diffids="" layers="" tmp cfg m; shift 2
	for root in "$@"; do
		out="$(firststart_layer "$dir" "$root")" || return 1
		diffids="${diffids:+$diffids,}\"${out%% *}\"" layers="${layers:+$layers,}${out#* }"
	done
	tmp="$(mktemp "$dir/config.XXXXXX")" || return 1
	printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/bin/buildkitd-entrypoint"],"Labels":{"org.ladingbuild.testenv.recipe":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$(firststart_hash)" "$diffids" >"$tmp" || return 1
	cfg="$(firststart_blob "$dir" "$tmp" application/vnd.oci.image.config.v1+json)" || return 1
	tmp="$(mktemp "$dir/manifest.XXXXXX")" || return 1
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' "$cfg" "$layers" >"$tmp" || return 1
	m="$(firststart_blob "$dir" "$tmp" application/vnd.oci.image.manifest.v1+json)" || return 1
	echo "${m%\}},\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"}}"
}

# firststart_build WORK TAG — the OCI layout in WORK/oci, pushed as TAG.
firststart_build() {
	local work="$1" tag="$2" host other own wrong tmp idx
	host="$(go env GOARCH)" || return 1
	other=arm64
	[ "$host" = amd64 ] || other=amd64
	mkdir -p "$work/oci/blobs/sha256" "$work/bin/usr/bin" "$work/top/usr/bin" "$work/other/usr/share/doc/buildkit" || return 1
	cp "$BIN/buildkitd" "$BIN/buildctl" "$work/bin/usr/bin/" || return 1
	cp "$(command -v runc)" "$work/bin/usr/bin/buildkit-runc" || return 1
	printf '#!/bin/sh\n# stand-in for the entrypoint of the official image\nexec buildkitd "$@"\n' >"$work/top/usr/bin/buildkitd-entrypoint" || return 1
	chmod 0755 "$work/top/usr/bin/buildkitd-entrypoint" || return 1
	printf 'lading test environment: no buildkitd for this platform in the stand-in image\n' \
		>"$work/other/usr/share/doc/buildkit/README" || return 1
	wrong="$(firststart_image "$work/oci" "$other" "$work/other")" || return 1
	own="$(firststart_image "$work/oci" "$host" "$work/bin" "$work/top")" || return 1
	# The other platform first: the puller must choose, not take the first.
	tmp="$(mktemp "$work/oci/index.XXXXXX")" || return 1
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' "$wrong" "$own" >"$tmp" || return 1
	idx="$(firststart_blob "$work/oci" "$tmp" application/vnd.oci.image.index.v1+json)" || return 1
	printf '{"schemaVersion":2,"manifests":[%s]}' "${idx%\}},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}" >"$work/oci/index.json" || return 1
	printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout" || return 1
	skopeo copy --all --preserve-digests --dest-tls-verify=false \
		"oci:$work/oci:$tag" "docker://$REGISTRY_ADDR/$(firststart_repo):$tag"
}

up_firststart() {
	local tag hash work t0 digest
	tag="$(buildkit_version)"
	hash="$(firststart_hash)"
	if [ "${LADING_TESTENV_RESEED:-}" != 1 ] && [ "$(readfile "$CACHE/seeded/firststart")" = "$hash" ] && [ -s "$FIRSTSTART_DIR/digest" ] &&
		[ -n "$(firststart_digest "$tag")" ]; then
		return 0
	fi
	t0="$(now_us)"
	work="$(mktemp -d "${TMPDIR:-/tmp}/lading-testenv-firststart.XXXXXX")"
	log "seeding the stand-in $(firststart_repo):$tag from the test environment's buildkitd (recipe $hash)"
	firststart_build "$work" "$tag" >"$STATE/seed-firststart.log" 2>&1 || {
		tail -n 30 "$STATE/seed-firststart.log" >&2
		rm -rf "$work"
		die "seeding the stand-in $(firststart_repo):$tag failed (log: $STATE/seed-firststart.log)"
	}
	rm -rf "$work"
	digest="$(firststart_digest "$tag")"
	[ -n "$digest" ] || die "the registry does not serve $(firststart_repo):$tag after the push"
	mkdir -p "$CACHE/seeded" "$FIRSTSTART_DIR"
	echo "$digest" >"$FIRSTSTART_DIR/digest"
	echo "$hash" >"$CACHE/seeded/firststart"
	log "seeded $(firststart_repo):$tag ($digest) in $(elapsed "$t0")"
}

# LADING_TEST_ENGINE_IMAGE: the stand-in, as the local engine finds it
# through the docker.io mirror; LADING_TEST_ENGINE_IMAGE_DIGEST: the digest
# the registry serves for its tag (read back after the push).
env_firststart() {
	local version; version="$(buildkit_version)"
	echo "export LADING_TEST_ENGINE_IMAGE=$REGISTRY_ADDR/$(firststart_repo):$version"
	echo "export LADING_TEST_ENGINE_IMAGE_DIGEST=$(readfile "$FIRSTSTART_DIR/digest")"
}

status_firststart() {
	local version digest; version="$(buildkit_version)"
	digest="$(firststart_digest "$version")"
	echo "image:     $(firststart_repo):$version ${digest:-(none)} (stand-in, engine first start)"
}
