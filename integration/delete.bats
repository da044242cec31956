#!/usr/bin/env bats
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
	[ -n "$shim" ] && [ "$shim" -gt 1 ]
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

@test "delete: after kill -9 of the shim daemon of a stopped task, containerd cleans up" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'exit 4'
	wait_for_status "$CID" STOPPED
	local shim
	# the init is gone: the shim is the process whose cwd is the bundle
	shim=$(pids_with_cwd "$(bundle_dir "$CID")")
	[ -n "$shim" ] && [ "$(wc -w <<<"$shim")" -eq 1 ]
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
