#!/usr/bin/env bash
# Demo: a private containerd runs one container with wren and prints what it printed.
#
# Usage: hack/demo.sh   (after `make all`; `make demo` does both)
#
# Starts a private containerd in a temp dir (build/bin first on its PATH), imports the offline busybox
# image, runs `ctr run --rm --runtime io.containerd.wren.v2 docker.io/wren/busybox:test demo-<pid> echo
# "hello from wren"` and `wren-probe ids`, then stops containerd and removes everything (trap).
# RUNTIME=io.containerd.runc.v2 shows the same with the reference runtime.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${RUNTIME:-io.containerd.wren.v2}
image=docker.io/wren/busybox:test
ns="wren-demo-$$"

if [ "$runtime" = io.containerd.wren.v2 ] && [ ! -x "$repo/build/bin/containerd-shim-wren-v2" ]; then
	echo "demo.sh: build/bin/containerd-shim-wren-v2 is missing: run 'make all' (or 'make demo')" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/wren-demo.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	"$repo/hack/containerd.sh" stop "$tmp" 2>/dev/null || true
	if grep -qF " $tmp/" /proc/self/mountinfo; then
		echo "demo.sh: mounts left under $tmp; not removing it" >&2
		[ "$rc" != 0 ] || rc=1
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$repo/hack/containerd.sh" start "$tmp" 2>/dev/null
eval "$("$repo/hack/containerd.sh" env "$tmp")"
"$repo/hack/image.sh" --import "$CTR_ADDRESS" "$ns" >/dev/null 2>&1

ctr_() { timeout -s KILL 60 ctr --address "$CTR_ADDRESS" -n "$ns" "$@" </dev/null; }

run_demo() { # ID COMMAND...
	local id=$1 rc=0 out
	shift
	echo "\$ ctr run --rm --runtime $runtime $image $id $*"
	out=$(ctr_ run --rm --runtime "$runtime" "$image" "$id" "$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	if [ "$rc" != 0 ]; then
		echo "demo.sh: ctr exited $rc; last lines of containerd's log:" >&2
		grep -v 'level=debug' "$WREN_CONTAINERD_LOG" | tail -n 10 >&2 || true
		# a failed run may leave the container record (never with --rm on success)
		ctr_ task delete -f "$id" >/dev/null 2>&1 || true
		ctr_ container delete "$id" >/dev/null 2>&1 || true
	fi
	return "$rc"
}

run_demo "demo-$$" echo "hello from wren"
run_demo "demo-$$-ids" wren-probe ids
