#!/usr/bin/env bash
# Install the Debian 12 packages that building and testing wren need. Idempotent and fast when
# everything is present: apt runs only if a package is missing (one `apt-get update`, one install).
#
# build:        build-essential pkg-config libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
#               (google/protobuf/*.proto) protobuf-compiler libseccomp-dev libcap-dev libcgroup-dev
#               libcjson-dev (its Debian source, built static for the shim: hack/cjson.sh, dpkg-dev)
# lint:         clang-format (make check-format), shellcheck (the scripts and bats files)
# unit tests:   libcmocka-dev; clang and libclang-rt-14-dev (sanitizers, libFuzzer)
# integration:  bats, containerd (1.6.20, only the binaries: tests run a private daemon), runc (the
#               reference runtime), busybox-static and umoci (the offline test image), jq (specs, bundle
#               config), util-linux (setsid, mount tools), bsdutils
#               (script: a terminal for ctr -t in tty.bats), coreutils, criu (checkpoint.bats: where criu
#               cannot work on this kernel, the failure path is what runs), libgrpc-dev (gRPC's C core:
#               the transport of integration/tools/wren-cri, the CRI client of integration/cri/), iproute2
#               (ip: integration/cri/cni-plugin sets up the pods' network namespaces with it)
set -euo pipefail

packages=(
	build-essential pkg-config
	libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev protobuf-compiler
	libseccomp-dev libcap-dev libcgroup-dev libcjson-dev
	libcmocka-dev clang libclang-rt-14-dev clang-format shellcheck
	bats containerd runc busybox-static umoci jq util-linux bsdutils
	criu libgrpc-dev iproute2
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps.sh: installing ${missing[*]}" >&2
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: not root; install these packages first: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's containerd package starts the system service where there is an init system; the tests never use
# it (they run a private daemon) and leave a running one alone.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
