# shellcheck shell=bash
# Common set-up for the bats integration suite. Every .bats file does:
#
#   load helpers
#   setup_file()    { wren_setup_file; }
#   teardown_file() { wren_teardown_file; }
#   setup()         { wren_setup; }
#   teardown()      { wren_teardown; }
#
# Environment:
#   RUNTIME            runtime name given to `ctr run --runtime` (default io.containerd.wren.v2; the
#                      reference is io.containerd.runc.v2)
#   CTR_ADDRESS        gRPC socket of a running private containerd (hack/integration.sh exports it together
#   WREN_CONTAINERD_DIR  with this, see `hack/containerd.sh env`); when unset, each file starts its own
#   WREN_NS            containerd namespace of this run (default: wren-<pid>-<random>, one per file)
#   WREN_CTR_TIMEOUT   seconds before a ctr call is killed (default 60; `timeout -s KILL`, because ctr
#                      forwards TERM to the container)
#
# Images (built by hack/image.sh, imported with --base-name docker.io/wren/busybox):
#   docker.io/wren/busybox:test     root, Cmd ["sh"], cwd /
#   docker.io/wren/busybox:user     User "wren" (uid 1000, gid 1000, additional group extra=1001), cwd /home/wren
#   docker.io/wren/busybox:baduser  User "nosuch", which /etc/passwd lacks
# Each holds busybox (/bin) and the static helper /usr/bin/wren-probe (integration/probe/wren-probe.c).
# build/image/rootfs is the same rootfs unpacked, for whole specs given with `ctr run --config`.
#
# What the checks assume of a shim (runc-v2 does all of it):
#   - the shim daemon is the parent of the task's init (shim_pid_of) and its cwd is the bundle
#     <state>/io.containerd.runtime.v2.task/<ns>/<id>; its argv names the id
#   - ctr's cgroupsPath /<ns>/<id> is honoured: /sys/fs/cgroup/<controller>/<ns>/<id> exists while the task
#     runs and is removed by delete
#   - after `ctr task delete` + `ctr container delete` (or containerd's clean-up after a dead shim) nothing
#     is left: no cgroup dir, no mount under the bundle, no bundle, no process with cwd in the bundle, in the
#     cgroup or naming the id, no listening socket at <bundle>/address or at runc-v2's
#     /run/containerd/s/sha256(<grpc address>/<ns>/<id>)

# shellcheck disable=SC2034,SC2154 # variables for the .bats files; $output/$status come from bats run

bats_require_minimum_version 1.5.0

WREN_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
IMAGE=docker.io/wren/busybox:test
IMAGE_USER=docker.io/wren/busybox:user
IMAGE_BADUSER=docker.io/wren/busybox:baduser
PROBE=/usr/bin/wren-probe
ROOTFS_DIR=$WREN_REPO/build/image/rootfs
RUNTIME=${RUNTIME:-io.containerd.wren.v2}
WREN_CTR_TIMEOUT=${WREN_CTR_TIMEOUT:-60}
# containerd's default capability set (oci.populateDefaultUnixSpec): CHOWN DAC_OVERRIDE FOWNER FSETID KILL
# SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
DEFAULT_CAPS=00000000a80425fb
# ctr (1.6, 1.7 and 2.x alike) closes its end of the output FIFOs as soon as it sees the exit and drops
# what it has not read yet: with runc on a loaded machine about 2 runs in 100 lost the whole output of
# `echo hello`. wren holds an exit back until its output is read (docs/compatibility.md, "Output before
# the exit"); runc-v2 does not, so a test that asserts on the output of a process keeps it alive a moment
# after its output: `...; $LINGER_SH` in a shell, or wren-probe with $LINGER_ENV (ctr run flags) /
# WREN_PROBE_LINGER_MS in a spec.
LINGER_SH="sleep 0.3"
LINGER_ENV=(--env WREN_PROBE_LINGER_MS=300)

# ---- the private containerd ----------------------------------------------------------------------

wren_setup_file() {
	if [ -z "${WREN_CONTAINERD_DIR:-}" ] || [ ! -S "${CTR_ADDRESS:-}" ]; then
		local dir
		dir=$(mktemp -d /tmp/wren-bats.XXXXXX)
		"$WREN_REPO/hack/containerd.sh" start "$dir" >&3 2>&1
		eval "$("$WREN_REPO/hack/containerd.sh" env "$dir")"
		export WREN_OWN_CONTAINERD=1
	fi
	if [ -z "${WREN_NS:-}" ]; then
		WREN_NS="wren-$$-$RANDOM"
		export WREN_NS
	fi
	export RUNTIME WREN_CTR_TIMEOUT
	if ! ctr_ images ls -q | grep -qxF "$IMAGE"; then
		"$WREN_REPO/hack/image.sh" --import "$CTR_ADDRESS" "$WREN_NS" >/dev/null
	else
		"$WREN_REPO/hack/image.sh" >/dev/null # the unpacked rootfs
	fi
}

wren_teardown_file() {
	if [ "${WREN_OWN_CONTAINERD:-0}" = 1 ] && [ -n "${WREN_CONTAINERD_DIR:-}" ]; then
		"$WREN_REPO/hack/containerd.sh" stop "$WREN_CONTAINERD_DIR" >&3 2>&1 || true
		if ! grep -qF " $WREN_CONTAINERD_DIR/" /proc/self/mountinfo; then
			rm -rf "$WREN_CONTAINERD_DIR"
		fi
	fi
}

# ctr against the private containerd, in this run's namespace, bounded by WREN_CTR_TIMEOUT.
# stdin is /dev/null; use ctr_stdin to pass the caller's stdin to the container.
ctr_() {
	timeout -s KILL "$WREN_CTR_TIMEOUT" ctr --address "$CTR_ADDRESS" -n "$WREN_NS" "$@" </dev/null
}
ctr_stdin() {
	timeout -s KILL "$WREN_CTR_TIMEOUT" ctr --address "$CTR_ADDRESS" -n "$WREN_NS" "$@"
}

# ---- per test ------------------------------------------------------------------------------------

# A new container id, unique in this run; remembered so that teardown deletes and checks it.
new_cid() {
	local id="w${BATS_SUITE_TEST_NUMBER:-0}-$$-$RANDOM"
	echo "$id" >>"$BATS_TEST_TMPDIR/cids"
	echo "$id"
}

# An exec id for container $1 (default $CID): it starts with the container id, so the FIFOs ctr names
# after it are found by teardown.
new_exec_id() {
	echo "${1:-$CID}-x$RANDOM"
}

wren_setup() {
	: >"$BATS_TEST_TMPDIR/cids"
	: >"$BATS_TEST_TMPDIR/sockets"
	CID=$(new_cid)
	export CID
}

bundle_dir() { echo "$WREN_CONTAINERD_STATE/io.containerd.runtime.v2.task/$WREN_NS/$1"; }

# The shim socket path of container $1 as runc-v2 names it: sha256(<grpc address>/<ns>/<id>).
expected_shim_socket() {
	local h
	h=$(printf '%s' "$CTR_ADDRESS/$WREN_NS/$1" | sha256sum | cut -d' ' -f1)
	echo "/run/containerd/s/$h"
}

# Remember the socket a shim serves container $1 on (from <bundle>/address), for the teardown checks.
record_shim_socket() {
	local a
	a=$(cat "$(bundle_dir "$1")/address" 2>/dev/null) || return 0
	a=${a#unix://}
	[ -n "$a" ] && echo "$a" >>"$BATS_TEST_TMPDIR/sockets"
	return 0
}

# The ttrpc address of the shim serving container $1 (unix://...): its bundle's `address` file, or, where
# that is missing (runc-v2 of containerd 2.x no longer writes it), the "address" of containerd 2.x's
# <bundle>/bootstrap.json. Fails when neither names one.
shim_address_of() {
	local b a
	b=$(bundle_dir "$1")
	if [ -e "$b/address" ]; then
		a=$(cat "$b/address")
	else
		a=$(jq -er .address "$b/bootstrap.json") || return 1
	fi
	[ -n "$a" ] && echo "$a"
}

# Task status of container $1 as `ctr task ls` prints it (RUNNING, STOPPED, ...), or "none".
task_status() {
	local s
	s=$(ctr_ task ls | awk -v id="$1" '$1 == id { print $3 }')
	echo "${s:-none}"
}

# Host pid of container $1's init process, from `ctr task ls`.
task_pid() {
	ctr_ task ls | awk -v id="$1" '$1 == id { print $2 }'
}

# The shim daemon serving container $1: the parent of the task's init process.
shim_pid_of() {
	local pid
	pid=$(task_pid "$1")
	[ -n "$pid" ] && awk '{ print $4 }' "/proc/$pid/stat"
}

# True if process $1 has exited: no /proc entry, or a zombie its parent has not reaped yet (in this VM the
# adopter of orphans, pid 1, reaps late; a zombie holds no files, sockets or mounts).
process_gone() {
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# Pids of the processes whose cwd is DIR (a shim's cwd is its bundle).
pids_with_cwd() {
	find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$1" -printf '%h\n' 2>/dev/null | sed 's|^/proc/||'
}

# wait_for_status ID STATUS [TENTHS]: poll until the task has that status ("none": gone).
wait_for_status() {
	local id=$1 want=$2 tenths=${3:-100} i
	for ((i = 0; i < tenths; i++)); do
		[ "$(task_status "$id")" = "$want" ] && return 0
		sleep 0.1
	done
	echo "task $id: status $(task_status "$id"), wanted $want" >&2
	return 1
}

# fact KEY: the value of the first "KEY=..." line of $output (wren-probe's format).
fact() {
	printf '%s\n' "$output" | sed -n "s/^$1=//p" | head -n 1
}

# Delete container $1 and its task, whatever state they are in.
cleanup_container() {
	local id=$1 i
	record_shim_socket "$id"
	if [ "$(task_status "$id")" != none ]; then
		ctr_ task kill -a -s KILL "$id" >/dev/null 2>&1 || true
		for ((i = 0; i < 50; i++)); do
			case "$(task_status "$id")" in RUNNING | PAUSED | PAUSING | CREATED) sleep 0.1 ;; *) break ;; esac
		done
		ctr_ task delete -f "$id" >/dev/null 2>&1 || ctr_ task delete "$id" >/dev/null 2>&1 || true
	fi
	ctr_ container delete "$id" >/dev/null 2>&1 || true
}

# Print what is left of container $1 on the host, one line each; nothing when clean.
# (No shell loops over /proc: bats' DEBUG trap makes every shell command in a test slow.)
leftovers_of() {
	local id=$1 bundle h s
	bundle=$(bundle_dir "$id")
	if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
		# pure v2: one hierarchy, whose subdirectories are cgroups, not controllers
		[ -d "/sys/fs/cgroup/$WREN_NS/$id" ] && echo "cgroup dir /sys/fs/cgroup/$WREN_NS/$id"
	else
		for h in /sys/fs/cgroup/*/; do
			[ -d "${h}$WREN_NS/$id" ] && echo "cgroup dir ${h}$WREN_NS/$id"
		done
	fi
	awk -v b="$bundle" '$5 == b || index($5, b "/") == 1 { print "mount " $5 }' /proc/self/mountinfo
	[ -e "$bundle" ] && echo "bundle dir $bundle"
	# the shim's cwd is the bundle
	find /proc -mindepth 2 -maxdepth 2 -name cwd \( -lname "$bundle" -o -lname "$bundle/*" \) \
		-printf 'process %h with cwd in the bundle\n' 2>/dev/null | sed 's|/proc/||'
	# one grep over all command lines (NUL-separated arguments: -z): an argument that is the id, ends in
	# /<id> or contains /<id>/; the first letter in brackets keeps grep from matching its own arguments
	local re="[${id:0:1}]${id:1}"
	grep -lsz -e "^$re\$" -e "/$re\$" -e "/$re/" /proc/[0-9]*/cmdline 2>/dev/null |
		sed 's|^/proc/\([0-9]*\)/cmdline$|process \1 whose command line names the container|'
	grep -ls ":/$WREN_NS/$re\$" /proc/[0-9]*/cgroup 2>/dev/null |
		sed "s|^/proc/\\([0-9]*\\)/cgroup\$|process \\1 in cgroup /$WREN_NS/$id|"
	# listening sockets appear in /proc/net/unix (the shims run in the host's network namespace)
	for s in $(expected_shim_socket "$id") $(cat "$BATS_TEST_TMPDIR/sockets" 2>/dev/null); do
		if awk -v s="$s" '$8 == s { f = 1 } END { exit !f }' /proc/net/unix; then
			echo "listening shim socket $s"
		fi
	done
}

# Poll up to 5 s for container $1 to leave nothing behind; on failure print what is left.
assert_nothing_left() {
	local id=$1 i left=""
	for ((i = 0; i < 50; i++)); do
		left=$(leftovers_of "$id")
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "# left behind by container $id:" >&2
	printf '#   %s\n' "${left//$'\n'/$'\n'#   }" >&2
	local p
	for p in $(printf '%s\n' "$left" | sed -n 's/^process \([0-9]*\) .*/\1/p' | sort -u); do
		echo "#   pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
	done
	return 1
}

wren_teardown() {
	local id rc=0 s
	mapfile -t ids <"$BATS_TEST_TMPDIR/cids"
	for id in "${ids[@]}"; do
		cleanup_container "$id"
	done
	for id in "${ids[@]}"; do
		assert_nothing_left "$id" || rc=1
	done
	# stale socket files of shims that died (a SIGKILLed shim cannot unlink its socket): not listening,
	# checked above; remove the files so /run/containerd/s/ does not fill up
	for s in $(for id in "${ids[@]}"; do expected_shim_socket "$id"; done) \
		$(cat "$BATS_TEST_TMPDIR/sockets" 2>/dev/null); do
		[ -S "$s" ] && ! awk -v s="$s" '$8 == s { f = 1 } END { exit !f }' /proc/net/unix && rm -f "$s"
	done
	# ctr's FIFOs (/run/containerd/fifo/<random>/<id>-stdin...): `ctr task delete` removes them, nothing
	# does when containerd cleaned up after a dead shim or ctr was killed; exec ids start with the
	# container id (see new_exec_id), so these names are this test's
	local d
	for id in "${ids[@]}"; do
		for d in $(find /run/containerd/fifo -mindepth 2 -maxdepth 2 -name "$id-*" -printf '%h\n' 2>/dev/null | sort -u); do
			find "$d" -mindepth 1 -maxdepth 1 -name "$id-*" -delete 2>/dev/null || true
			rmdir "$d" 2>/dev/null || true
		done
	done
	if [ -z "${BATS_TEST_COMPLETED:-}" ] || [ $rc != 0 ]; then
		for id in "${ids[@]}"; do
			echo "# containerd log lines for $id (last 15, level info and above):" >&2
			grep -F "$id" "$WREN_CONTAINERD_LOG" 2>/dev/null | grep -v 'level=debug' | tail -n 15 |
				sed 's/^/#   /' >&2 || true
		done
	fi
	return $rc
}

# ---- the containerd under test --------------------------------------------------------------------

# The version of the containerd daemon this run talks to (e.g. 1.7.24), as its `ctr version` reports it.
containerd_version() {
	ctr_ version | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { sub(/^v/, "", $2); print $2; exit }'
}

# containerd_at_least MAJOR.MINOR: true if the containerd under test is that version or newer.
containerd_at_least() {
	local v want=$1
	v=$(containerd_version)
	[ -n "$v" ] || { echo "containerd_at_least: no server version from ctr version" >&2; return 2; }
	local vmaj=${v%%.*} wmaj=${want%%.*} vrest=${v#*.} wrest=${want#*.}
	local vmin=${vrest%%.*} wmin=${wrest%%.*}
	((vmaj > wmaj || (vmaj == wmaj && vmin >= wmin)))
}

# ---- assertions (bats-assert is not packaged in Debian 12) ----------------------------------------

assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected exit status $1, got $status; output:" >&2
		printf '%s\n' "$output" >&2
		[ -n "${stderr:-}" ] && printf 'stderr: %s\n' "$stderr" >&2
		return 1
	fi
}

# assert_fact KEY VALUE: wren-probe printed KEY=VALUE.
assert_fact() {
	local got
	got=$(fact "$1")
	if [ "$got" != "$2" ]; then
		echo "expected $1=$2, got $1=$got; output:" >&2
		printf '%s\n' "$output" >&2
		[ -n "${stderr:-}" ] && printf 'stderr: %s\n' "$stderr" >&2
		return 1
	fi
}

# assert_contains HAYSTACK NEEDLE [i]: substring check, case-insensitive with a third argument "i".
assert_contains() {
	local hay=$1 needle=$2
	if [ "${3:-}" = i ]; then
		hay=${hay,,} needle=${needle,,}
	fi
	if [[ $hay != *"$needle"* ]]; then
		echo "expected to find '$2' in:" >&2
		printf '%s\n' "$1" >&2
		return 1
	fi
}

# The cgroup dir of container $1 for controller $2 (v1: /sys/fs/cgroup/<ctrl>/<ns>/<id>; pure v2: one dir).
cg_dir() {
	if [ -d /sys/fs/cgroup/memory ]; then
		echo "/sys/fs/cgroup/$2/$WREN_NS/$1"
	else
		echo "/sys/fs/cgroup/$WREN_NS/$1"
	fi
}

# ---- containerd's events ---------------------------------------------------------------------------

# watch_events: record containerd's events for this namespace in $BATS_TEST_TMPDIR/events, until
# stop_events (call it from teardown).
watch_events() {
	ctr_ events >"$BATS_TEST_TMPDIR/events" 2>&1 3>&- &
	EVENTS_PID=$!
	sleep 0.3 # let the subscription start
}

stop_events() {
	if [ -n "${EVENTS_PID:-}" ]; then
		kill "$EVENTS_PID" 2>/dev/null || true
		wait "$EVENTS_PID" 2>/dev/null || true
		EVENTS_PID=
	fi
}

# events_of TOPIC PATTERN: the event lines with that topic matching the extended regex, in order
events_of() {
	grep " $1 " "$BATS_TEST_TMPDIR/events" | grep -E "$2" || true
}

# wait_for_event TOPIC PATTERN: wait up to 10 s for such an event; print all events if none comes
wait_for_event() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(events_of "$1" "$2")" ] && return 0
		sleep 0.1
	done
	echo "no $1 event matching $2; events:" >&2
	cat "$BATS_TEST_TMPDIR/events" >&2
	return 1
}
