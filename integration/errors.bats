#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# Failures: the error text reaches ctr's stderr, ctr fails, and nothing is left (teardown checks).

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

# spec_with JQ-FILTER: ctr's default spec, rootfs build/image/rootfs read-only, ctr's cgroup path,
# passed through the filter, in $BATS_TEST_TMPDIR/spec.json (for `ctr run --config`)
spec_with() {
	ctr oci spec |
		jq --arg root "$ROOTFS_DIR" --arg cg "/$WREN_NS/$CID" \
			'.root = {path: $root, readonly: true} | .linux.cgroupsPath = $cg
			 | .process.env = ["PATH=/usr/bin:/bin", "WREN_PROBE_LINGER_MS=300"] | .process.args = ["true"]
			 | '"$1" \
			>"$BATS_TEST_TMPDIR/spec.json"
}

run_spec() {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --config "$BATS_TEST_TMPDIR/spec.json" "$CID"
}

@test "errors: a missing binary fails with 'not found' and its name" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" nope
	[ "$status" -ne 0 ]
	assert_contains "$stderr" nope
	assert_contains "$stderr" "not found" i
}

@test "errors: a missing absolute path fails with its name" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" /no/such/binary
	[ "$status" -ne 0 ]
	assert_contains "$stderr" /no/such/binary
}

@test "errors: the spec is valid (control for the bad-spec tests)" {
	spec_with '.process.args = ["/usr/bin/wren-probe", "pid"]'
	run_spec
	assert_status 0
	assert_fact pid 1
}

@test "errors: a spec with an unknown namespace type is refused" {
	spec_with '.linux.namespaces += [{type: "nosuchns"}]'
	run_spec
	[ "$status" -ne 0 ]
	assert_contains "$stderr" nosuchns
}

@test "errors: a spec with an unknown rlimit is refused" {
	spec_with '.process.rlimits = [{type: "RLIMIT_NOPE", hard: 1, soft: 1}]'
	run_spec
	[ "$status" -ne 0 ]
	assert_contains "$stderr" RLIMIT_NOPE
}

@test "errors: a spec with a relative cwd is refused" {
	spec_with '.process.cwd = "relative/dir"'
	run_spec
	[ "$status" -ne 0 ]
	assert_contains "$stderr" cwd i
}

@test "errors: a spec with empty args is refused" {
	spec_with '.process.args = []'
	run_spec
	[ "$status" -ne 0 ]
	assert_contains "$stderr" args i
}

@test "errors: an unknown mount type fails naming the mount" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --mount type=nosuchfs,src=none,dst=/x \
		"$IMAGE" "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" /x
	# runc reports the errno of mount(2): ENODEV
	[[ ${stderr,,} == *nosuchfs* || ${stderr,,} == *"no such device"* ]] || {
		echo "want 'nosuchfs' or 'no such device' in: $stderr" >&2
		false
	}
}

@test "errors: an AppArmor profile the kernel does not take fails the create; the task never runs unconfined" {
	# no AppArmor on the host: every profile is refused; with AppArmor, this one is not loaded
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --apparmor-profile wren-test-no-such-profile \
		"$IMAGE" "$CID" sh -c 'echo ran'
	[ "$status" -ne 0 ]
	[[ $output != *ran* ]]
	assert_contains "${stderr,,}" "apparmor"
	if [ "$RUNTIME" = io.containerd.wren.v2 ]; then
		assert_contains "$stderr" 'apply apparmor profile "wren-test-no-such-profile"'
	fi
}

@test "errors: a bind mount of a missing source fails naming the source" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" \
		--mount "type=bind,src=$BATS_TEST_TMPDIR/missing,dst=/x,options=rbind" "$IMAGE" "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "$BATS_TEST_TMPDIR/missing"
}

@test "errors: an image user missing from /etc/passwd fails (in ctr, before any task)" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE_BADUSER" "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "no users found"
}

@test "errors: exec of a missing binary fails and the task keeps running" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local xid
	xid=$(new_exec_id)
	run --separate-stderr ctr_ task exec --exec-id "$xid" "$CID" nope
	[ "$status" -ne 0 ]
	assert_contains "$stderr" nope
	assert_contains "$stderr" "not found" i
	[ "$(task_status "$CID")" = RUNNING ]
	# and the exec id is free again
	run --separate-stderr ctr_ task exec --exec-id "$xid" "$CID" true
	assert_status 0
}

@test "errors: exec --user with an unknown name fails (in ctr) and the task keeps running" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" --user nosuch "$CID" true
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "no users found"
	[ "$(task_status "$CID")" = RUNNING ]
}

@test "errors: a second container with the same id is refused" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	[ "$status" -ne 0 ]
	assert_contains "$stderr" "already exists" i
	[ "$(task_status "$CID")" = RUNNING ]
}
