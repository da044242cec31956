#!/usr/bin/env bash
# Run the bats integration suite against a private containerd.
#
# Usage: [RUNTIME=io.containerd.runc.v2] hack/integration.sh [bats options...] [integration/FILE.bats...]
#   e.g. hack/integration.sh --filter 'stdin|exec' integration/run.bats   (options before files)
#
# Builds (or reuses) the offline test image, starts a private containerd in a temp dir, imports the
# image into a namespace of its own, runs bats (TAP output) on integration/*.bats or on the files given,
# and always stops containerd and removes the temp dir. Exits with bats' status.
# RUNTIME defaults to io.containerd.wren.v2 (build/bin/containerd-shim-wren-v2, first on containerd's PATH).
# Works without a tty or stdin (CI=true).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

export RUNTIME=${RUNTIME:-io.containerd.wren.v2}
export WREN_CTR_TIMEOUT=${WREN_CTR_TIMEOUT:-60}
# bats >= 1.7 kills a test that runs longer than this (seconds)
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180}

command -v bats >/dev/null || { echo "integration.sh: bats is missing (run hack/deps.sh)" >&2; exit 1; }

# bats arguments: options pass through; without any .bats file or directory, run them all
args=() have_files=0
for a in "$@"; do
	case "$a" in *.bats | integration | integration/) have_files=1 ;; esac
	args+=("$a")
done
[ $have_files = 1 ] || args+=(integration/)

if [ "$RUNTIME" = io.containerd.wren.v2 ] && [ ! -x build/bin/containerd-shim-wren-v2 ]; then
	echo "integration.sh: warning: build/bin/containerd-shim-wren-v2 is not built; tests will fail" >&2
fi

tmp=$(mktemp -d /tmp/wren-it.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$?
	"$repo/hack/containerd.sh" stop "$tmp" || true
	if [ "$rc" != 0 ] && [ -s "$tmp/containerd.log" ] && [ "${WREN_KEEP_LOG:-}" != "" ]; then
		cp "$tmp/containerd.log" "$WREN_KEEP_LOG" || true
	fi
	# never rm -rf through a mount
	if grep -qF " $tmp/" /proc/self/mountinfo; then
		echo "integration.sh: mounts left under $tmp; not removing it" >&2
		[ "$rc" != 0 ] || rc=1
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
"$repo/hack/containerd.sh" start "$tmp"
eval "$("$repo/hack/containerd.sh" env "$tmp")"
export WREN_NS="wren-it-$$"
"$repo/hack/image.sh" --import "$CTR_ADDRESS" "$WREN_NS" >/dev/null

echo "# runtime $RUNTIME, containerd $(ctr --address "$CTR_ADDRESS" version 2>/dev/null |
	awk '/Server/ { s = 1 } s && /Version/ { print $2; exit }'), namespace $WREN_NS, state $tmp"
rc=0
bats --tap "${args[@]}" </dev/null | tee "$tmp/tap" || rc=$?
echo "# integration: bats exited $rc after $(($(date +%s) - start)) s"
# the plain closing line CI reads
echo "integration: $(grep -c '^ok ' "$tmp/tap") passed, $(grep -c '^not ok ' "$tmp/tap") failed"
exit "$rc"
