#!/usr/bin/env bash
# A private containerd for tests and demos, everything under one directory.
#
# Usage: hack/containerd.sh start|stop|env DIR
#        hack/containerd.sh restart DIR [SECONDS]
#
#   start  writes DIR/config.toml (version 2: root DIR/root, state DIR/state, gRPC DIR/containerd.sock,
#          ttrpc DIR/containerd.sock.ttrpc, CRI disabled unless WREN_CONTAINERD_CRI=1, log level debug or
#          WREN_CONTAINERD_LOG_LEVEL; at debug containerd starts every shim with -debug),
#          runs /usr/bin/containerd (override with CONTAINERD_BIN) with <repo>/build/bin first on PATH so
#          io.containerd.wren.v2 resolves to containerd-shim-wren-v2 there, logs to DIR/containerd.log,
#          writes DIR/containerd.pid and waits until `ctr version` answers.
#   stop   stops it (TERM, then KILL after 10 s), kills what is left of the containers it ran (the processes
#          in the cgroups named by the bundles' config.json) and of their shims (processes whose cwd lies
#          under DIR), unmounts whatever is mounted under DIR (deepest first), removes the empty cgroups (the
#          containers' and their namespaces' /<ns>) and the shim sockets under /run/containerd/s/ named in
#          the bundles' address files. DIR itself stays
#          (its log is useful); the caller removes it.
#   restart  stops containerd only (TERM, then KILL after 10 s), leaves it down SECONDS (default 0), starts
#          it again with the same config and state and appends to its log: the containers and their shims
#          keep running, and containerd reconnects to them (for the restart tests).
#   env    prints shell exports: CONTAINERD_ADDRESS, CTR_ADDRESS, WREN_CONTAINERD_DIR, WREN_CONTAINERD_ROOT,
#          WREN_CONTAINERD_STATE, WREN_CONTAINERD_LOG, WREN_CONTAINERD_TTRPC.
#
# Never touches /run/containerd/containerd.sock or the system daemon. containerd 1.6 still puts shim
# sockets in /run/containerd/s/ (named by a hash of the gRPC address, so daemons do not collide).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
containerd_bin=${CONTAINERD_BIN:-/usr/bin/containerd}

usage() {
	echo "usage: $0 start|stop|env DIR | restart DIR [SECONDS]" >&2
	exit 2
}

[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = restart ]; } || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd -P)

sock="$dir/containerd.sock"
ttrpc_sock="$dir/containerd.sock.ttrpc"
pidfile="$dir/containerd.pid"
log="$dir/containerd.log"
config="$dir/config.toml"
task_state="$dir/state/io.containerd.runtime.v2.task"

log_msg() { echo "containerd.sh: $*" >&2; }

# The pid in DIR/containerd.pid, if that process is still our containerd (guards against pid reuse).
our_pid() {
	local pid
	pid=$(cat "$pidfile" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$config" || return 1
	echo "$pid"
}

write_config() {
	local disabled='disabled_plugins = ["io.containerd.grpc.v1.cri"]'
	[ "${WREN_CONTAINERD_CRI:-0}" = 1 ] && disabled='disabled_plugins = []'
	cat >"$config" <<-EOF
		version = 2
		root = "$dir/root"
		state = "$dir/state"
		$disabled

		[grpc]
		  address = "$sock"

		[ttrpc]
		  address = "$ttrpc_sock"

		[debug]
		  address = ""
		  level = "${WREN_CONTAINERD_LOG_LEVEL:-debug}"

		[metrics]
		  address = ""

		[plugins]
		  [plugins."io.containerd.internal.v1.opt"]
		    path = "$dir/opt"
	EOF
	[ "${WREN_CONTAINERD_CRI:-0}" = 1 ] || return 0
	# CRI, as a node would set it for wren: RuntimeClass handlers "wren" and "runc". The pause image
	# is the test image's (hack/image.sh's pause tag, imported into k8s.io). The network plugin is
	# integration/cri/cni-plugin (a dummy interface in the pod's own network namespace, nothing on
	# the host), also as CRI's loopback. This root cannot lower oom_score_adj, as the kubelet asks for
	# sandboxes (testing.md): CRI clamps it.
	mkdir -p "$dir/cni/bin" "$dir/cni/conf"
	ln -sf "$repo/integration/cri/cni-plugin" "$dir/cni/bin/wren-dummy"
	ln -sf "$repo/integration/cri/cni-plugin" "$dir/cni/bin/loopback"
	echo '{"cniVersion": "0.4.0", "name": "wren-test", "plugins": [{"type": "wren-dummy"}]}' \
		>"$dir/cni/conf/10-wren-test.conflist"
	cat >>"$config" <<-EOF
		  [plugins."io.containerd.grpc.v1.cri"]
		    sandbox_image = "docker.io/wren/busybox:pause"
		    restrict_oom_score_adj = true
		    stream_server_address = "127.0.0.1"
		    stream_server_port = "0"
		    [plugins."io.containerd.grpc.v1.cri".containerd]
		      default_runtime_name = "wren"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wren]
		        runtime_type = "io.containerd.wren.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		        runtime_type = "io.containerd.runc.v2"
		    [plugins."io.containerd.grpc.v1.cri".cni]
		      bin_dir = "$dir/cni/bin"
		      conf_dir = "$dir/cni/conf"
	EOF
}

do_start() {
	if our_pid >/dev/null; then
		log_msg "already running in $dir (pid $(our_pid))"
		return 0
	fi
	[ -x "$containerd_bin" ] || { log_msg "$containerd_bin not found (run hack/deps.sh)"; exit 1; }
	mkdir -p "$dir/root" "$dir/state" "$dir/opt"
	write_config
	[ "${keep_log:-0}" = 1 ] || : >"$log"
	# Own session, stdin from /dev/null, nothing but the log inherited (bats waits for fd 3 to close).
	PATH="$repo/build/bin:$PATH" setsid "$containerd_bin" --config "$config" \
		</dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	local pid=$! i
	echo "$pid" >"$pidfile"
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log_msg "containerd exited during start; last lines of $log:"
			tail -n 30 "$log" >&2
			exit 1
		fi
		if [ -S "$sock" ] && timeout -s KILL 5 ctr --address "$sock" version >/dev/null 2>&1; then
			log_msg "containerd up in $dir (pid $(cat "$pidfile"))"
			return 0
		fi
		sleep 0.1
	done
	log_msg "containerd did not answer within 30 s; last lines of $log:"
	tail -n 30 "$log" >&2
	do_stop
	exit 1
}

# Processes whose cwd lies under DIR: the shims (their cwd is the bundle).
pids_with_cwd_under_dir() {
	local p cwd
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		case "$cwd" in
		"$dir" | "$dir"/*) echo "${p#/proc/}" ;;
		esac
	done
}

# Cgroup paths (relative to a hierarchy root) of the containers whose bundles are under DIR.
bundle_cgroups() {
	local cfg path
	for cfg in "$task_state"/*/*/config.json; do
		[ -f "$cfg" ] || continue
		path=$(jq -r '.linux.cgroupsPath // empty' "$cfg" 2>/dev/null) || continue
		# systemd-style "slice:prefix:name" paths are not used by our tests
		case "$path" in /*) echo "$path" ;; esac
	done
}

kill_cgroup_procs() {
	local cg h f p
	for cg in $(bundle_cgroups); do
		for h in /sys/fs/cgroup/*/; do
			f="${h%/}$cg/cgroup.procs"
			[ -r "$f" ] || continue
			while read -r p; do
				if [ -n "$p" ]; then kill -KILL "$p" 2>/dev/null || true; fi
			done <"$f"
		done
	done
}

remove_cgroups() {
	local cg h d
	for cg in $(bundle_cgroups); do
		for h in /sys/fs/cgroup/*/; do
			d="${h%/}$cg"
			[ -d "$d" ] || continue
			# children first (runc may have made none, wren neither; be thorough anyway)
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		done
	done
}

# Namespaces this daemon knows: the parents of ctr's /<namespace>/<id> cgroups.
daemon_namespaces() {
	local d
	if our_pid >/dev/null; then
		timeout -s KILL 10 ctr --address "$sock" namespaces ls -q 2>/dev/null || true
	fi
	for d in "$task_state"/*/; do
		[ -d "$d" ] && basename "$d"
	done
}

# After the containers: rmdir the namespace-level cgroups (runc and wren create /<ns> for /<ns>/<id>).
# rmdir of a cgroup fails unless it is empty, so someone else's busy cgroup is never touched.
remove_namespace_cgroups() {
	local ns h
	for ns in "$@"; do
		[ -n "$ns" ] || continue
		for h in /sys/fs/cgroup/*/; do
			[ -d "${h}$ns" ] && rmdir "${h}$ns" 2>/dev/null
		done
	done
	return 0
}

shim_sockets() {
	local a addr
	for a in "$task_state"/*/*/address; do
		[ -f "$a" ] || continue
		addr=$(cat "$a" 2>/dev/null) || continue
		addr=${addr#unix://}
		case "$addr" in /run/containerd/s/*) echo "$addr" ;; esac
	done
}

unmount_under_dir() {
	local mp i
	# field 5 of mountinfo is the mount point (octal escapes for spaces; our paths have none)
	for ((i = 0; i < 5; i++)); do
		mapfile -t mps < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tac)
		[ ${#mps[@]} -eq 0 ] && return 0
		for mp in "${mps[@]}"; do
			umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
		done
	done
	if awk -v d="$dir/" 'index($5, d) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		log_msg "mounts left under $dir:"
		awk -v d="$dir/" 'index($5, d) == 1 { print "  " $5 }' /proc/self/mountinfo >&2
		return 1
	fi
}

wait_gone() { # wait_gone TENTHS PID...
	local tenths=$1 i p alive
	shift
	for ((i = 0; i < tenths; i++)); do
		alive=0
		for p in "$@"; do
			[ -d "/proc/$p" ] && alive=1
		done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

do_stop() {
	local pid sockets namespaces bundles
	# before anything goes away: which shim sockets, namespaces and bundles belong to this daemon
	mapfile -t sockets < <(shim_sockets)
	mapfile -t namespaces < <(daemon_namespaces | sort -u)
	mapfile -t bundles < <(cd "$task_state" 2>/dev/null && for b in */*/; do [ -d "$b" ] && echo "${b%/}"; done)
	if pid=$(our_pid); then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone 100 "$pid"; then
			log_msg "containerd (pid $pid) ignored TERM for 10 s: KILL"
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone 50 "$pid" || log_msg "containerd (pid $pid) still there after KILL"
		fi
	fi
	rm -f "$pidfile"

	# containers first (so their shims can see them exit), then the shims
	kill_cgroup_procs
	mapfile -t shims < <(pids_with_cwd_under_dir)
	if [ ${#shims[@]} -gt 0 ]; then
		log_msg "killing leftover shims: ${shims[*]}"
		kill -KILL "${shims[@]}" 2>/dev/null || true
		wait_gone 50 "${shims[@]}" || true
	fi
	kill_cgroup_procs
	unmount_under_dir || true
	remove_cgroups
	remove_namespace_cgroups "${namespaces[@]}"
	# runc-v2 keeps runc's state in /run/containerd/runc/<ns>/<id>: gone with a clean delete, left when
	# its shim was killed above
	local b ns
	for b in "${bundles[@]}"; do
		[ -n "$b" ] && [ -d "/run/containerd/runc/$b" ] && rm -rf "/run/containerd/runc/${b:?}"
	done
	for ns in "${namespaces[@]}"; do
		[ -n "$ns" ] && [ -d "/run/containerd/runc/$ns" ] && rmdir "/run/containerd/runc/$ns" 2>/dev/null
	done
	local s
	for s in "${sockets[@]}"; do
		[ -S "$s" ] && rm -f "$s"
	done
	return 0
}

# Only containerd: unlike do_stop, nothing of the containers or their shims is touched.
do_restart() {
	local pid down=${1:-0}
	if pid=$(our_pid); then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_gone 100 "$pid"; then
			log_msg "containerd (pid $pid) ignored TERM for 10 s: KILL"
			kill -KILL "$pid" 2>/dev/null || true
			wait_gone 50 "$pid" || { log_msg "containerd (pid $pid) still there after KILL"; exit 1; }
		fi
	fi
	rm -f "$pidfile"
	log_msg "containerd stopped; down for $down s"
	sleep "$down"
	keep_log=1 do_start
}

do_env() {
	printf 'export CONTAINERD_ADDRESS=%q\n' "$sock"
	printf 'export CTR_ADDRESS=%q\n' "$sock"
	printf 'export WREN_CONTAINERD_DIR=%q\n' "$dir"
	printf 'export WREN_CONTAINERD_ROOT=%q\n' "$dir/root"
	printf 'export WREN_CONTAINERD_STATE=%q\n' "$dir/state"
	printf 'export WREN_CONTAINERD_LOG=%q\n' "$log"
	printf 'export WREN_CONTAINERD_TTRPC=%q\n' "$ttrpc_sock"
}

case "$action" in
start) do_start ;;
stop) do_stop ;;
restart) do_restart "${3:-0}" ;;
env) do_env ;;
*) usage ;;
esac
