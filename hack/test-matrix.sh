#!/usr/bin/env bash
# Run the bats integration suite once per containerd version (and runtime), and print a summary.
#
# Usage: hack/test-matrix.sh [bats args or integration/FILE.bats...]
#
# Environment:
#   WREN_MATRIX_VERSIONS  containerd versions (default "1.6.20 1.7.24 2.1.9"); 1.6.20 is /usr/bin's (Debian
#                         12), the others come from hack/fetch-containerd.sh (Debian .debs, unpacked, cached)
#   WREN_MATRIX_RUNTIMES  runtimes (default "io.containerd.wren.v2"; add io.containerd.runc.v2 for the
#                         reference, whose containerd-shim-runc-v2 is then the one of the same release)
#   WREN_MATRIX_OUT       where the TAP output and, for failed runs, the containerd logs go
#                         (default build/test-matrix; each run overwrites its own files)
#
# Each run is hack/integration.sh with the release's directory first on PATH (its ctr and
# containerd-shim-runc-v2; build/bin still comes first for containerd itself) and CONTAINERD_BIN set to its
# containerd. Exit status 0 only if every run passed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

read -r -a versions <<<"${WREN_MATRIX_VERSIONS:-1.6.20 1.7.24 2.1.9}"
read -r -a runtimes <<<"${WREN_MATRIX_RUNTIMES:-io.containerd.wren.v2}"
out=${WREN_MATRIX_OUT:-$repo/build/test-matrix}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# version -> directory of its binaries (also fetches what is missing; fails early, before any run)
declare -A bindir
while read -r v d; do
	bindir[$v]=$d
done < <(hack/fetch-containerd.sh "${versions[@]}")

summary=()
overall=0
for v in "${versions[@]}"; do
	bin=${bindir[$v]}
	got=$("$bin/ctr" --version 2>&1 || true)
	case "$got" in *" $v"*) ;; *)
		echo "test-matrix.sh: $bin/ctr is not $v: $got" >&2
		exit 1
		;;
	esac
	for rt in "${runtimes[@]}"; do
		short=${rt#io.containerd.}
		tap=$out/$v-$short.tap
		log=$out/$v-$short.containerd.log
		rm -f "$tap" "$log"
		echo "=== containerd $v, runtime $rt"
		# pipefail: rc is integration.sh's status (tee's is 0)
		rc=0
		PATH="$bin:$PATH" CONTAINERD_BIN="$bin/containerd" RUNTIME="$rt" WREN_KEEP_LOG="$log" \
			hack/integration.sh "$@" 2>&1 | tee "$tap" || rc=$?
		pass=$(grep -c '^ok ' "$tap" || true)
		fail=$(grep -c '^not ok ' "$tap" || true)
		# one plan line per suite (integration/ and integration/cri/)
		total=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | awk '{ t += $1 } END { print t + 0 }')
		status=pass
		if [ "$rc" != 0 ] || [ "$fail" != 0 ] || [ "$pass" != "$total" ] || [ "$total" = 0 ]; then
			status=FAIL
			overall=1
		fi
		line=$(printf '%-8s %-14s %-4s %3s/%-3s pass' "$v" "$short" "$status" "$pass" "$total")
		failed=$(sed -n 's/^not ok [0-9]* //p' "$tap")
		if [ -n "$failed" ]; then
			line+=$'\n'$(printf '%s\n' "$failed" | sed 's/^/           not ok: /')
		fi
		[ -s "$log" ] && line+=$'\n'"           containerd log: $log"
		summary+=("$line")
	done
done

echo
echo "=== test-matrix summary (TAP in $out)"
printf '%-8s %-14s %-4s %s\n' containerd runtime result tests
printf '%s\n' "${summary[@]}"
exit "$overall"
