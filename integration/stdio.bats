#!/usr/bin/env bats
# shellcheck disable=SC2016,SC2154 # container shell code stays in single quotes; $stderr comes from bats run
# stdio without a terminal: ctr's FIFOs (large and last-moment output, stdin and its EOF after CloseIO),
# file:// log URIs and binary:// logging drivers. Terminals are in tty.bats.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() {
	wren_setup
	LOGDIR=$BATS_TEST_TMPDIR/logger
	mkdir -p "$LOGDIR"
}
teardown() { wren_teardown; }

# The N-byte prefix of wren-probe's write-bytes pattern, made on the host.
pattern() {
	head -c "$1" < <(yes 0123456789abcdef | tr -d '\n')
}

# make_logger [EXTRA]: a binary:// logger in $LOGDIR/logger.sh. It records its arguments (one a line),
# its environment as it was exec'd, what its fds 0-2 are, copies fd 3 to out.<CONTAINER_ID> and fd 4 to
# err.<CONTAINER_ID>, says ready on fd 5 (its copiers do not inherit it), and once both streams ended
# (each copier) writes out-end.<CONTAINER_ID> and err-end.<CONTAINER_ID>. EXTRA is shell code run before it says ready.
make_logger() {
	cat >"$LOGDIR/logger.sh" <<-EOF
		#!/bin/sh
		d=$LOGDIR
		id=\$CONTAINER_ID
		trap 'echo term >"\$d/term.\$id"; exit 0' TERM
		printf '%s\n' "\$@" >"\$d/args.\$id"
		tr '\0' '\n' </proc/\$\$/environ >"\$d/env.\$id"
		fds="\$(readlink /proc/\$\$/fd/0) \$(readlink /proc/\$\$/fd/1) \$(readlink /proc/\$\$/fd/2)"
		echo "\$fds" >"\$d/fds.\$id"
		${1:-}
		{ cat <&3 >"\$d/out.\$id"; : >"\$d/out-end.\$id"; } 5>&- &
		{ cat <&4 >"\$d/err.\$id"; : >"\$d/err-end.\$id"; } 5>&- &
		printf r >&5
		exec 5>&-
		wait
		while [ -e "\$d/linger" ]; do sleep 0.1; done
	EOF
	chmod +x "$LOGDIR/logger.sh"
}

# logger_ended ID: wait until the logger has copied both streams to their ends (the process's exit with
# wren; the task's delete with runc-v2, which holds the pipes' write ends until then)
logger_ended() {
	wait_for_file "$LOGDIR/out-end.$1" && wait_for_file "$LOGDIR/err-end.$1"
}

# wait_for_file PATH [TENTHS]
wait_for_file() {
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "no $1" >&2
	ls -l "$(dirname "$1")" >&2
	return 1
}

# ---- FIFOs ---------------------------------------------------------------------------------------------

@test "stdio: 100 MiB of output arrive byte-exact" {
	local n=$((100 * 1024 * 1024)) rc=0
	ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" "$PROBE" write-bytes "$n" \
		>"$BATS_TEST_TMPDIR/big" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" -eq 0 ] || { echo "ctr exited $rc: $(cat "$BATS_TEST_TMPDIR/err")" >&2; false; }
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/big")" -eq "$n" ]
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/big")" = "$(pattern "$n" | sha256sum)" ]
	rm -f "$BATS_TEST_TMPDIR/big"
}

@test "stdio: output written right before the exit is not lost" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" \
		sh -c 'i=0; while [ $i -lt 5000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done; exit 0'
	assert_status 0
	[ "${#lines[@]}" -eq 5000 ] || { echo "stdout: ${#lines[@]} of 5000 lines" >&2; false; }
	[ "${lines[4999]}" = "line 4999" ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 5000 ]
	[ "$(printf '%s\n' "$stderr" | tail -n 1)" = "err 4999" ]
}

# slow_reader FILE: copy stdin to FILE a piece at a time with pauses, like a terminal or a busy log
# writer: the process can finish writing while its last 64 KiB still wait in the FIFO.
slow_reader() {
	local piece=$1.piece
	: >"$1"
	while dd bs=16k count=1 of="$piece" 2>/dev/null && [ -s "$piece" ]; do
		cat "$piece" >>"$1"
		sleep 0.002
	done
	rm -f "$piece"
}

# Every containerd client closes its FIFOs as soon as it learns of the exit (ctr 1.6's Task.Delete;
# cio.Cancel in 1.7 and 2.x), so what it has not read by then is dropped; wren makes the exit known only
# once the output is read. runc-v2 publishes the exit at once: this fails there in most runs.
@test "stdio: a slow reader still gets all of the output written before the exit" {
	[ "$RUNTIME" != io.containerd.runc.v2 ] || skip "runc-v2 publishes the exit with output unread"
	local n=$((2 * 1024 * 1024)) got="$BATS_TEST_TMPDIR/got"
	for i in 1 2 3; do
		ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID-$i" "$PROBE" write-bytes "$n" |
			slow_reader "$got"
		[ "$(stat -c %s "$got")" -eq "$n" ] ||
			{ echo "run $i: $(stat -c %s "$got") of $n bytes" >&2; false; }
		[ "$(sha256sum <"$got")" = "$(pattern "$n" | sha256sum)" ]
	done
}

# The wait for the reader is bounded: `ctr run -d` leaves and no one reads the FIFO any more.
@test "stdio: an exit whose output no one reads still comes out, after a bounded wait" {
	# it writes once ctr has surely gone (ctr copies the output until then)
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'sleep 1; head -c 10000 /dev/zero; exit 3' >/dev/null
	wait_for_status "$CID" STOPPED 100
	run ctr_ task ls
	assert_contains "$output" "$CID"
	ctr_ task delete "$CID" >/dev/null
	if [ "$RUNTIME" = io.containerd.wren.v2 ]; then
		grep -F "process $CID: its client left" "$WREN_CONTAINERD_LOG" | grep -q "bytes of its output unread" ||
			{ echo "no warning about the unread output in the containerd log" >&2; false; }
	fi
}

@test "stdio: an exec's stdin reaches it, and its EOF too once ctr closed stdin (CloseIO)" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local i
	# several rounds: ctr sends CloseIO only if its Exec call returned before it read stdin's EOF
	for i in 1 2 3 4 5; do
		run --separate-stderr bash -c 'printf "a\nb\n" | "$@"' _ timeout -s KILL 20 \
			ctr --address "$CTR_ADDRESS" -n "$WREN_NS" task exec --exec-id "$(new_exec_id)-$i" "$CID" wc -l
		assert_status 0
		[ "$output" = 2 ] || { echo "round $i: wc -l printed '$output'" >&2; false; }
	done
}

@test "stdio: 8 MiB piped into an exec arrive intact" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr bash -c '"$@" <"$BATS_TEST_TMPDIR/in"' _ timeout -s KILL 30 \
		ctr --address "$CTR_ADDRESS" -n "$WREN_NS" task exec --exec-id "$(new_exec_id)" "$CID" sha256sum
	assert_status 0
	[ "${output%% *}" = "$(sha256sum <"$BATS_TEST_TMPDIR/in" | cut -d' ' -f1)" ]
}

@test "stdio: an exec that never reads its stdin still exits" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr bash -c 'yes | head -c 1000000 | "$@"' _ timeout -s KILL 20 \
		ctr --address "$CTR_ADDRESS" -n "$WREN_NS" task exec --exec-id "$(new_exec_id)" "$CID" sh -c 'echo bye'
	assert_status 0
	[ "$output" = bye ]
}

# ---- file:// -------------------------------------------------------------------------------------------

@test "stdio: --log-uri file:// appends stdout and stderr to the file, creating its directory" {
	local log=$BATS_TEST_TMPDIR/new/dir/log
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --log-uri "file://$log" "$IMAGE" "$CID" \
		sh -c 'echo out1; echo err1 >&2; echo out2'
	assert_status 0
	[ -z "$output" ]
	[ "$(sort "$log")" = "$(printf 'err1\nout1\nout2')" ]
	[ "$(stat -c %a "$log")" = 644 ]
}

@test "stdio: a file:// log keeps everything written right before the exit" {
	local log=$BATS_TEST_TMPDIR/log
	ctr_ run --rm --runtime "$RUNTIME" --log-uri "file://$log" "$IMAGE" "$CID" \
		sh -c 'i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done'
	[ "$(wc -l <"$log")" -eq 5000 ]
	[ "$(tail -n 1 "$log")" = "line 4999" ]
}

@test "stdio: an exec's --log-uri file:// gets its output" {
	local log=$BATS_TEST_TMPDIR/exec.log
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ task exec --log-uri "file://$log" --exec-id "$(new_exec_id)" "$CID" \
		sh -c 'echo exec-out; echo exec-err >&2; exit 4'
	assert_status 4
	# runc-v2 copies the two streams separately: their order in the file is not fixed
	[ "$(sort "$log")" = "$(printf 'exec-err\nexec-out')" ]
}

# ---- binary:// -----------------------------------------------------------------------------------------

@test "stdio: a binary:// logger gets stdout on fd 3 and stderr on fd 4" {
	make_logger
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/logger.sh" \
		"$IMAGE" "$CID" sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'
	assert_status 3
	[ -z "$output" ]
	logger_ended "$CID"
	[ "$(cat "$LOGDIR/out.$CID")" = to-stdout ]
	[ "$(cat "$LOGDIR/err.$CID")" = to-stderr ]
}

@test "stdio: a binary:// logger's arguments are the URI's query, its environment only the ids, fds 0-2 /dev/null" {
	make_logger
	ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/logger.sh?arg=1&b=two%20words&empty=" \
		"$IMAGE" "$CID" true
	logger_ended "$CID"
	# key, value pairs; runc-v2 takes them from a Go map, so their order is not fixed
	[ "$(paste -d= - - <"$LOGDIR/args.$CID" | sort)" = "$(printf 'arg=1\nb=two words\nempty=')" ]
	[ "$(sort "$LOGDIR/env.$CID")" = "$(printf 'CONTAINER_ID=%s\nCONTAINER_NAMESPACE=%s' "$CID" "$WREN_NS")" ]
	[ "$(cat "$LOGDIR/fds.$CID")" = "/dev/null /dev/null /dev/null" ]
}

@test "stdio: a binary:// logger gets everything written right before the exit, and 16 MiB intact" {
	make_logger
	local n=$((16 * 1024 * 1024))
	ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/logger.sh" "$IMAGE" "$CID" \
		sh -c "$PROBE write-bytes $n; echo; i=0; while [ \$i -lt 3000 ]; do echo \"err \$i\" >&2; i=\$((i+1)); done"
	logger_ended "$CID"
	[ "$(head -c "$n" "$LOGDIR/out.$CID" | sha256sum)" = "$(pattern "$n" | sha256sum)" ]
	[ "$(stat -c %s "$LOGDIR/out.$CID")" -eq $((n + 1)) ]
	[ "$(wc -l <"$LOGDIR/err.$CID")" -eq 3000 ]
	[ "$(tail -n 1 "$LOGDIR/err.$CID")" = "err 2999" ]
}

@test "stdio: the process waits for its binary:// logger to be ready" {
	# the logger takes a second before it says ready; the process's first output must still arrive
	make_logger 'sleep 1'
	local start end
	start=$(date +%s%N)
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/logger.sh" \
		"$IMAGE" "$CID" sh -c 'echo first'
	end=$(date +%s%N)
	assert_status 0
	[ $(((end - start) / 1000000)) -ge 1000 ]
	logger_ended "$CID"
	[ "$(cat "$LOGDIR/out.$CID")" = first ]
}

@test "stdio: an exec's binary:// logger is its own, with the exec id as CONTAINER_ID" {
	make_logger
	local eid
	eid=$(new_exec_id)
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ task exec --log-uri "binary://$LOGDIR/logger.sh?x=y" --exec-id "$eid" "$CID" \
		sh -c 'echo exec-out; echo exec-err >&2; exit 2'
	assert_status 2
	logger_ended "$eid"
	[ "$(cat "$LOGDIR/out.$eid")" = exec-out ]
	[ "$(cat "$LOGDIR/err.$eid")" = exec-err ]
	grep -qx "CONTAINER_ID=$eid" "$LOGDIR/env.$eid"
}

@test "stdio: a binary:// logger still running at the task's delete gets SIGTERM" {
	make_logger
	touch "$LOGDIR/linger" # the logger stays after its streams end, until the shim stops it
	ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/logger.sh" "$IMAGE" "$CID" echo hi
	wait_for_file "$LOGDIR/term.$CID" 80
	[ "$(cat "$LOGDIR/out.$CID")" = hi ]
}

@test "stdio: a binary:// logger that does not exist fails the create" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/nope" "$IMAGE" "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "$LOGDIR/nope"
	assert_contains "$stderr" "no such file" i
}

@test "stdio: a binary:// logger that never says ready fails the create after 30 s" {
	[ "$RUNTIME" = io.containerd.wren.v2 ] || skip "runc-v2 waits for the logger forever"
	# the sleep inherits fd 5 and never writes to it
	printf '#!/bin/sh\nexec sleep 1000\n' >"$LOGDIR/mute.sh"
	chmod +x "$LOGDIR/mute.sh"
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --log-uri "binary://$LOGDIR/mute.sh" "$IMAGE" "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "did not signal readiness"
}
