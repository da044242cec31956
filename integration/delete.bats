#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# containerd's own clean-up when a shim dies: it runs the shim binary's `delete` action.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() {
	stop_events
	wren_teardown
}

@test "delete: after kill -9 of the shim daemon, containerd cleans up and reports exit 137" {
	watch_events
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	record_shim_socket "$CID"
	local pid shim
	pid=$(task_pid "$CID")
	shim=$(shim_pid_of "$CID")
	[ -n "$shim" ]
	[ "$shim" -gt 1 ]
	[ "$(readlink "/proc/$shim/cwd")" = "$(bundle_dir "$CID")" ]
	kill -KILL "$shim"
	# containerd notices the dropped connection and runs `<shim> ... -bundle B delete`
	wait_for_status "$CID" none
	wait_for_event /tasks/exit "\"container_id\":\"$CID\".*\"exit_status\":137"
	wait_for_event /tasks/delete "\"container_id\":\"$CID\".*\"exit_status\":137"
	# the container's processes went with it
	local i
	for ((i = 0; i < 50; i++)); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ]
	# the container record stays until deleted; the next run with the same id works
	ctr_ container delete "$CID"
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "echo again; $LINGER_SH"
	assert_status 0
	[ "$output" = again ]
}

@test "delete: after kill -9 of the shim daemon, the delete action kills every process of the container, removes its cgroup and unmounts its rootfs" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'sleep 1000 & exec sleep 1001'
	wait_for_status "$CID" RUNNING
	record_shim_socket "$CID"
	local bundle shim cg pids p i left
	bundle=$(bundle_dir "$CID")
	shim=$(shim_pid_of "$CID")
	cg=$(cg_dir "$CID" pids)
	for ((i = 0; i < 50; i++)); do
		pids=$(cat "$cg/cgroup.procs")
		[ "$(wc -w <<<"$pids")" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(wc -w <<<"$pids")" -ge 2 ]
	# runc-v2 mounts the rootfs under the bundle in the host's mount namespace; wren's lives in the
	# container's namespace only, and goes with the container's processes
	if [ "$RUNTIME" = io.containerd.runc.v2 ]; then
		awk -v m="$bundle/rootfs" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
	else
		awk -v m="$bundle/rootfs" '$5 == m { f = 1 } END { exit f }' /proc/self/mountinfo
	fi
	# the daemon dies before any cleanup of its own: all of it is the delete action's
	kill -KILL "$shim"
	wait_for_status "$CID" none
	for ((i = 0; i < 50; i++)); do
		left=$(leftovers_of "$CID" | grep -E '^(cgroup dir|mount) ' || true)
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || { echo "left behind: $left" >&2; false; }
	for p in $pids; do
		process_gone "$p"
	done
	ctr_ container delete "$CID"
}

# The daemon's Delete removes the cgroup and unmounts the rootfs, and records that it did: the delete
# action that containerd 1.6 runs after every task deletion then skips the cleanup. Its answer must stay
# the init's real exit status. containerd ignores that answer after a normal delete, so the task API is
# driven here without containerd (wren-shimbench, as containerd does it), the delete action through a
# wrapper that keeps what it printed and what it found.
@test "delete: after the daemon's own Delete, the delete action still reports the init's exit status" {
	local d=$BATS_TEST_TMPDIR/direct cgp="$WREN_NS/direct-$CID"
	mkdir -p "$d"
	ctr oci spec | jq '.process.args = ["/bin/sh", "-c", "exit 7"]' >"$d/exit7.json"
	cat >"$d/wrap.sh" <<-WRAP
		#!/bin/sh
		# cwd: the bundle, after the daemon's Delete and Shutdown
		cp wren-state "$d/state"
		awk -v m="\$PWD/rootfs" '\$5 == m' /proc/self/mountinfo >"$d/mounts"
		exec "\$@" >"$d/response"
	WRAP
	chmod +x "$d/wrap.sh"
	run --separate-stderr "$WREN_REPO/build/bin/wren-shimbench" -wrap-delete "$d/wrap.sh" -warmup 0 -n 1 \
		-shim "$WREN_REPO/build/bin/containerd-shim-wren-v2" -dir "$d" -template "$d/exit7.json" \
		-lower "$ROOTFS_DIR" -ns "$WREN_NS" -cgparent "/$cgp"
	[ "$status" = 0 ] || { echo "$stderr" >&2; false; }
	# the daemon recorded the exit and its cleanup; the rootfs was unmounted before the action ran
	grep -qx 'exit_status=7' "$d/state"
	grep -qx 'cleaned=1' "$d/state"
	[ ! -s "$d/mounts" ]
	# the DeleteResponse: 1 pid, 2 exit_status, 3 exited_at
	run protoc --decode_raw <"$d/response"
	assert_status 0
	[ "$(sed -n 's/^2: //p' <<<"$output")" = 7 ]
	[ "$(sed -n 's/^1: //p' <<<"$output")" -gt 1 ]
	grep -q '^3 {' <<<"$output"
	# nothing is left of its cgroup
	[ -z "$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -path "*/$cgp/*" -type d 2>/dev/null)" ]
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -path "*/$cgp" -type d -delete 2>/dev/null || true
}

@test "delete: after kill -9 of the shim daemon of a stopped task, containerd cleans up" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'exit 4'
	wait_for_status "$CID" STOPPED
	local shim
	# the init is gone: the shim is the process whose cwd is the bundle
	shim=$(pids_with_cwd "$(bundle_dir "$CID")")
	[ -n "$shim" ]
	[ "$(wc -w <<<"$shim")" -eq 1 ]
	record_shim_socket "$CID"
	kill -KILL "$shim"
	wait_for_status "$CID" none
	ctr_ container delete "$CID"
}

@test "delete: a normal task delete leaves nothing (the delete action runs after every task delete)" {
	watch_events
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'exit 6'
	wait_for_status "$CID" STOPPED
	record_shim_socket "$CID"
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	wait_for_event /tasks/delete "\"container_id\":\"$CID\".*\"exit_status\":6"
	ctr_ container delete "$CID"
}
