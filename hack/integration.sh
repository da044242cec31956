#!/usr/bin/env bash
# Run the bats integration suites against private containerds.
#
# Usage: [RUNTIME=io.containerd.runc.v2] hack/integration.sh [bats options...] [FILE.bats|DIR...]
#   e.g. hack/integration.sh --filter 'stdin|exec' integration/run.bats   (options before files)
#
# Builds (or reuses) the offline test image and runs two suites, each against a private containerd of its
# own in a temp dir (TAP output):
#   integration/*.bats       containerd without CRI; the image imported into a namespace of the run's own
#   integration/cri/*.bats   containerd with its CRI plugin (hack/containerd.sh WREN_CONTAINERD_CRI=1); the
#                            image imported into k8s.io, where CRI works
# Without files, both; with files, the suites they belong to. Always stops the containerds and removes
# the temp dir. Exits non-zero if either bats run failed. RUNTIME defaults to io.containerd.wren.v2
# (build/bin/containerd-shim-wren-v2, first on containerd's PATH); the CRI tests use the RuntimeClass
# handler that maps to it. Works without a tty or stdin (CI=true).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

export RUNTIME=${RUNTIME:-io.containerd.wren.v2}
export WREN_CTR_TIMEOUT=${WREN_CTR_TIMEOUT:-60}
# bats >= 1.7 kills a test that runs longer than this (seconds)
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180}

command -v bats >/dev/null || { echo "integration.sh: bats is missing (run hack/deps.sh)" >&2; exit 1; }

# bats arguments: options pass through; files and directories go to the suite they belong to
opts=() main=() cri=() have_files=0
for a in "$@"; do
	case "$a" in
	integration/cri | integration/cri/ | integration/cri/*.bats) cri+=("$a") have_files=1 ;;
	*.bats | integration | integration/) main+=("$a") have_files=1 ;;
	*) opts+=("$a") ;;
	esac
done
[ $have_files = 1 ] || { main=(integration/); cri=(integration/cri/); }

if [ "$RUNTIME" = io.containerd.wren.v2 ] && [ ! -x build/bin/containerd-shim-wren-v2 ]; then
	echo "integration.sh: warning: build/bin/containerd-shim-wren-v2 is not built; tests will fail" >&2
fi
if [ ${#cri[@]} -gt 0 ] && [ ! -x build/bin/wren-cri ]; then
	echo "integration.sh: build/bin/wren-cri, the CRI tests' client, is not built (make integration" \
		"builds it; it needs libgrpc-dev: hack/deps.sh)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/wren-it.XXXXXX)
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$? d
	for d in "$tmp"/*/; do
		[ -e "$d/config.toml" ] || continue
		"$repo/hack/containerd.sh" stop "$d" || true
		if [ "$rc" != 0 ] && [ -s "$d/containerd.log" ] && [ "${WREN_KEEP_LOG:-}" != "" ]; then
			# the main suite's log at WREN_KEEP_LOG, the CRI suite's at WREN_KEEP_LOG.cri
			local dest=$WREN_KEEP_LOG
			[ "$(basename "$d")" = main ] || dest=$WREN_KEEP_LOG.$(basename "$d")
			cp "$d/containerd.log" "$dest" || true
		fi
	done
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
export WREN_NS="wren-it-$$"
rc=0
: >"$tmp/tap"

# run_suite NAME CRI(0|1) FILES...: a containerd of its own in $tmp/NAME, then bats on FILES
run_suite() {
	local name=$1 with_cri=$2 ns=$WREN_NS r=0
	shift 2
	mkdir -p "$tmp/$name"
	WREN_CONTAINERD_CRI=$with_cri "$repo/hack/containerd.sh" start "$tmp/$name"
	eval "$("$repo/hack/containerd.sh" env "$tmp/$name")"
	[ "$with_cri" = 1 ] && ns=k8s.io
	"$repo/hack/image.sh" --import "$CTR_ADDRESS" "$ns" >/dev/null
	echo "# $name: runtime $RUNTIME, containerd $(ctr --address "$CTR_ADDRESS" version 2>/dev/null |
		awk '/Server/ { s = 1 } s && /Version/ { print $2; exit }'), namespace $ns, state $tmp/$name"
	bats --tap "${opts[@]}" "$@" </dev/null | tee -a "$tmp/tap" || r=$?
	"$repo/hack/containerd.sh" stop "$tmp/$name" || true
	return "$r"
}

[ ${#main[@]} = 0 ] || run_suite main 0 "${main[@]}" || rc=$?
[ ${#cri[@]} = 0 ] || run_suite cri 1 "${cri[@]}" || rc=$?
echo "# integration: bats exited $rc after $(($(date +%s) - start)) s"
# the plain closing line CI reads
echo "integration: $(grep -c '^ok ' "$tmp/tap") passed, $(grep -c '^not ok ' "$tmp/tap") failed"
exit "$rc"
