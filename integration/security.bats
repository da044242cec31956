#!/usr/bin/env bats
# shellcheck disable=SC2154 # $stderr comes from bats run --separate-stderr
# What the container process is allowed and sees, reported by wren-probe from inside.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() { wren_teardown; }

# probe [ctr run flags...] -- PROBE-ARGS...: run wren-probe in a fresh container of $IMAGE (or $PROBE_IMAGE)
probe() {
	local flags=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	shift
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "${LINGER_ENV[@]}" "${flags[@]}" \
		"${PROBE_IMAGE:-$IMAGE}" "$CID" "$PROBE" "$@"
	assert_status 0
}

# spec_with JQ-FILTER: a whole spec (ctr's default, rootfs build/image/rootfs read-only, ctr's cgroup path)
# passed through the filter, in $BATS_TEST_TMPDIR/spec.json
spec_with() {
	ctr oci spec |
		jq --arg root "$ROOTFS_DIR" --arg cg "/$WREN_NS/$CID" \
			'.root = {path: $root, readonly: true} | .linux.cgroupsPath = $cg
			 | .process.env = ["PATH=/usr/bin:/bin", "WREN_PROBE_LINGER_MS=300"] | '"$1" >"$BATS_TEST_TMPDIR/spec.json"
}

@test "security: the init is pid 1 of its own pid namespace" {
	probe -- pid
	assert_fact pid 1
	assert_fact ppid 0
}

@test "security: the container has its own UTS namespace; the hostname comes from the spec" {
	spec_with '.hostname = "wren-host" | .process.args = ["/usr/bin/wren-probe", "hostname"]'
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --config "$BATS_TEST_TMPDIR/spec.json" "$CID"
	assert_status 0
	assert_fact hostname wren-host
	# and the host's name is untouched
	[ "$(hostname)" != wren-host ]
}

@test "security: root gets containerd's default capabilities and nothing more" {
	probe -- caps
	assert_fact bnd "$DEFAULT_CAPS"
	assert_fact prm "$DEFAULT_CAPS"
	assert_fact eff "$DEFAULT_CAPS"
	assert_fact inh 0000000000000000
	assert_fact amb 0000000000000000
}

@test "security: --cap-add and --cap-drop change the sets" {
	# CAP_SYS_ADMIN is bit 21, CAP_CHOWN bit 0
	probe --cap-add CAP_SYS_ADMIN --cap-drop CAP_CHOWN -- caps
	local want
	want=$(printf '%016x' $(((0x$DEFAULT_CAPS | (1 << 21)) & ~1)))
	assert_fact bnd "$want"
	assert_fact eff "$want"
}

@test "security: the image's user, its group and additional groups" {
	PROBE_IMAGE=$IMAGE_USER probe -- ids
	assert_fact uid 1000
	assert_fact gid 1000
	assert_fact euid 1000
	assert_fact egid 1000
	# containerd adds the groups /etc/group lists the user in (extra=1001); never root's group 0
	[[ ,$(fact groups), == *,1001,* ]]
	[[ ,$(fact groups), != *,0,* ]]
}

@test "security: a non-root user keeps only the bounding set" {
	PROBE_IMAGE=$IMAGE_USER probe -- caps
	assert_fact bnd "$DEFAULT_CAPS"
	assert_fact prm 0000000000000000
	assert_fact eff 0000000000000000
	assert_fact amb 0000000000000000
	assert_fact inh 0000000000000000
}

@test "security: exec --user runs the process as that user" {
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" --user 1000 "$CID" sh -c "$PROBE ids; $LINGER_SH"
	assert_status 0
	assert_fact uid 1000
	assert_fact gid 1000
}

@test "security: seccomp is off by default and in filter mode with --seccomp" {
	probe -- seccomp
	assert_fact seccomp 0
	probe --seccomp -- seccomp
	assert_fact seccomp 2
}

@test "security: an exec into a --seccomp container runs under the container's filter, every time" {
	local sid
	sid=$(new_cid)
	ctr_ run -d --runtime "$RUNTIME" "$IMAGE" "$CID" sleep 100
	ctr_ run -d --seccomp --runtime "$RUNTIME" "$IMAGE" "$sid" sleep 100
	wait_for_status "$CID" RUNNING
	wait_for_status "$sid" RUNNING
	# without a filter an exec may make a user namespace; containerd's default profile refuses it
	# to a process without CAP_SYS_ADMIN (the daemon compiles the profile once per container:
	# the second and third execs get it as the first did)
	run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id)" "$CID" unshare -U true
	assert_status 0
	for _ in 1 2 3; do
		run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id "$sid")" "$sid" "$PROBE" seccomp
		assert_status 0
		assert_fact seccomp 2
		run --separate-stderr ctr_ task exec --exec-id "$(new_exec_id "$sid")" "$sid" unshare -U true
		[ "$status" -ne 0 ]
		assert_contains "$stderr" "not permitted"
	done
}

@test "security: no_new_privs is set by default and cleared with --allow-new-privs" {
	probe -- nnp
	assert_fact nnp 1
	probe --allow-new-privs -- nnp
	assert_fact nnp 0
}

@test "security: --memory-limit is set on the container's memory cgroup" {
	local limit=$((64 * 1024 * 1024))
	ctr_ run -d --runtime "$RUNTIME" --memory-limit "$limit" "$IMAGE" "$CID" sleep 100
	wait_for_status "$CID" RUNNING
	local f
	f="$(cg_dir "$CID" memory)/memory.limit_in_bytes"
	[ -e "$f" ] || f="$(cg_dir "$CID" memory)/memory.max" # pure cgroup v2
	[ "$(cat "$f")" -eq "$limit" ]
}

@test "security: --read-only makes the rootfs read-only; without it the rootfs is writable" {
	probe -- rofs /
	assert_fact rofs 0
	assert_fact errno 0
	probe --read-only -- rofs /
	assert_fact rofs 1
	assert_fact errno EROFS
}

@test "security: masked paths read empty, /proc/sys is read-only" {
	# containerd masks /proc/kcore, /proc/keys, /proc/timer_list, ... (bind of /dev/null or an empty ro tmpfs)
	[ "$(head -c 1 /proc/timer_list 2>/dev/null | wc -c)" -eq 1 ] || skip "/proc/timer_list is empty on this host"
	probe -- read /proc/timer_list
	assert_fact read 0
	probe -- read /proc/keys
	assert_fact read 0
	probe -- rofs /proc/sys/kernel/domainname
	assert_fact rofs 1
}

@test "security: only stdin, stdout and stderr are open" {
	probe -- fds
	assert_fact fds 0,1,2
}

@test "security: the working directory comes from the spec" {
	probe -- cwd
	assert_fact cwd /
	probe --cwd /tmp -- cwd
	assert_fact cwd /tmp
	PROBE_IMAGE=$IMAGE_USER probe -- cwd
	assert_fact cwd /home/wren
}

@test "security: RLIMIT_NOFILE from containerd's default spec (1024)" {
	probe -- rlimit NOFILE
	assert_fact soft 1024
	assert_fact hard 1024
}

# Device access (v1: the devices controller; pure v2: the eBPF program on the container's cgroup).
# /dev/kmsg (c 1:11) is the probe: not among containerd's default devices, and opening it write-only
# needs no capability, so an EPERM can only come from the device rules.
DEV_SH='echo ok >/dev/null && echo null=ok
	[ "$(head -c 4 /dev/zero | wc -c)" = 4 ] && echo zero=ok
	[ "$(head -c 4 /dev/urandom | wc -c)" = 4 ] && echo urandom=ok
	mknod /tmp/kmsg c 1 11 && echo mknod=ok
	echo wren-device-test >/tmp/kmsg && echo kmsg=ok
	mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem >/dev/null && echo mem=ok
	true'

@test "security: the default devices work; a device node the spec does not grant cannot be opened" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" "$IMAGE" "$CID" sh -c "$DEV_SH"
	assert_status 0
	assert_fact null ok
	assert_fact zero ok
	assert_fact urandom ok
	assert_fact mknod ok # containerd's defaults allow mknod of any char device...
	assert_fact kmsg ""  # ...but not opening it
	assert_fact mem ""
	assert_contains "$stderr" "/tmp/kmsg: Operation not permitted"
}

@test "security: --privileged gets every capability, the host's devices, no masked paths and a writable /proc/sys" {
	# ctr lists every host device, /dev/null and the other default paths among them: each is made once
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --privileged "$IMAGE" "$CID" sh -c '
		eff=$(sed -n "s/^CapEff:\t//p" /proc/self/status)
		bnd=$(sed -n "s/^CapBnd:\t//p" /proc/self/status)
		[ "$eff" = "$bnd" ] && [ "$eff" != 0000000000000000 ] && echo caps=all
		echo ok >/dev/null && [ "$(stat -c %t:%T /dev/null)" = 1:3 ] && echo null=ok
		echo wren-privileged-test >/dev/kmsg && echo kmsg=ok
		grep -q " /proc/kcore " /proc/self/mountinfo || echo kcore=unmasked
		touch /proc/sys/kernel/hostname && echo procsys=rw
		true'
	assert_status 0
	assert_fact caps all
	assert_fact null ok
	assert_fact kmsg ok
	assert_fact kcore unmasked
	assert_fact procsys rw
}

@test "security: rro makes a bind mount read-only down to its submounts; nosymfollow refuses symlinks" {
	local src=$BATS_TEST_TMPDIR/rro
	mkdir -p "$src/sub"
	mount -t tmpfs -o size=1m wren-rro "$src/sub"
	ln -s /etc/passwd "$src/link"
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" \
		--mount "type=bind,src=$src,dst=/h,options=rbind:rro" \
		--mount "type=bind,src=$src,dst=/n,options=rbind:nosymfollow" "$IMAGE" "$CID" sh -c '
			touch /h/x 2>/dev/null || echo top=ro
			touch /h/sub/x 2>/dev/null || echo sub=ro
			cat /n/link >/dev/null 2>&1 || echo link=refused
			cat /h/link >/dev/null && echo followed=yes
			touch /n/sub/y && echo nsub=rw
			true'
	umount "$src/sub"
	assert_status 0
	assert_fact top ro
	assert_fact sub ro
	assert_fact link refused
	assert_fact followed yes
	assert_fact nsub rw
}

@test "security: --device grants its device (read and write) on top of the defaults" {
	run --separate-stderr ctr_ run --rm --runtime "$RUNTIME" --device /dev/kmsg "$IMAGE" "$CID" \
		sh -c "$DEV_SH"'
			echo wren-device-test >/dev/kmsg && echo given=ok; true'
	assert_status 0
	assert_fact null ok
	assert_fact given ok
	assert_fact kmsg ok # the same device through a node of the container's own
	assert_fact mem ""
}
