#!/usr/bin/env bash
# Runs INSIDE the cgroup v2 guest that hack/cgv2-vm.sh boots, from the staged copy of the repo.
#
# Usage: hack/cgv2-guest.sh [bats args or integration/FILE.bats...]
#
# 1. build/tests/runtime_test_cgroup and runtime_test_cgroup_join (the runtime's cgroup unit tests), and
#    runtime_test_container's exec tests (an exec's child is born in its cgroup here, CLONE_INTO_CGROUP,
#    and in a frozen one cannot take a first step), if they were staged;
# 2. hack/integration.sh on the given bats files, or by default on the ones that touch cgroups (limits,
#    update, stats, OOM, pause/resume, kill --all, leftovers), once per runtime;
# 3. after all runs: no container cgroup may be left under /sys/fs/cgroup.
# With WREN_CGV2_SYSTEMD=1 (systemd is the guest's init, see hack/cgv2-vm.sh) the default bats file is
# integration/systemd.bats, the system bus is started for runc (wren falls back to
# /run/systemd/private), runtime_test_dbus runs too, and systemd's own units are not leftovers.
# Environment (set by hack/cgv2-vm.sh): WREN_CGV2_RESULTS (TAP, logs), WREN_CGV2_BINDIR (containerd, ctr and
# containerd-shim-runc-v2 of the release under test), WREN_CGV2_RUNTIMES.
# Exit status 0 only if every step passed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
results=${WREN_CGV2_RESULTS:-/tmp/wren-cgv2-results}
bindir=${WREN_CGV2_BINDIR:-/usr/bin}
read -r -a runtimes <<<"${WREN_CGV2_RUNTIMES:-io.containerd.wren.v2}"
systemd_mode=${WREN_CGV2_SYSTEMD:-0}
mkdir -p "$results"
if [ "$systemd_mode" = 1 ]; then
	if [ ! -d /run/systemd/system ]; then
		echo "cgv2-guest.sh: WREN_CGV2_SYSTEMD=1 but systemd is not the init" >&2
		exit 125
	fi
	echo "== systemd $(systemctl --version | head -n 1), state $(systemctl is-system-running 2>&1 || true)"
	# runc's systemd driver talks to the system bus only
	systemctl start dbus.socket dbus.service 2>&1 || echo "== (no system bus: runc's driver will fail)"
fi

uptime_s() { cut -d' ' -f1 /proc/uptime; }

echo "== guest: kernel $(uname -r), $(nproc) cpus, /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup)," \
	"controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "== v1 hierarchies mounted: $(awk '$3 == "cgroup"' /proc/mounts | wc -l); uptime $(uptime_s) s"
echo "== containerd $("$bindir/containerd" --version | awk '{ print $3 }'), $(runc --version | head -n 1)"
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
	echo "cgv2-guest.sh: /sys/fs/cgroup is not cgroup2: not a pure cgroup v2 guest" >&2
	exit 125
fi

# The default selection, the files whose tests read or change cgroups: cgroups.bats (pause/resume, update,
# stats, OOM), lifecycle.bats (the container's cgroup, kill --all), delete.bats (nothing left after a shim
# dies), security.bats (--memory-limit). Every test's teardown also checks that no cgroup is left.
if [ $# -eq 0 ] && [ "$systemd_mode" = 1 ]; then
	set -- integration/systemd.bats
elif [ $# -eq 0 ]; then
	files=()
	for f in cgroups lifecycle delete security; do
		[ -f "integration/$f.bats" ] && files+=("integration/$f.bats")
	done
	[ ${#files[@]} -gt 0 ] || { echo "cgv2-guest.sh: no cgroup tests found in integration/" >&2; exit 1; }
	set -- "${files[@]}"
fi
echo "== bats: $*"

summary=()
rc=0

unit_tests=(runtime_test_cgroup runtime_test_cgroup_join runtime_test_container)
[ "$systemd_mode" = 1 ] && unit_tests+=(runtime_test_dbus)
for ut in "${unit_tests[@]}"; do
	if [ -x "build/tests/$ut" ]; then
		echo "=== $ut"
		urc=0
		filter=
		[ "$ut" = runtime_test_container ] && filter='test_exec_*'
		WREN_TEST_FILTER=$filter "build/tests/$ut" 2>&1 | tee "$results/$ut.txt" || urc=$?
		passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$results/$ut.txt" | tail -n 1)
		failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$results/$ut.txt" | tail -n 1)
		if [ "$urc" = 0 ]; then
			summary+=("$(printf '%-28s pass  %s passed' "$ut" "${passed:-?}")")
		else
			rc=1
			summary+=("$(printf '%-28s FAIL  %s passed, %s failed (exit %s)' "$ut" \
				"${passed:-0}" "${failed:-?}" "$urc")")
		fi
	else
		summary+=("$(printf '%-28s skip  (not built)' "$ut")")
	fi
done

# integration_run RUNTIME LABEL: hack/integration.sh once, TAP in $results/LABEL.tap, a summary line.
integration_run() {
	local rt=$1 short=$2 tap irc pass fail total line failed
	tap=$results/$short.tap
	echo "=== integration, runtime $rt ($short), uptime $(uptime_s) s"
	irc=0
	PATH="$bindir:$PATH" CONTAINERD_BIN="$bindir/containerd" RUNTIME="$rt" \
		WREN_KEEP_LOG="$results/$short.containerd.log" hack/integration.sh "${bats_args[@]}" 2>&1 | tee "$tap" || irc=$?
	pass=$(grep -c '^ok ' "$tap" || true)
	fail=$(grep -c '^not ok ' "$tap" || true)
	# one plan line per suite (integration/ and integration/cri/)
	total=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | awk '{ t += $1 } END { if (NR) print t }')
	line=$(printf '%-28s %s  %s/%s pass' "integration $short" \
		"$([ "$irc" = 0 ] && [ "$fail" = 0 ] && [ -n "$total" ] && echo pass || echo FAIL)" "$pass" "${total:-?}")
	if [ "$irc" != 0 ] || [ "$fail" != 0 ] || [ -z "$total" ]; then
		rc=1
		failed=$(sed -n 's/^not ok [0-9]* //p' "$tap")
		[ -n "$failed" ] && line+=$'\n'$(printf '%s\n' "$failed" | sed 's/^/    not ok: /')
	fi
	summary+=("$line")
}

bats_args=("$@")
for rt in "${runtimes[@]}"; do
	integration_run "$rt" "${rt#io.containerd.}"
done
# wren again without the system bus: it must fall back to systemd's private socket
if [ "$systemd_mode" = 1 ] && [[ " ${runtimes[*]} " == *" io.containerd.wren.v2 "* ]]; then
	systemctl stop dbus.socket dbus.service || true
	echo "== system bus stopped: $(systemctl is-active dbus.service || true)"
	integration_run io.containerd.wren.v2 wren.v2-private-socket
fi

# What the runs left in the (otherwise empty) hierarchy: containers' cgroups (<ns>/<id>) are failures;
# an empty namespace-level cgroup is the test harness's to remove and only reported.
# Under systemd, its own units' cgroups (*.slice, *.scope, *.service, ...) are not ours, except the
# driver's wren-*/runc-* scopes.
mapfile -t left < <(find /sys/fs/cgroup -mindepth 1 -type d -printf '%P\n' | sort |
	if [ "$systemd_mode" = 1 ]; then
		awk '/(^|\/)(wren|runc)-[^\/]*\.scope$/ { print; next }
		     /(^|\/)[^\/]+\.(slice|service|socket|mount|swap|target|scope)(\/|$)/ { next } { print }'
	else
		cat
	fi)
deep=() shallow=()
for d in "${left[@]}"; do
	case "$d" in */*) deep+=("$d") ;; *) shallow+=("$d") ;; esac
done
if [ ${#deep[@]} -gt 0 ]; then
	rc=1
	summary+=("$(printf '%-28s FAIL  %s' "cgroups left" "${deep[*]}")")
else
	summary+=("$(printf '%-28s pass  none%s' "cgroups left" \
		"${shallow[*]:+ (empty namespace-level cgroups left by the harness: ${shallow[*]})}")")
fi
mounts=$(awk '$2 ~ "^/tmp/wren-it" || $2 ~ "^/run/containerd/io.containerd.runtime" { print $2 }' /proc/mounts)
if [ -n "$mounts" ]; then
	rc=1
	summary+=("$(printf '%-28s FAIL  %s' "mounts left" "$(echo "$mounts" | tr '\n' ' ')")")
fi

echo
echo "=== cgroup v2 guest summary (containerd $("$bindir/containerd" --version | awk '{ print $3 }'), uptime $(uptime_s) s)"
printf '%s\n' "${summary[@]}"
exit "$rc"
