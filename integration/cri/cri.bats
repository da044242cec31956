#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2016,SC2034 # $stderr comes from bats run; container shell code stays in single
# quotes; HOST_MOUNTS is for the teardown (helpers.bash)
# Kubernetes' path to wren: containerd's CRI plugin with a RuntimeClass handler whose runtime_type is
# io.containerd.wren.v2, driven over CRI as the kubelet drives it (pod sandbox, containers in it,
# ExecSync, logs, stop, removal).

load ../helpers
load helpers

setup_file() { cri_setup_file; }
teardown_file() { cri_teardown_file; }
setup() { cri_setup; }
teardown() { cri_teardown; }

@test "cri: a pod runs under its RuntimeClass handler's shim, and its containers share that one shim" {
	local ctr1 ctr2 sandbox_pid shim pid1 pid2
	run_pod
	run cri podstatus "$POD"
	assert_status 0
	[ "$output" = "state=READY handler=$HANDLER ip=" ] || { echo "podstatus: $output" >&2; false; }
	ctr1=$(new_container c1 sleep 1000)
	ctr2=$(new_container c2 sleep 1000)
	cri start "$ctr1"
	cri start "$ctr2"
	sandbox_pid=$(cri_pid "$POD")
	pid1=$(cri_pid "$ctr1")
	pid2=$(cri_pid "$ctr2")
	shim=$(parent_of "$sandbox_pid")
	[ "$(parent_of "$pid1")" = "$shim" ] && [ "$(parent_of "$pid2")" = "$shim" ] ||
		{ echo "shims: sandbox $shim, c1 $(parent_of "$pid1"), c2 $(parent_of "$pid2")" >&2; false; }
	case "$(tr '\0' ' ' <"/proc/$shim/cmdline")" in
	*"containerd-shim-$HANDLER-v2 "*) ;;
	*) echo "the shim is $(tr '\0' ' ' <"/proc/$shim/cmdline")" >&2; false ;;
	esac
	# the pod's containers share its pid namespace: the sandbox's process sees theirs
	[ "$(readlink "/proc/$pid1/ns/pid")" = "$(readlink "/proc/$sandbox_pid/ns/pid")" ]
}

@test "cri: a pod with a network of its own: the sandbox joins CRI's namespace, its containers the sandbox's" {
	local c sandbox_pid pid netns
	run_pod --pod-network
	run cri podstatus "$POD"
	assert_status 0
	[ "$output" = "state=READY handler=$HANDLER ip=192.0.2.2" ] || { echo "podstatus: $output" >&2; false; }
	c=$(new_container c1 sleep 1000)
	cri start "$c"
	sandbox_pid=$(cri_pid "$POD")
	pid=$(cri_pid "$c")
	netns=$(readlink "/proc/$sandbox_pid/ns/net")
	[ "$netns" != "$(readlink /proc/self/ns/net)" ]
	[ "$(readlink "/proc/$pid/ns/net")" = "$netns" ]
	# the same namespace as the one CRI pinned and the plugin set up: eth0 with its address, and the
	# pod's hostname in a UTS namespace of its own
	run cri exec "$c" 10 sh -c 'ip -o -4 addr show dev eth0; hostname'
	assert_status 0
	assert_contains "$output" "192.0.2.2/32"
	assert_contains "$output" "$POD_NAME"
}

@test "cri: ExecSync gives the command's stdout, stderr and exit code" {
	local c
	run_pod
	c=$(new_container c1 sleep 1000)
	cri start "$c"
	run --separate-stderr cri exec "$c" 10 sh -c 'echo to-out; echo to-err >&2; exit 7'
	assert_status 7
	[ "$output" = to-out ] && [ "$stderr" = to-err ] ||
		{ echo "stdout '$output', stderr '$stderr'" >&2; false; }
	run cri exec "$c" 10 "$PROBE" ids
	assert_status 0
	[ "$(printf '%s\n' "$output" | sed -n 's/^uid=//p')" = 0 ]
}

@test "cri: what a container writes reaches its CRI log, and its exit code its status" {
	local c
	run_pod
	c=$(new_container c1 sh -c 'echo line-out; echo line-err >&2; exit 3')
	cri start "$c"
	wait_for_state "$c" EXITED
	[ "$output" = "state=EXITED exit=3 reason=Error" ] || { echo "status: $output" >&2; false; }
	grep -q ' stdout F line-out$' "$LOGDIR/c1.log" && grep -q ' stderr F line-err$' "$LOGDIR/c1.log" ||
		{ echo "log: $(cat "$LOGDIR/c1.log")" >&2; false; }
}

@test "cri: StopContainer ends a container with SIGTERM; the status says how it ended" {
	local c
	run_pod
	c=$(new_container c1 "$PROBE" trap-term)
	cri start "$c"
	cri stop "$c" 10
	run cri status "$c"
	assert_status 0
	[ "$output" = "state=EXITED exit=0 reason=Completed" ] || { echo "status: $output" >&2; false; }
	grep -q ' stdout F got TERM$' "$LOGDIR/c1.log" || { echo "log: $(cat "$LOGDIR/c1.log")" >&2; false; }
}

@test "cri: the resources and security context the kubelet sends reach the container" {
	local c pid
	run_pod
	c=$(new_container c1 --memory 67108864 --cpu-shares 512 --cpu-quota 50000 --cpu-period 100000 \
		--oom-score-adj 500 --user 1000 --read-only --no-new-privs --seccomp-runtime-default \
		sleep 1000)
	cri start "$c"
	pid=$(cri_pid "$c")
	if [ -d /sys/fs/cgroup/memory ]; then
		[ "$(cat "$(cri_cg_file "$c" memory memory.limit_in_bytes)")" = 67108864 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.shares)")" = 512 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.cfs_quota_us)")" = 50000 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.cfs_period_us)")" = 100000 ]
	else
		[ "$(cat "$(cri_cg_file "$c" memory memory.max)")" = 67108864 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.max)")" = "50000 100000" ]
	fi
	grep -qx "$pid" "$(cri_cg_file "$c" memory cgroup.procs)"
	[ "$(cat "/proc/$pid/oom_score_adj")" = 500 ]
	[ "$(status_field "$pid" Uid)" = 1000 ]
	[ "$(status_field "$pid" NoNewPrivs)" = 1 ]
	[ "$(status_field "$pid" Seccomp)" = 2 ]
	# an exec gets the same (CRI makes it from the container's process)
	run cri exec "$c" 10 sh -c 'grep -E "^(Uid|Seccomp|NoNewPrivs):" /proc/self/status; touch /x'
	[ "$status" -ne 0 ] || { echo "touch / succeeded on a read-only rootfs" >&2; false; }
	assert_contains "$output" "Read-only file system"
	[ "$(printf '%s\n' "$output" | awk '$1 == "Uid:" { print $2 }')" = 1000 ]
	[ "$(printf '%s\n' "$output" | awk '$1 == "Seccomp:" { print $2 }')" = 2 ]
}

@test "cri: a privileged container gets every capability, the host's devices, a writable /sys and no masked paths" {
	local c pid
	run_pod --privileged
	# CRI lists every host device, /dev/null among them, on top of the runtime's defaults
	c=$(new_container c1 --privileged sleep 1000)
	cri start "$c"
	pid=$(cri_pid "$c")
	[ "$(status_field "$pid" CapEff)" = "$(status_field "$pid" CapBnd)" ]
	[ "$(status_field "$pid" CapEff)" != 0000000000000000 ]
	[ "$(status_field "$pid" Seccomp)" = 0 ]
	run cri exec "$c" 10 sh -c 'echo wren-cri-privileged >/dev/kmsg && echo kmsg=ok
		echo ok >/dev/null && echo null=ok
		grep -q " /proc/kcore " /proc/self/mountinfo || echo kcore=unmasked
		awk "\$5 == \"/sys\" { print \"sys=\" substr(\$6, 1, 2) }" /proc/self/mountinfo'
	assert_status 0
	assert_fact kmsg ok
	assert_fact null ok
	assert_fact kcore unmasked
	assert_fact sys rw
}

@test "cri: UpdateContainerResources changes a running container's limits" {
	local c
	run_pod
	c=$(new_container c1 --memory 67108864 --cpu-quota 50000 --cpu-period 100000 sleep 1000)
	cri start "$c"
	cri update "$c" --memory 134217728 --cpu-quota 20000 --cpu-period 100000
	if [ -d /sys/fs/cgroup/memory ]; then
		[ "$(cat "$(cri_cg_file "$c" memory memory.limit_in_bytes)")" = 134217728 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.cfs_quota_us)")" = 20000 ]
	else
		[ "$(cat "$(cri_cg_file "$c" memory memory.max)")" = 134217728 ]
		[ "$(cat "$(cri_cg_file "$c" cpu cpu.max)")" = "20000 100000" ]
	fi
}

@test "cri: ContainerStats gives the container's CPU time and memory, from its cgroup" {
	local c cpu ws usage
	run_pod
	c=$(new_container c1 sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo busy-done; sleep 1000')
	cri start "$c"
	for _ in $(seq 100); do
		grep -q 'busy-done' "$LOGDIR/c1.log" 2>/dev/null && break
		sleep 0.1
	done
	run cri stats "$c"
	assert_status 0
	cpu=$(printf '%s\n' "$output" | sed -n 's/.*cpu_ns=\([0-9]*\).*/\1/p')
	ws=$(printf '%s\n' "$output" | sed -n 's/.*memory_working_set=\([0-9]*\).*/\1/p')
	usage=$(printf '%s\n' "$output" | sed -n 's/.*memory_usage=\([0-9]*\).*/\1/p')
	# the busy loop alone takes well over 10 ms of CPU; a shell uses more than 64 KiB
	[ "$cpu" -gt 10000000 ] && [ "$ws" -gt 65536 ] && [ "$usage" -ge "$ws" ] ||
		{ echo "stats: $output" >&2; false; }
	if [ -d /sys/fs/cgroup/cpuacct ]; then
		# never more than the cgroup has counted by now
		[ "$cpu" -le "$(cat "$(cri_cg_file "$c" cpuacct cpuacct.usage)")" ]
	fi
}

@test "cri: a container the OOM killer ends is reported OOMKilled" {
	local c
	run_pod
	c=$(new_container c1 --memory 33554432 dd if=/dev/zero of=/dev/null bs=64M count=1)
	cri start "$c"
	wait_for_state "$c" EXITED
	[ "$output" = "state=EXITED exit=137 reason=OOMKilled" ] || { echo "status: $output" >&2; false; }
}

@test "cri: hostPath volumes: read-write, read-only, and a host mount propagated into the container" {
	local c vol=$BATS_TEST_TMPDIR/vol ro=$BATS_TEST_TMPDIR/ro
	mkdir -p "$vol" "$ro"
	# CRI takes HostToContainer only from a shared or slave mount (a CSI driver's mount point is)
	mount -t tmpfs wren-cri-vol "$vol"
	HOST_MOUNTS=$vol
	mount --make-shared "$vol"
	mkdir "$vol/sub"
	echo host-file >"$ro/f"
	run_pod
	c=$(new_container c1 --mount "$vol:/data:host-to-container" --mount "$ro:/ro:ro" sleep 1000)
	cri start "$c"
	run cri exec "$c" 10 sh -c 'echo from-ctr >/data/w; cat /ro/f; echo x >/ro/g'
	[ "$status" -ne 0 ] || { echo "a write to the read-only volume succeeded" >&2; false; }
	assert_contains "$output" host-file
	assert_contains "$output" "Read-only file system"
	[ "$(cat "$vol/w")" = from-ctr ]
	[ ! -e "$ro/g" ]
	# made on the host after the container started, seen in it
	mount -t tmpfs wren-cri-sub "$vol/sub"
	echo late >"$vol/sub/late"
	run cri exec "$c" 10 cat /data/sub/late
	assert_status 0
	[ "$output" = late ]
}

@test "cri: a container whose command does not exist fails to start, saying which" {
	local c
	run_pod
	c=$(new_container c1 /no/such/binary)
	run cri start "$c"
	[ "$status" -ne 0 ]
	assert_contains "$output" "/no/such/binary"
	# the pod is not hurt
	c=$(new_container c2 sleep 1000)
	cri start "$c"
	run cri exec "$c" 10 true
	assert_status 0
}

@test "cri: removing the pod leaves no shim, process, cgroup, mount or network namespace behind" {
	local c shim sandbox_pid left f pin="" ino
	run_pod --pod-network
	c=$(new_container c1 sleep 1000)
	cri start "$c"
	sandbox_pid=$(cri_pid "$POD")
	shim=$(parent_of "$sandbox_pid")
	# the bind mount by which CRI pins the pod's network namespace
	ino=$(stat -L -c %i "/proc/$sandbox_pid/ns/net")
	for f in /var/run/netns/*; do
		[ "$(stat -L -c %i "$f" 2>/dev/null)" = "$ino" ] && pin=$f
	done
	[ -n "$pin" ] || { echo "no pin of the pod's network namespace in /var/run/netns" >&2; false; }
	cri stopp "$POD"
	cri rmp "$POD"
	for _ in $(seq 50); do
		[ -d "/proc/$shim" ] || break
		sleep 0.1
	done
	left=$(
		[ -d "/proc/$shim" ] && echo "shim $shim"
		[ -d "/proc/$sandbox_pid" ] && echo "sandbox process $sandbox_pid"
		find /sys/fs/cgroup/ -maxdepth 3 -type d \( -name "$POD" -o -name "$c" \) 2>/dev/null
		grep -e "$POD" -e "$c" /proc/self/mountinfo | awk '{ print "mount " $5 }'
		ctr_k8s containers ls -q | grep -x -e "$POD" -e "$c"
		[ -e "$pin" ] && echo "network namespace $pin"
		true
	)
	[ -z "$left" ] || { echo "left behind: $left" >&2; false; }
}
