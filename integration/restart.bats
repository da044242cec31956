#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# containerd restarts (hack/containerd.sh restart): the containers keep running, containerd
# reconnects to their shims, stdio keeps flowing, and exits that happened while it was down still
# reach it.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() {
	wren_setup
	mkdir -p "$BATS_TEST_TMPDIR/ctl"
}
teardown() {
	[ -n "${CAT_PID:-}" ] && { kill "$CAT_PID" 2>/dev/null || true; }
	[ -n "${EVENTS_PID:-}" ] && { kill "$EVENTS_PID" 2>/dev/null || true; }
	wren_teardown
}

restart_containerd() { # restart_containerd [SECONDS DOWN]
	"$WREN_REPO/hack/containerd.sh" restart "$WREN_CONTAINERD_DIR" "${1:-0}" >>"$BATS_TEST_TMPDIR/restart.log" 2>&1
}

# A container that prints 0, 1, 2, ... (one a line, every 20 ms) until the host creates
# $BATS_TEST_TMPDIR/ctl/stop, then exits 3.
run_counter() {
	ctr_ run -d --runtime "$RUNTIME" \
		--mount "type=bind,src=$BATS_TEST_TMPDIR/ctl,dst=/ctl,options=rbind:rw" \
		"$IMAGE" "$CID" sh -c 'sleep 1; i=0; while [ ! -e /ctl/stop ]; do echo $i; i=$((i+1)); usleep 20000; done; exit 3' \
		>/dev/null
	wait_for_status "$CID" RUNNING
}

# The container's stdout FIFO, as its shim holds it open (ctr run -d leaves nobody reading it).
stdout_fifo() {
	local shim
	shim=$(shim_pid_of "$CID")
	find "/proc/$shim/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' | grep -m1 -E "/$CID-stdout\$"
}

# The counter's output has no gap and no repeat: 0..N-1 in order.
assert_counter_complete() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -gt 10 ] || { echo "only $n lines" >&2; false; }
	seq 0 $((n - 1)) | cmp -s - "$1" || { echo "gap or repeat in the counter:" >&2; seq 0 $((n - 1)) | diff - "$1" | head >&2; false; }
}

@test "restart: a container keeps writing to stdout through a containerd restart; no gap; its exit is delivered after" {
	run_counter
	record_shim_socket "$CID"
	local fifo
	fifo=$(stdout_fifo)
	[ -p "$fifo" ]
	cat "$fifo" >"$BATS_TEST_TMPDIR/out" 3>&- &
	CAT_PID=$!
	sleep 1.5
	local before
	before=$(wc -l <"$BATS_TEST_TMPDIR/out")
	restart_containerd 1
	# containerd knows the task again, still running, and the counter went on
	[ "$(task_status "$CID")" = RUNNING ]
	sleep 1
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -gt "$before" ]
	ctr_ events >"$BATS_TEST_TMPDIR/events" 2>&1 3>&- &
	EVENTS_PID=$!
	sleep 0.3
	touch "$BATS_TEST_TMPDIR/ctl/stop"
	wait_for_status "$CID" STOPPED
	local i
	for ((i = 0; i < 50; i++)); do
		grep -qE " /tasks/exit .*\"id\":\"$CID\".*\"exit_status\":3" "$BATS_TEST_TMPDIR/events" && break
		sleep 0.1
	done
	grep -qE " /tasks/exit .*\"id\":\"$CID\".*\"exit_status\":3" "$BATS_TEST_TMPDIR/events" ||
		{ cat "$BATS_TEST_TMPDIR/events" >&2; false; }
	# cat ends when the container's last writer is gone
	wait "$CAT_PID"
	CAT_PID=
	assert_counter_complete "$BATS_TEST_TMPDIR/out"
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	assert_contains "$stderr" "exit code 3"
}

@test "restart: an exit while containerd is down reaches it when it is back (1.6: STOPPED with its code; >= 1.7: deleted as a leaked shim, nothing left)" {
	run_counter
	record_shim_socket "$CID"
	local pid log_lines shim
	pid=$(task_pid "$CID")
	shim=$(shim_pid_of "$CID")
	[ -n "$shim" ]
	log_lines=$(wc -l <"$WREN_CONTAINERD_LOG")
	restart_containerd 4 &
	local restarter=$! i
	# containerd is down once its pid file is gone
	for ((i = 0; i < 100; i++)); do
		[ -e "$WREN_CONTAINERD_DIR/containerd.pid" ] || break
		sleep 0.1
	done
	[ ! -e "$WREN_CONTAINERD_DIR/containerd.pid" ]
	touch "$BATS_TEST_TMPDIR/ctl/stop"
	for ((i = 0; i < 30; i++)); do
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	[ ! -d "/proc/$pid" ]
	# it exited while containerd was down
	[ ! -e "$WREN_CONTAINERD_DIR/containerd.pid" ]
	wait "$restarter"
	if containerd_at_least 1.7; then
		# containerd >= 1.7 asks each shim it reloads for Pids: one whose container has no process left
		# (and is not a sandbox) is taken for a leaked shim and its task is deleted, with runc-v2 as with
		# wren ("cleaning leaked shim process", runtime/v2/shim_load.go). What must hold then: the task
		# is gone, containerd logged why, and the shim left nothing behind.
		wait_for_status "$CID" none
		for ((i = 0; i < 100; i++)); do
			tail -n +"$log_lines" "$WREN_CONTAINERD_LOG" |
				grep -F "cleaning leaked shim process" | grep -qF "$CID" && break
			sleep 0.1
		done
		tail -n +"$log_lines" "$WREN_CONTAINERD_LOG" |
			grep -F "cleaning leaked shim process" | grep -qF "$CID"
		# the exit did reach containerd, as the empty Pids it judged by; its code does not (containerd
		# deletes the task without asking for it, and starts serving only after that)
		assert_nothing_left "$CID"
		# the shim exited (its adopter, pid 1 here, may not have reaped it yet: a zombie counts as gone)
		for ((i = 0; i < 50; i++)); do
			process_gone "$shim" && break
			sleep 0.1
		done
		process_gone "$shim" || { echo "shim $shim still there: $(grep -E '^(State|PPid)' "/proc/$shim/status")" >&2; false; }
		return 0
	fi
	wait_for_status "$CID" STOPPED
	# the shim's queued /tasks/exit is forwarded to the new containerd (its debug log says so)
	for ((i = 0; i < 100; i++)); do
		tail -n +"$log_lines" "$WREN_CONTAINERD_LOG" |
			grep -F "event forwarded" | grep -F "ns=$WREN_NS" | grep -qF "topic=/tasks/exit" && break
		sleep 0.1
	done
	tail -n +"$log_lines" "$WREN_CONTAINERD_LOG" |
		grep -F "event forwarded" | grep -F "ns=$WREN_NS" | grep -qF "topic=/tasks/exit"
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	assert_contains "$stderr" "exit code 3"
}

@test "restart: after a restart, exec works and reports its exit code; kill and delete work" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 1000
	wait_for_status "$CID" RUNNING
	record_shim_socket "$CID"
	restart_containerd 0
	[ "$(task_status "$CID")" = RUNNING ]
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" "$CID" sh -c 'exit 4'
	assert_status 4
	ctr_ task kill -s KILL "$CID"
	wait_for_status "$CID" STOPPED
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	assert_contains "$stderr" "exit code 137"
}
