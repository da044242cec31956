#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# Detached tasks: ls, ps, kill (TERM handled, KILL, --all), exec, and where the processes live on the host.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

@test "lifecycle: run -d shows RUNNING with the host pid of the init, in the container's cgroup, child of the shim" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local pid shim bundle
	pid=$(task_pid "$CID")
	[ -n "$pid" ]
	[ "$pid" -gt 1 ]
	[ -d "/proc/$pid" ]
	# the init is the container's command
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
	# ctr's cgroupsPath is /<namespace>/<id>: in each v1 hierarchy here, in the one tree on pure v2
	if [ -d /sys/fs/cgroup/memory ]; then
		grep -qx "[0-9]*:memory:/$WREN_NS/$CID" "/proc/$pid/cgroup"
		grep -qx "[0-9]*:pids:/$WREN_NS/$CID" "/proc/$pid/cgroup"
	else
		grep -qx "0::/$WREN_NS/$CID" "/proc/$pid/cgroup"
	fi
	grep -qx "$pid" "$(cg_dir "$CID" memory)/cgroup.procs"
	# its parent is the shim daemon: cwd is the bundle and it serves this id
	shim=$(awk '{ print $4 }' "/proc/$pid/stat")
	bundle=$(bundle_dir "$CID")
	[ "$(readlink "/proc/$shim/cwd")" = "$bundle" ]
	tr '\0' '\n' <"/proc/$shim/cmdline" | grep -qxF -- "$CID"
	# in its own pid namespace
	[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]
	record_shim_socket "$CID"
}

@test "lifecycle: ctr task ps lists the processes with their host pids" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'sleep 100 & sleep 101 & wait'
	wait_for_status "$CID" RUNNING
	local pid i n=0
	pid=$(task_pid "$CID")
	for ((i = 0; i < 50; i++)); do
		n=$(ctr_ task ps "$CID" | awk 'NR > 1' | wc -l)
		[ "$n" -ge 3 ] && break
		sleep 0.1
	done
	run --separate-stderr ctr_ task ps "$CID"
	assert_status 0
	[ "$(printf '%s\n' "${lines[@]:1}" | wc -l)" -eq 3 ]
	# every pid listed is in the container's cgroup, the init among them
	printf '%s\n' "${lines[@]:1}" | awk '{ print $1 }' | grep -qx "$pid"
	local p
	for p in $(printf '%s\n' "${lines[@]:1}" | awk '{ print $1 }'); do
		grep -qx "$p" "$(cg_dir "$CID" pids)/cgroup.procs"
	done
}

@test "lifecycle: kill with TERM reaches a process that handles it" {
	ctr_ run --rm --runtime "$RUNTIME" "${LINGER_ENV[@]}" "$IMAGE" "$CID" "$PROBE" trap-term >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local runner=$! i rc=0
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready=1' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	grep -q '^ready=1' "$BATS_TEST_TMPDIR/out"
	ctr_ task kill "$CID" # default signal: SIGTERM
	wait "$runner" || rc=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$rc" -eq 0 ]
	grep -qx 'got TERM' "$BATS_TEST_TMPDIR/out"
}

@test "lifecycle: TERM to an init without a handler does nothing; KILL stops it" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	ctr_ task kill -s TERM "$CID"
	sleep 0.5
	[ "$(task_status "$CID")" = RUNNING ]
	ctr_ task kill -s KILL "$CID"
	wait_for_status "$CID" STOPPED
	run --separate-stderr ctr_ task delete "$CID"
	assert_contains "$stderr" "exit code 137"
}

@test "lifecycle: kill --all signals every process of the container" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'sleep 100 & sleep 101 & wait'
	wait_for_status "$CID" RUNNING
	local i pids=()
	for ((i = 0; i < 50; i++)); do
		mapfile -t pids < <(ctr_ task ps "$CID" | awk 'NR > 1 { print $1 }')
		[ ${#pids[@]} -ge 3 ] && break
		sleep 0.1
	done
	[ ${#pids[@]} -eq 3 ]
	ctr_ task kill --all -s KILL "$CID"
	wait_for_status "$CID" STOPPED
	local p
	for p in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do
			[ -d "/proc/$p" ] || break
			sleep 0.1
		done
		[ ! -d "/proc/$p" ] || { echo "pid $p survived kill --all" >&2; false; }
	done
}

@test "lifecycle: exec runs a second process in the container and returns its exit code" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" "$CID" sh -c "$PROBE pid; $LINGER_SH"
	assert_status 0
	[ "$(fact pid)" -gt 1 ]
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" "$CID" sh -c 'exit 7'
	assert_status 7
	[ "$(task_status "$CID")" = RUNNING ]
}

@test "lifecycle: the task is STOPPED when its process exits, and can be deleted" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" true
	wait_for_status "$CID" STOPPED
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	[ "$(task_status "$CID")" = none ]
	ctr_ container delete "$CID"
}
