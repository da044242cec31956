#!/usr/bin/env bats
# What differs between containerd versions at the shim boundary (shim-protocol.md §10): the start
# action's input and reply (legacy options Any and plain address up to 2.2; protobuf
# BootstrapParams/BootstrapResult from 2.3, which no daemon here runs, so crafted by
# build/bin/wren-bootstrap) and 2.x's introspection of `-info`.

load helpers

setup_file() { wren_setup_file; }
teardown_file() { wren_teardown_file; }
setup() { wren_setup; }
teardown() {
	# the shim cgroup of the runc-options test, if a failure left it
	[ -z "${SHIM_CG:-}" ] || rmdir "$SHIM_CG" 2>/dev/null || true
	# a test that failed before its Shutdown leaves the daemon it started: stop it (a passing
	# test must have stopped it itself, which wren_teardown checks)
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		pkill -KILL -f -- "containerd-shim-wren-v2 .*-id $CID( |\$)" || true
	fi
	wren_teardown
}

SHIM=$WREN_REPO/build/bin/containerd-shim-wren-v2
BOOT=$WREN_REPO/build/bin/wren-bootstrap

server_version() {
	ctr_ version | awk '/Server/ { s = 1 } s && /Version/ { print $2; exit }'
}

# These tests run wren's start action by hand; runc-v2's own start differs by design (its 2.x
# build answers JSON version 3 on the legacy path, and none of the runc-v2 builds here, 1.6.20 to
# 2.1.9, know the 2.3 bootstrap protocol).
only_wren() {
	[ "$RUNTIME" = io.containerd.wren.v2 ] ||
		skip "runs wren's start action directly; $RUNTIME's start is a different program"
}

sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# pid_gone PID: wait up to 10 s for a process to exit
pid_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $1 still there" >&2
	return 1
}

# shutdown_daemon ADDRESS SERVICE: Connect, Shutdown, and wait until the daemon is gone
shutdown_daemon() {
	local pid
	pid=$("$BOOT" connect "$1" "$CID" "$2")
	pid=${pid#shim_pid=}
	[ "$pid" -gt 1 ]
	"$BOOT" shutdown "$1" "$CID" "$2"
	pid_gone "$pid"
}

# start_in DIR ARGS... < INPUT: run the start action with DIR as the bundle (cwd), as containerd does;
# stdout in $BATS_TEST_TMPDIR/reply
start_in() {
	local dir=$1
	shift
	(cd "$dir" && "$SHIM" "$@" start) >"$BATS_TEST_TMPDIR/reply"
}

@test "versions: 2.3 BootstrapParams get a version 3 BootstrapResult; the daemon takes the params' addresses and serves task v3" {
	only_wren
	local b=$BATS_TEST_TMPDIR/bundle sd=$BATS_TEST_TMPDIR/s grpc=$BATS_TEST_TMPDIR/ctrd.sock
	mkdir -p "$b" "$sd"
	"$BOOT" params "$CID" "$WREN_NS" grpc="$grpc" ttrpc="$grpc.ttrpc" socket-dir="$sd" \
		log-level=-4 >"$BATS_TEST_TMPDIR/params"
	# the daemon logs to ./log (a FIFO from containerd; a plain file does here)
	: >"$b/log"
	# the legacy -address flag differs: the params must win
	start_in "$b" -namespace "$WREN_NS" -id "$CID" -address /legacy.sock <"$BATS_TEST_TMPDIR/params"
	run "$BOOT" result <"$BATS_TEST_TMPDIR/reply"
	assert_status 0
	local want
	want="unix://$sd/$(sha "$grpc/$WREN_NS/$CID")"
	[ "$output" = "$(printf 'version=3\naddress=%s\nprotocol=ttrpc' "$want")" ]
	[ -S "${want#unix://}" ]
	[ "$(cat "$b/address")" = "$want" ]

	run "$BOOT" connect "$want" "$CID" containerd.task.v3.Task
	assert_status 0
	local pid=${output#shim_pid=}
	[ "$pid" -gt 1 ]
	# the daemon (forked from the start action, so its argv and environ are the legacy call's) took the
	# params' grpc and ttrpc addresses and their debug level: its debug line at start names them
	grep -F "containerd at $grpc, events to $grpc.ttrpc" "$b/log"
	run grep -cF /legacy.sock "$b/log"
	[ "$output" = 0 ]
	run "$BOOT" shutdown "$want" "$CID" containerd.task.v3.Task
	assert_status 0
	pid_gone "$pid"
	[ ! -e "${want#unix://}" ]
}

@test "versions: 2.3 start with a live daemon for the group answers a BootstrapResult with the same address and no second daemon" {
	only_wren
	local b=$BATS_TEST_TMPDIR/bundle sd=$BATS_TEST_TMPDIR/s
	mkdir -p "$b" "$sd"
	"$BOOT" params "$CID" "$WREN_NS" grpc=/g.sock socket-dir="$sd" >"$BATS_TEST_TMPDIR/params"
	start_in "$b" -namespace "$WREN_NS" -id "$CID" <"$BATS_TEST_TMPDIR/params"
	"$BOOT" result <"$BATS_TEST_TMPDIR/reply" >"$BATS_TEST_TMPDIR/first"
	start_in "$b" -namespace "$WREN_NS" -id "$CID" <"$BATS_TEST_TMPDIR/params"
	"$BOOT" result <"$BATS_TEST_TMPDIR/reply" >"$BATS_TEST_TMPDIR/second"
	diff "$BATS_TEST_TMPDIR/first" "$BATS_TEST_TMPDIR/second"
	[ "$(pgrep -f -c -- "-id $CID")" = 1 ]
	local a
	a=$(sed -n 's/^address=//p' "$BATS_TEST_TMPDIR/first")
	shutdown_daemon "$a" containerd.task.v3.Task
	[ ! -e "${a#unix://}" ]
}

@test "versions: 2.3 runc options in a BootstrapParams extension move the daemon into their shim_cgroup" {
	only_wren
	local b=$BATS_TEST_TMPDIR/bundle sd=$BATS_TEST_TMPDIR/s name=wren-bt-$CID
	# v1 (this host): the pids hierarchy; pure v2: the one tree
	if [ -d /sys/fs/cgroup/pids ]; then SHIM_CG=/sys/fs/cgroup/pids/$name; else SHIM_CG=/sys/fs/cgroup/$name; fi
	mkdir "$SHIM_CG"
	mkdir -p "$b" "$sd"
	"$BOOT" params "$CID" "$WREN_NS" grpc=/g.sock socket-dir="$sd" shim-cgroup="/$name" \
		>"$BATS_TEST_TMPDIR/params"
	start_in "$b" -namespace "$WREN_NS" -id "$CID" <"$BATS_TEST_TMPDIR/params"
	local a pid
	a=$("$BOOT" result <"$BATS_TEST_TMPDIR/reply" | sed -n 's/^address=//p')
	pid=$("$BOOT" connect "$a" "$CID" containerd.task.v3.Task)
	pid=${pid#shim_pid=}
	grep -qxF "$pid" "$SHIM_CG/cgroup.procs"
	shutdown_daemon "$a" containerd.task.v3.Task
	rmdir "$SHIM_CG"
}

@test "versions: legacy start (options Any on stdin) prints the plain address under /run/containerd/s, served as task v2" {
	only_wren
	local b=$BATS_TEST_TMPDIR/bundle grpc=$BATS_TEST_TMPDIR/ctrd.sock
	mkdir -p "$b"
	"$BOOT" options >"$BATS_TEST_TMPDIR/opts"
	start_in "$b" -namespace "$WREN_NS" -id "$CID" -address "$grpc" <"$BATS_TEST_TMPDIR/opts"
	local want
	want="unix:///run/containerd/s/$(sha "$grpc/$WREN_NS/$CID")"
	# exactly the address: no newline, no JSON (1.6 would take either for part of the address)
	[ "$(cat "$BATS_TEST_TMPDIR/reply")" = "$want" ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/reply")" = "${#want}" ]
	run "$BOOT" result <"$BATS_TEST_TMPDIR/reply"
	assert_status 1
	shutdown_daemon "$want" containerd.task.v2.Task
	[ ! -e "${want#unix://}" ]
}

@test "versions: BootstrapParams naming another id are not taken: legacy reply, no socket in their socket_dir" {
	only_wren
	local b=$BATS_TEST_TMPDIR/bundle sd=$BATS_TEST_TMPDIR/s
	mkdir -p "$b" "$sd"
	"$BOOT" params "other-$CID" "$WREN_NS" grpc=/g.sock socket-dir="$sd" >"$BATS_TEST_TMPDIR/params"
	start_in "$b" -namespace "$WREN_NS" -id "$CID" -address /legacy.sock <"$BATS_TEST_TMPDIR/params"
	local want
	want="unix:///run/containerd/s/$(sha "/legacy.sock/$WREN_NS/$CID")"
	[ "$(cat "$BATS_TEST_TMPDIR/reply")" = "$want" ]
	[ -z "$(ls -A "$sd")" ]
	shutdown_daemon "$want" containerd.task.v2.Task
}

@test "versions: containerd 2.x introspection shows the runtime's RuntimeInfo (name, version, OCI features)" {
	local v
	v=$(server_version)
	case "$v" in
	2.*) ;;
	*) skip "containerd $v: the introspection of a runtime's -info is 2.x only" ;;
	esac
	run ctr_ plugins inspect-runtime --runtime "$RUNTIME"
	assert_status 0
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/info.json"
	run jq -r '.Name, (.Features.ociVersionMin | length > 0), (.Features.linux.namespaces | index("pid") != null), .Features.linux.seccomp.enabled' "$BATS_TEST_TMPDIR/info.json"
	assert_status 0
	[ "$output" = "$(printf '%s\ntrue\ntrue\ntrue' "$RUNTIME")" ]
	if [ "$RUNTIME" = io.containerd.wren.v2 ]; then
		local ver
		ver=$("$SHIM" -v | awk '/Version:/ { print $2 }')
		[ -n "$ver" ]
		run jq -r '.Version.Version, .Features.annotations["io.containerd.wren.version"], .Features.linux.cgroup.systemd, .Features.linux.apparmor.enabled, (.Features.mountOptions | index("rro") != null), .Features.linux.mountExtensions.idmap.enabled' "$BATS_TEST_TMPDIR/info.json"
		# the systemd cgroup driver, AppArmor profiles and recursive read-only mounts (what CRI
		# checks before it asks for one) are supported; idmap mounts are not
		[ "$output" = "$(printf '%s\n%s\ntrue\ntrue\ntrue\nfalse' "$ver" "$ver")" ]
	fi
}
