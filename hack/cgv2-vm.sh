#!/usr/bin/env bash
# Run the cgroup tests inside a throw-away QEMU guest whose only cgroup hierarchy is cgroup v2.
#
# Usage: hack/cgv2-vm.sh [bats args or integration/FILE.bats...]
#
# The guest boots Debian's stock kernel (linux-image-amd64 of this machine's Debian, unpacked into a cache,
# never installed) with cgroup_no_v1=all, cgroup2 at /sys/fs/cgroup and every controller enabled. Its root
# filesystem is this machine's / shared read-only over 9p under a tmpfs overlay, so containerd, runc, ctr,
# bats, umoci and jq are the host's own binaries; a snapshot of the repo's build/bin, build/image,
# build/tests/runtime_test_cgroup, hack/ and integration/ is copied into a staging dir that the guest mounts
# read-write at the same path. In the guest, hack/cgv2-guest.sh runs the runtime's cgroup unit tests and
# hack/integration.sh on the cgroup-touching bats files, once per runtime. This script's exit status is the
# guest's (124 on timeout, 125 if the VM itself failed). TAP output and, for failed runs, containerd logs
# are copied to build/cgv2/.
#
# Environment:
#   WREN_CGV2_TESTS       bats arguments (default: the integration/*.bats files that touch cgroups; see
#                         hack/cgv2-guest.sh); arguments given to this script take precedence
#   WREN_CGV2_RUNTIMES    runtimes (default io.containerd.wren.v2; add io.containerd.runc.v2 for the reference)
#   WREN_CGV2_CONTAINERD  containerd version in the guest: 1.6.20 (default, /usr/bin), 1.7.24 or 2.1.9
#                         (from hack/fetch-containerd.sh)
#   WREN_CGV2_TIMEOUT     seconds before the whole VM is killed (default 1800)
#   WREN_CGV2_MEM, WREN_CGV2_CPUS   guest RAM in MiB (default 2048) and vCPUs (default 2)
#   WREN_CGV2_ACCEL       auto (default: kvm when /dev/kvm works, else tcg emulation), kvm or tcg
#   WREN_CGV2_OUT         where results go (default build/cgv2)
#   WREN_CGV2_SYSTEMD     1: boot the host's systemd as the guest's init (it runs stage 2 as the unit
#                         wren-tests.service) and test the systemd cgroup driver: the default tests become
#                         integration/systemd.bats. The command:
#                           WREN_CGV2_SYSTEMD=1 WREN_CGV2_RUNTIMES="io.containerd.wren.v2 io.containerd.runc.v2" \
#                             hack/cgv2-vm.sh
#   WREN_CACHE            cache root (default ${XDG_CACHE_HOME:-~/.cache}/wren); the kernel goes to
#                         $WREN_CACHE/cgv2-vm/<kernel version>/
#
# Leaves nothing behind: the staging dir is removed and the QEMU process (ours, by pid) is killed on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

timeout_s=${WREN_CGV2_TIMEOUT:-1800}
mem=${WREN_CGV2_MEM:-2048}
cpus=${WREN_CGV2_CPUS:-2}
cache=${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/cgv2-vm
out=${WREN_CGV2_OUT:-$repo/build/cgv2}
ctrd_version=${WREN_CGV2_CONTAINERD:-1.6.20}

log_msg() { echo "cgv2-vm.sh: $*" >&2; }
die() {
	log_msg "$*"
	exit 125
}

# ---- host packages (apt only when something is missing) -------------------------------------------
install_missing() {
	local need=() p
	for p in qemu-system-x86 busybox-static kmod xz-utils cpio umoci bats jq; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || need+=("$p")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "not root; install first: ${need[*]}"
	log_msg "installing ${need[*]}"
	{
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
	} >&2 || die "apt-get install ${need[*]} failed"
}

# ---- the guest kernel: Debian's, unpacked into the cache ------------------------------------------
# Sets kver and kdir; kdir holds vmlinux (or bzImage), and root/lib/modules/<kver>.
prepare_kernel() {
	local pkg off
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		apt-get update -qq >&2 || true
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	fi
	[ -n "$pkg" ] || die "cannot resolve Debian's linux-image-amd64"
	kver=${pkg#linux-image-}
	kdir=$cache/$kver
	[ -e "$kdir/.ready" ] && return 0
	log_msg "preparing kernel $kver in $kdir"
	rm -rf "${kdir:?}"
	mkdir -p "$kdir/dl"
	if [ -r "/boot/vmlinuz-$kver" ] && [ -d "/lib/modules/$kver/kernel" ]; then
		mkdir -p "$kdir/root/boot" "$kdir/root/lib/modules"
		cp "/boot/vmlinuz-$kver" "$kdir/root/boot/"
		cp -a "/lib/modules/$kver" "$kdir/root/lib/modules/"
	else
		(cd "$kdir/dl" && apt-get -qq -o APT::Sandbox::User=root download "$pkg" >&2) ||
			die "apt-get download $pkg failed"
		dpkg-deb -x "$kdir"/dl/"${pkg}"_*.deb "$kdir/root"
	fi
	rm -rf "${kdir:?}/dl"
	depmod -b "$kdir/root" "$kver"
	# QEMU boots an uncompressed ELF vmlinux through its PVH entry: no xz decompression under emulation
	off=$(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$kdir/root/boot/vmlinuz-$kver" | head -n 1 | cut -d: -f1 || true)
	if [ -n "$off" ]; then
		tail -c +$((off + 1)) "$kdir/root/boot/vmlinuz-$kver" | xz -dcq >"$kdir/vmlinux" 2>/dev/null || true
	fi
	if ! head -c 4 "$kdir/vmlinux" 2>/dev/null | grep -q ELF; then
		rm -f "$kdir/vmlinux"
		cp "$kdir/root/boot/vmlinuz-$kver" "$kdir/vmlinux"
	fi
	touch "$kdir/.ready"
}

# ---- the initramfs: static busybox, the modules for 9p and overlay, an init that builds the root ---
prepare_initrd() {
	local st ko m hash
	hash=$(sha256sum "$repo/hack/cgv2-vm.sh" /bin/busybox | sha256sum | cut -c1-12)
	initrd=$kdir/initrd-wren-$hash.cpio
	[ -s "$initrd" ] && return 0
	st=$(mktemp -d "$cache/initrd.XXXXXX")
	mkdir -p "$st"/{bin,dev,proc,sys,host,rw,newroot,mods}
	cp /bin/busybox "$st/bin/busybox"
	# the kernel opens the initramfs' /dev/console as init's stdio (devtmpfs is not mounted yet)
	mknod -m 0600 "$st/dev/console" c 5 1
	: >"$st/mods/order"
	for m in virtio_pci virtio_mmio 9pnet_virtio 9p overlay virtio_rng virtio_blk; do
		modprobe -d "$kdir/root" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		cp "$ko" "$st/mods/"
		basename "$ko" >>"$st/mods/order"
	done
	write_init >"$st/init"
	chmod 0755 "$st/init"
	(cd "$st" && find . | cpio -o -H newc --quiet) >"$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$st"
}

write_init() {
	cat <<-'EOF'
		#!/bin/busybox sh
		# PID 1 of the guest, in the initramfs: build the root, pure cgroup v2, hand over to stage 2.
		/bin/busybox --install -s /bin
		export PATH=/bin
		mount -t proc proc /proc
		mount -t sysfs sysfs /sys
		mount -t devtmpfs devtmpfs /dev
		for m in $(cat /mods/order); do insmod "/mods/$m" 2>/dev/null; done
		param() { for a in $(cat /proc/cmdline); do case "$a" in "$1"=*) echo "${a#*=}" ;; esac; done; }
		halt_now() { echo "wren-init: $*"; echo o >/proc/sysrq-trigger; sleep 60; }
		share=$(param wren.share)
		mods=$(param wren.mods)
		use_systemd=$(param wren.systemd)
		o=trans=virtio,version=9p2000.L,msize=512000
		mount -t 9p -o "$o,ro,cache=loose" hostroot /host || halt_now "cannot mount the host's root"
		mount -t tmpfs -o mode=0755 tmpfs /rw
		mkdir -p /rw/upper /rw/work
		mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
			halt_now "cannot mount the overlay root"
		mount -t tmpfs -o mode=0755 tmpfs /newroot/run
		mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
		mount -t tmpfs -o mode=1777 tmpfs /newroot/var/tmp
		mkdir -p "/newroot$share"
		mount -t 9p -o "$o,cache=none" share "/newroot$share" || halt_now "cannot mount the staging dir"
		if [ -n "$mods" ] && [ -d "/newroot$mods" ]; then
			mkdir -p "/newroot/lib/modules/$(uname -r)"
			mount --bind "/newroot$mods" "/newroot/lib/modules/$(uname -r)"
		fi
		mount --move /dev /newroot/dev
		mount --move /proc /newroot/proc
		mount --move /sys /newroot/sys
		# cgroup_no_v1=all on the command line: the unified hierarchy is the only one
		mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup || halt_now "cannot mount cgroup2"
		for c in $(cat /newroot/sys/fs/cgroup/cgroup.controllers); do
			echo "+$c" >/newroot/sys/fs/cgroup/cgroup.subtree_control
		done
		mount -t bpf bpf /newroot/sys/fs/bpf 2>/dev/null
		mount -t securityfs securityfs /newroot/sys/kernel/security 2>/dev/null
		mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/dev/mqueue
		mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /newroot/dev/pts
		ln -sf pts/ptmx /newroot/dev/ptmx
		# devtmpfs has no /dev/fd: bash's process substitution needs it
		ln -sf /proc/self/fd /newroot/dev/fd
		ln -sf /proc/self/fd/0 /newroot/dev/stdin
		ln -sf /proc/self/fd/1 /newroot/dev/stdout
		ln -sf /proc/self/fd/2 /newroot/dev/stderr
		mount -t tmpfs -o mode=1777 shm /newroot/dev/shm
		mount -t mqueue mqueue /newroot/dev/mqueue 2>/dev/null
		hostname wren-cgv2
		ip link set lo up 2>/dev/null
		if [ "$use_systemd" = 1 ]; then
			# systemd as PID 1 starts only the unit that runs stage 2 (systemd.unit= on the command line)
			mkdir -p /newroot/etc/systemd/system
			cp "/newroot$share/wren-tests.service" /newroot/etc/systemd/system/
			# the host's /.dockerenv would make systemd think it runs in a container (and ignore the
			# kernel command line); the unit is also given as an argument
			rm -f /newroot/.dockerenv
			exec switch_root /newroot /lib/systemd/systemd --unit=wren-tests.service --show-status=0
		fi
		exec switch_root /newroot /bin/sh "$share/stage2.sh"
	EOF
}

# ---- staging: a snapshot of what the guest runs ---------------------------------------------------
stage_repo() {
	local f
	for f in build/bin/containerd-shim-wren-v2 build/image/wren-busybox-oci.tar build/image/inputs.sha256; do
		[ -e "$f" ] || die "$f is missing (make all; hack/image.sh)"
	done
	mkdir -p "$stage/repo/build" "$stage/results"
	cp -a hack integration "$stage/repo/"
	cp -a build/bin build/image "$stage/repo/build/"
	if [ -x build/tests/runtime_test_cgroup ]; then
		mkdir -p "$stage/repo/build/tests"
		cp -a build/tests/runtime_test_cgroup "$stage/repo/build/tests/"
		[ -x build/tests/runtime_test_cgroup_join ] && cp -a build/tests/runtime_test_cgroup_join "$stage/repo/build/tests/"
		[ -x build/tests/runtime_test_dbus ] && cp -a build/tests/runtime_test_dbus "$stage/repo/build/tests/"
		[ -x build/tests/runtime_test_container ] && cp -a build/tests/runtime_test_container "$stage/repo/build/tests/"
	else
		log_msg "warning: build/tests/runtime_test_cgroup is not built; the guest skips it"
	fi
	# runtime/tests/data holds fixtures some unit tests read relative to the repo
	if [ -d runtime/tests/data ]; then
		mkdir -p "$stage/repo/runtime/tests"
		cp -a runtime/tests/data "$stage/repo/runtime/tests/"
	fi
}

write_stage2() {
	local bindir=$1
	shift
	{
		echo '# PID 1 of the guest after switch_root (the host'"'"'s /bin/sh): run the tests, report, power off.'
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb'
		printf 'export WREN_CGV2_RESULTS=%q WREN_CGV2_BINDIR=%q WREN_CGV2_RUNTIMES=%q WREN_CGV2_SYSTEMD=%q\n' \
			"$stage/results" "$bindir" "${WREN_CGV2_RUNTIMES:-io.containerd.wren.v2}" "${WREN_CGV2_SYSTEMD:-0}"
		# the snapshot takes the repo's place, so that paths (and hack/image.sh's input hash) are the same
		printf 'mount --bind %q %q || exit 125\n' "$stage/repo" "$repo"
		printf 'cd %q || exit 125\n' "$repo"
		printf '( bash hack/cgv2-guest.sh'
		[ $# -eq 0 ] || printf ' %q' "$@"
		printf ' ) </dev/null\n'
		printf 'echo $? >%q\n' "$stage/rc"
		echo 'sync'
		echo 'echo 0 >/proc/sys/kernel/printk'
		echo 'busybox poweroff -f 2>/dev/null || echo o >/proc/sysrq-trigger'
		echo 'sleep 60'
	} >"$stage/stage2.sh"
	# systemd mode: stage 2 as a unit, its output on the serial console
	cat >"$stage/wren-tests.service" <<-EOF
		[Unit]
		Description=wren tests in the cgroup v2 guest
		DefaultDependencies=no
		[Service]
		Type=oneshot
		ExecStart=/bin/sh $stage/stage2.sh
		StandardInput=null
		StandardOutput=tty
		StandardError=tty
		TTYPath=/dev/console
		TimeoutStartSec=infinity
	EOF
}

accel_args() {
	local a=${WREN_CGV2_ACCEL:-auto}
	if [ "$a" = auto ]; then
		a=tcg
		# a nested PVM host advertises /dev/kvm but cannot run a normal guest
		if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] &&
			{ [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
			a=kvm
		fi
	fi
	case "$a" in
	kvm) echo "-accel kvm -cpu host" ;;
	tcg) echo "-accel tcg -cpu max" ;;
	*) die "WREN_CGV2_ACCEL must be auto, kvm or tcg" ;;
	esac
}

# ---- main ------------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (the guest's root is the host's /, containers need root)"
install_missing
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one preparation of the cache at a time; released before the VM runs
prepare_kernel
prepare_initrd
flock -u 9

case "$ctrd_version" in
1.6.20) bindir=/usr/bin ;;
*) bindir=$(hack/fetch-containerd.sh "$ctrd_version" | awk '{ print $2 }') ;;
esac
[ -x "$bindir/containerd" ] || die "no containerd in $bindir"

stage="" qpid="" tpid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local rc=$? p
	# ours, by pid: timeout(1) passes TERM on to QEMU
	for p in $qpid $tpid; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	if [ -n "$stage" ] && [ -d "$stage" ]; then
		rm -rf "$stage"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stage=$(mktemp -d /tmp/wren-cgv2.XXXXXX)
stage_repo
if [ $# -eq 0 ] && [ -n "${WREN_CGV2_TESTS:-}" ]; then
	read -r -a tests <<<"$WREN_CGV2_TESTS"
	set -- "${tests[@]}"
fi
write_stage2 "$bindir" "$@"

sd_args=""
if [ "${WREN_CGV2_SYSTEMD:-0}" = 1 ]; then
	[ -x /lib/systemd/systemd ] || die "WREN_CGV2_SYSTEMD=1 needs systemd installed on this host"
	sd_args=" wren.systemd=1 systemd.unit=wren-tests.service systemd.show_status=0"
fi
read -r -a accel <<<"$(accel_args)"
log_msg "guest: kernel $kver, ${accel[1]}, ${mem} MiB, $cpus vCPUs, containerd $ctrd_version, timeout ${timeout_s}s"
qemu=(qemu-system-x86_64 -M pc -m "$mem" -smp "$cpus" "${accel[@]}"
	-nodefaults -no-user-config -display none -no-reboot
	-chardev "file,id=con,path=$stage/console.log" -serial chardev:con
	-kernel "$kdir/vmlinux" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 quiet loglevel=1 cgroup_no_v1=all wren.share=$stage wren.mods=$kdir/root/lib/modules/$kver$sd_args"
	-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=root,mount_tag=hostroot"
	-fsdev "local,id=share,path=$stage,security_model=none,multidevs=remap"
	-device "virtio-9p-pci,fsdev=share,mount_tag=share"
	-device virtio-rng-pci
	-drive "file=$stage/scratch.img,if=virtio,format=raw")
# an empty 8 MiB disk (/dev/vda in the guest): the root is 9p, and the blockIO tests need a block
# device to throttle
truncate -s 8M "$stage/scratch.img"
: >"$stage/console.log"
start=$(date +%s)
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$stage/qemu.out" 2>&1 &
qpid=$!
tail -n +1 -f --pid="$qpid" "$stage/console.log" &
tpid=$!
# `wait` (unlike a foreground command) lets the INT/TERM traps run at once
qrc=0
wait "$qpid" || qrc=$?
qpid=""
wait "$tpid" || true
tpid=""
echo "cgv2-vm.sh: VM ran $(($(date +%s) - start)) s"

rm -rf "$out"
mkdir -p "$out"
cp -a "$stage/results/." "$out/" 2>/dev/null || true
cp "$stage/console.log" "$out/console.log"
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	log_msg "timed out after ${timeout_s}s (results so far in $out)"
	exit 124
fi
if [ -s "$stage/rc" ]; then
	rc=$(cat "$stage/rc")
	log_msg "guest exited $rc (results in $out)"
	exit "$rc"
fi
log_msg "the VM stopped (qemu status $qrc) without reporting a status:"
sed 's/^/  /' "$stage/qemu.out" >&2
exit 125
