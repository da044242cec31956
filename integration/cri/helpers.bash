# shellcheck shell=bash
# Set-up for the CRI tests: containerd's CRI plugin, driven as the kubelet drives it (wren-cri, a CRI
# client of ours), with the RuntimeClass handler that maps to $RUNTIME:
#   io.containerd.wren.v2 -> handler "wren", io.containerd.runc.v2 -> handler "runc"
# (both configured by hack/containerd.sh when WREN_CONTAINERD_CRI=1).
#
# Environment, as for the other .bats files (see ../helpers.bash): CTR_ADDRESS and WREN_CONTAINERD_DIR of a
# running containerd with CRI (hack/integration.sh starts one for integration/cri/), or none: the file then
# starts its own. CRI keeps everything in containerd's namespace k8s.io, where the test image is imported
# (its pause tag is the sandbox image).
#
# Each test's pods get the cgroup parent /wren-cri-<pid> (what the kubelet's kubepods slice is on a node),
# removed by teardown_file.

# Loaded after ../helpers.bash (its assert_* and fact), whose paths it sets right for this directory.

# shellcheck disable=SC2034,SC2154 # variables for the .bats files; $output/$status come from bats run

bats_require_minimum_version 1.5.0

WREN_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
IMAGE=docker.io/wren/busybox:test
PROBE=/usr/bin/wren-probe
RUNTIME=${RUNTIME:-io.containerd.wren.v2}
HANDLER=${RUNTIME#io.containerd.}
HANDLER=${HANDLER%.v2}
CRI=$WREN_REPO/build/bin/wren-cri

cri_setup_file() {
	if [ -z "${WREN_CONTAINERD_DIR:-}" ] || [ ! -S "${CTR_ADDRESS:-}" ]; then
		local dir
		dir=$(mktemp -d /tmp/wren-bats.XXXXXX)
		WREN_CONTAINERD_CRI=1 "$WREN_REPO/hack/containerd.sh" start "$dir" >&3 2>&1
		eval "$("$WREN_REPO/hack/containerd.sh" env "$dir")"
		export WREN_OWN_CONTAINERD=1
	fi
	if ! ctr --address "$CTR_ADDRESS" -n k8s.io images ls -q | grep -qxF "$IMAGE"; then
		"$WREN_REPO/hack/image.sh" --import "$CTR_ADDRESS" k8s.io >/dev/null
	fi
	CGPARENT=/wren-cri-$$
	export CGPARENT RUNTIME
}

cri_teardown_file() {
	local h
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		[ -d "${h}${CGPARENT#/}" ] && rmdir "${h}${CGPARENT#/}" 2>/dev/null
	done
	if [ "${WREN_OWN_CONTAINERD:-0}" = 1 ] && [ -n "${WREN_CONTAINERD_DIR:-}" ]; then
		"$WREN_REPO/hack/containerd.sh" stop "$WREN_CONTAINERD_DIR" >&3 2>&1 || true
		grep -qF " $WREN_CONTAINERD_DIR/" /proc/self/mountinfo || rm -rf "$WREN_CONTAINERD_DIR"
	fi
	return 0
}

cri_setup() {
	LOGDIR=$BATS_TEST_TMPDIR/logs
	mkdir -p "$LOGDIR"
	POD_NAME="p${BATS_SUITE_TEST_NUMBER:-0}-$$-$RANDOM"
	: >"$BATS_TEST_TMPDIR/pods"
}

# Every pod the test made goes, whatever state it is in: RemovePodSandbox also stops and removes the
# pod's containers.
cri_teardown() {
	local p
	while read -r p; do
		"$CRI" "$CTR_ADDRESS" stopp "$p" >/dev/null 2>&1 || true
		"$CRI" "$CTR_ADDRESS" rmp "$p" >/dev/null 2>&1 || true
	done <"$BATS_TEST_TMPDIR/pods"
	# a test's own host mounts (hostPath volumes), once no container holds them
	[ -z "${HOST_MOUNTS:-}" ] || umount -R "$HOST_MOUNTS" 2>/dev/null || true
	return 0
}

cri() { "$CRI" "$CTR_ADDRESS" "$@"; }
ctr_k8s() { ctr --address "$CTR_ADDRESS" -n k8s.io "$@"; }

# run_pod [--pod-network]: a pod sandbox under $HANDLER, with the host's network or (--pod-network) one
# of its own made by CRI and integration/cri/cni-plugin; sets POD (its id).
run_pod() {
	POD=$(cri runp "$POD_NAME" "$HANDLER" "$LOGDIR" "$CGPARENT" "$@") || return 1
	echo "$POD" >>"$BATS_TEST_TMPDIR/pods"
}

# new_container NAME CMD [ARG...]: create it in $POD; prints its id.
new_container() {
	local name=$1
	shift
	cri create "$POD" "$POD_NAME" "$LOGDIR" "$CGPARENT" "$name" "$IMAGE" "$@"
}

# Host pid of a CRI container's (or sandbox's) process, from containerd's task list.
cri_pid() {
	ctr_k8s task ls | awk -v id="$1" '$1 == id { print $2 }'
}

# The parent of a process: for a container's process, its shim daemon.
parent_of() {
	awk '{ print $4 }' "/proc/$1/stat"
}

# wait_for_state ID STATE: poll ContainerStatus up to 10 s; leaves the last answer in $output.
wait_for_state() {
	local i
	for ((i = 0; i < 100; i++)); do
		output=$(cri status "$1") || return 1
		case "$output" in "state=$2 "*) return 0 ;; esac
		sleep 0.1
	done
	echo "container $1: $output, wanted state=$2" >&2
	return 1
}

# cri_cg_file ID CONTROLLER FILE: a cgroup file of container ID, which the kubelet's cgroupfs driver
# puts at <cgroup parent>/<id>: ../helpers.bash's cg_dir with the pod's parent where ctr's namespace is.
cri_cg_file() {
	echo "$(WREN_NS=${CGPARENT#/} cg_dir "$1" "$2")/$3"
}

# status_field PID NAME: a field of /proc/PID/status (the first number of Uid: and the like)
status_field() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}
