#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# ctr run: output, exit codes, signals, stdin, environment, a large output stream.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

@test "run: echo hello prints hello" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "echo hello; $LINGER_SH"
	assert_status 0
	[ "$output" = hello ]
}

@test "run: the process's exit code is ctr's exit code" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'exit 3'
	assert_status 3
}

@test "run: a process killed by SIGKILL exits 137 (ctr run in the foreground)" {
	ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100 >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local runner=$!
	wait_for_status "$CID" RUNNING
	ctr_ task kill -s KILL "$CID"
	local rc=0
	wait "$runner" || rc=$?
	[ "$rc" -eq 137 ] || { echo "ctr run exited $rc, want 137" >&2; cat "$BATS_TEST_TMPDIR/out" >&2; false; }
}

@test "run: a detached task killed by SIGKILL reports exit code 137" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	ctr_ task kill -s KILL "$CID"
	wait_for_status "$CID" STOPPED
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	# ctr 1.6 prints: task <id> exit with non-zero exit code 137
	assert_contains "$stderr" "exit code 137"
}

@test "run: a detached task that exits on its own reports its exit code" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'exit 5'
	wait_for_status "$CID" STOPPED
	run --separate-stderr ctr_ task delete "$CID"
	assert_status 0
	assert_contains "$stderr" "exit code 5"
}

# runc-v2 mounts a container's rootfs under its bundle in the host's mount namespace, one overlay per
# running container, which every new mount namespace on the node then copies. wren mounts it, takes
# it out of its own namespace and the init attaches it in the container's: the container sees and
# writes its layers as before, the host's mount table stays as it was.
@test "run: the rootfs is mounted in the container's mount namespace (wren: not on the host)" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c 'echo written >/marker && exec sleep 1000'
	wait_for_status "$CID" RUNNING
	local bundle pid
	bundle=$(bundle_dir "$CID")
	pid=$(task_pid "$CID")
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" "$CID" cat /marker
	assert_status 0
	[ "$output" = written ]
	# the container's / is the snapshot's overlay
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $5, $(i + 1); break } }' "/proc/$pid/mountinfo" |
		grep -qx '/ overlay'
	if [ "$RUNTIME" = io.containerd.runc.v2 ]; then
		awk -v m="$bundle/rootfs" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo
	else
		run awk -v b="$bundle" '$5 == b "/rootfs" || index($5, b "/rootfs/") == 1' /proc/self/mountinfo
		[ -z "$output" ] || { echo "mounted on the host: $output" >&2; false; }
		[ -z "$(ls -A "$bundle/rootfs")" ]
	fi
}

@test "run: --rootfs-propagation rshared, shared, rslave and private each start on the overlay" {
	local mode
	for mode in rshared shared rslave private; do
		run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --rootfs-propagation "$mode" \
			"$IMAGE" "$CID-$mode" awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
				if ($5 == "/") print $5, $(i + 1); break } }' /proc/self/mountinfo
		assert_status 0
		[ "$output" = "/ overlay" ] || { echo "$mode: $output" >&2; false; }
	done
}

@test "run: stdin reaches the process" {
	run --separate-stderr bash -c 'echo data | "$@"' _ \
		timeout -s KILL "$WREN_CTR_TIMEOUT" ctr --address "$CTR_ADDRESS" -n "$WREN_NS" \
		run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "head -n1; $LINGER_SH"
	assert_status 0
	[ "$output" = data ]
}

@test "run: stdout and stderr are both delivered" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "echo out; echo err >&2; $LINGER_SH"
	assert_status 0
	[ "$output" = out ]
	[ "$stderr" = err ]
}

@test "run: environment from the image and from --env" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --env WREN_TEST=yes "$IMAGE" "$CID" \
		sh -c "$PROBE env WREN_TEST; $PROBE env PATH; $LINGER_SH"
	assert_status 0
	[ "${lines[0]}" = env=yes ]
	[ "${lines[1]}" = env=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ]
}

@test "run: 4 MiB of output arrive intact" {
	local n=$((4 * 1024 * 1024))
	ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "$PROBE write-bytes $n; $LINGER_SH" \
		>"$BATS_TEST_TMPDIR/big"
	local got
	got=$(stat -c %s "$BATS_TEST_TMPDIR/big")
	[ "$got" -eq "$n" ] || { echo "received $got bytes of $n" >&2; false; }
	# the pattern repeats every 16 bytes: compare with a locally made copy
	head -c "$n" < <(yes 0123456789abcdef | tr -d '\n') | cmp - "$BATS_TEST_TMPDIR/big"
}
