#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# Checkpoint (ctr task checkpoint, and the task API's Checkpoint with runc's CheckpointOptions through
# build/bin/wren-task). criu does the dump; whether it can run here decides which half applies: where
# `criu check` fails (this project's Firecracker host: vdso) a checkpoint must fail fast, say criu
# and leave the task running; where it passes (the pure cgroup v2 guest of hack/cgv2-vm.sh) it must
# produce images. Each test skips, with the reason, when its half does not apply.

load helpers

CRIU_BOUND=60 # seconds a failing checkpoint may take, containerd's pause and resume included

setup_file() {
	wren_setup_file
	if ! command -v criu >/dev/null 2>&1; then
		export CRIU_STATE=missing
	elif criu check >/dev/null 2>&1; then
		export CRIU_STATE=works
	else
		export CRIU_STATE=fails
	fi
}
teardown_file() { wren_teardown_file; }
setup() {
	wren_setup
	WREN_TASK=$WREN_REPO/build/bin/wren-task
	IMAGES=$BATS_TEST_TMPDIR/images
}
teardown() {
	ctr_ images rm "checkpoint/$CID" >/dev/null 2>&1 || true
	wren_teardown
}

needs_criu_failing() {
	[ "$CRIU_STATE" = fails ] || skip "criu check passes here (or criu is missing: $CRIU_STATE): the failure path needs a kernel criu cannot work with"
}
needs_criu_working() {
	[ "$CRIU_STATE" = works ] || skip "criu check fails here (or criu is missing: $CRIU_STATE): a dump needs a kernel criu supports (run it in hack/cgv2-vm.sh)"
	# criu locks the container's network with iptables-restore by default; runc asks for nothing
	# else, wren asks for nftables (criu's library) when there is no iptables-restore
	if [ "$RUNTIME" = io.containerd.runc.v2 ] && ! command -v iptables-restore >/dev/null; then
		skip "no iptables-restore here: runc's criu dump cannot lock the network (wren uses nftables)"
	fi
}

# On a failed dump: criu's error lines, from the log named in the message ("log X" or "path= X").
show_criu_log() {
	local log
	log=$(printf '%s\n' "$1" | sed -n 's/.*\(log \|path= \)\(\/[^ )]*criu-dump\.log\).*/\2/p' | head -n 1)
	[ -n "$log" ] && [ -r "$log" ] && grep -E 'Error|Warn' "$log" | tail -n 15 >&2
	return 0
}

run_sleeper() {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 1000
	wait_for_status "$CID" RUNNING
}

@test "checkpoint: where criu cannot work, ctr task checkpoint fails fast naming criu; the task keeps running and is deleted cleanly" {
	needs_criu_failing
	run_sleeper
	local pid t0 t1
	pid=$(task_pid "$CID")
	t0=$(date +%s)
	run --separate-stderr timeout "$CRIU_BOUND" ctr --address "$CTR_ADDRESS" -n "$WREN_NS" task checkpoint "$CID"
	t1=$(date +%s)
	echo "status $status after $((t1 - t0)) s: $output $stderr" >&2
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$stderr" == *criu* ]]
	if [ "$RUNTIME" != io.containerd.runc.v2 ]; then
		# wren's own wording: the kernel is the reason, criu's log line says why
		[[ "$stderr" == *"criu cannot checkpoint on this kernel"* ]]
	fi
	# containerd resumed it after the failed dump: the same init still runs
	wait_for_status "$CID" RUNNING
	[ "$(task_pid "$CID")" = "$pid" ]
	kill -0 "$pid"
	# no checkpoint image was made
	run ctr_ images ls -q
	assert_status 0
	[[ "$output" != *checkpoint* ]]
}

@test "checkpoint: where criu cannot work, a task API Checkpoint with --exit answers an error and the task is not stopped" {
	needs_criu_failing
	run_sleeper
	local pid
	pid=$(task_pid "$CID")
	run --separate-stderr timeout "$CRIU_BOUND" "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES" --exit
	echo "status $status: $stderr" >&2
	assert_status 1
	[[ "$stderr" == *criu* ]]
	if [ "$RUNTIME" != io.containerd.runc.v2 ]; then
		[[ "$stderr" == *"Checkpoint: FailedPrecondition: criu cannot checkpoint on this kernel"* ]]
		[[ "$stderr" == *vdso* || "$stderr" == *"kernel features"* ]]
	fi
	[ "$(task_status "$CID")" = RUNNING ]
	[ "$(task_pid "$CID")" = "$pid" ]
	# a second attempt is not refused as "already running": the first one is over
	run --separate-stderr timeout "$CRIU_BOUND" "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES"
	assert_status 1
	[[ "$stderr" != *"already running"* ]]
}

@test "checkpoint: a stopped task cannot be checkpointed" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" true
	wait_for_status "$CID" STOPPED
	run --separate-stderr timeout "$CRIU_BOUND" "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES"
	echo "status $status: $stderr" >&2
	assert_status 1
	if [ "$RUNTIME" != io.containerd.runc.v2 ]; then
		# runc-v2 lets runc find out (its message is runc's)
		[[ "$stderr" == *"FailedPrecondition: cannot checkpoint container $CID: it is not running"* ]]
	fi
}

@test "checkpoint: an unknown cgroups mode is refused before criu runs" {
	# runc-v2 hands the mode to runc, which fails in its own words after starting the dump
	[ "$RUNTIME" != io.containerd.runc.v2 ] || skip "runc-v2 passes the mode to runc unchecked"
	run_sleeper
	run --separate-stderr timeout "$CRIU_BOUND" "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES" --cgroups-mode bogus
	assert_status 1
	[[ "$stderr" == *"InvalidArgument: checkpoint: cgroups mode bogus is none of soft, full, strict, ignore"* ]]
	[ "$(task_status "$CID")" = RUNNING ]
}

@test "checkpoint: ctr task checkpoint makes a checkpoint image and leaves the task running" {
	needs_criu_working
	run_sleeper
	local pid
	pid=$(task_pid "$CID")
	run --separate-stderr timeout 300 ctr --address "$CTR_ADDRESS" -n "$WREN_NS" task checkpoint "$CID"
	echo "status $status: $output $stderr" >&2
	[ "$status" -eq 0 ] || show_criu_log "$stderr"
	assert_status 0
	local ref=$output
	[ -n "$ref" ]
	ctr_ images ls -q | grep -qxF "$ref"
	wait_for_status "$CID" RUNNING
	[ "$(task_pid "$CID")" = "$pid" ]
	ctr_ images rm "$ref" >/dev/null
}

@test "checkpoint: a task API Checkpoint writes criu images; with --exit the task stops" {
	needs_criu_working
	run_sleeper
	run --separate-stderr timeout 300 "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES/1"
	echo "status $status: $stderr" >&2
	[ "$status" -eq 0 ] || show_criu_log "$stderr"
	assert_status 0
	[ -s "$IMAGES/1/inventory.img" ]
	[ -s "$IMAGES/1/pstree.img" ]
	[ "$(task_status "$CID")" = RUNNING ]
	run --separate-stderr timeout 300 "$WREN_TASK" "$(bundle_dir "$CID")" checkpoint "$CID" "$IMAGES/2" --exit
	echo "status $status: $stderr" >&2
	[ "$status" -eq 0 ] || show_criu_log "$stderr"
	assert_status 0
	[ -s "$IMAGES/2/inventory.img" ]
	wait_for_status "$CID" STOPPED
}
