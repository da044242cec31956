#!/usr/bin/env bash
# Build the offline busybox test image (OCI layout made with umoci) and optionally import it.
#
# Usage: hack/image.sh [--import ADDRESS NAMESPACE]
#
# Output: build/image/wren-busybox-oci.tar, rebuilt only when an input changes (this script,
# integration/probe/wren-probe.c, /bin/busybox, the umoci version). Prints the tarball's path.
#
# The tarball holds one rootfs under four tags; imported with --base-name docker.io/wren/busybox:
#   docker.io/wren/busybox:test     Cmd ["sh"], root, cwd /
#   docker.io/wren/busybox:user     same rootfs, User "wren" (uid 1000, gid 1000, also in group extra=1001),
#                                   WorkingDir /home/wren
#   docker.io/wren/busybox:baduser  same rootfs, User "nosuch" (no such user in /etc/passwd)
#   docker.io/wren/busybox:pause    same rootfs, Cmd [wren-probe trap-term]: CRI's pod sandbox image
#                                   (waits; exits 0 on SIGTERM, as the kubelet's pause does)
# Rootfs: /bin/busybox (Debian's busybox-static) and its applet links, /usr/bin/wren-probe (static),
# /etc/passwd, /etc/group, /tmp (1777), /home/wren. The same rootfs is left unpacked in build/image/rootfs
# for tests that hand ctr a whole spec (`ctr run --config`, root.path absolute, readonly).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir="$repo/build/image"
tarball="$out_dir/wren-busybox-oci.tar"
stamp="$out_dir/inputs.sha256"
rootfs_dir="$out_dir/rootfs"
base_name=docker.io/wren/busybox

address="" namespace=""
while [ $# -gt 0 ]; do
	case "$1" in
	--import)
		[ $# -ge 3 ] || { echo "usage: $0 [--import ADDRESS NAMESPACE]" >&2; exit 2; }
		address=$2 namespace=$3
		shift 3
		;;
	-h | --help)
		sed -n '2,18p' "$0"
		exit 0
		;;
	*)
		echo "usage: $0 [--import ADDRESS NAMESPACE]" >&2
		exit 2
		;;
	esac
done

for tool in umoci cc sha256sum; do
	command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing (run hack/deps.sh)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "image.sh: /bin/busybox is missing (busybox-static; run hack/deps.sh)" >&2; exit 1; }

inputs_hash() {
	{
		sha256sum "$repo/hack/image.sh" "$repo/integration/probe/wren-probe.c" /bin/busybox
		umoci --version
	} | sha256sum | cut -d' ' -f1
}

build() {
	local rootfs
	mkdir -p "$out_dir"
	work=$(mktemp -d "$out_dir/work.XXXXXX")
	trap 'rm -rf "$work"' EXIT

	cc -static -O2 -Wall -Wextra -o "$work/wren-probe" "$repo/integration/probe/wren-probe.c"

	umoci init --layout "$work/oci"
	umoci new --image "$work/oci:test"
	umoci unpack --image "$work/oci:test" "$work/bundle" >/dev/null
	rootfs="$work/bundle/rootfs"

	mkdir -p "$rootfs"/{bin,etc,usr/bin,proc,sys,dev,run,home/wren,root}
	install -m 0755 /bin/busybox "$rootfs/bin/busybox"
	local applet
	for applet in $(/bin/busybox --list); do
		# the list names busybox itself: linking it would replace the binary with a self-link
		[ "$applet" = busybox ] && continue
		ln -s busybox "$rootfs/bin/$applet"
	done
	install -m 0755 "$work/wren-probe" "$rootfs/usr/bin/wren-probe"
	install -d -m 1777 "$rootfs/tmp"
	chown 1000:1000 "$rootfs/home/wren"
	chmod 0700 "$rootfs/root"
	cat >"$rootfs/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		wren:x:1000:1000:wren test user:/home/wren:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$rootfs/etc/group" <<-'EOF'
		root:x:0:
		wren:x:1000:
		extra:x:1001:wren
		nogroup:x:65534:
	EOF
	chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group"

	umoci repack --image "$work/oci:test" "$work/bundle" >/dev/null
	umoci config --image "$work/oci:test" \
		--config.cmd sh \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.workingdir /
	umoci config --image "$work/oci:test" --tag user --config.user wren --config.workingdir /home/wren
	umoci config --image "$work/oci:test" --tag baduser --config.user nosuch
	umoci config --image "$work/oci:test" --tag pause --config.cmd /usr/bin/wren-probe \
		--config.cmd trap-term
	umoci gc --layout "$work/oci"

	tar -C "$work/oci" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	# the same rootfs as a plain directory, for specs given with `ctr run --config` (root.path absolute)
	rm -rf "$rootfs_dir"
	mv "$rootfs" "$rootfs_dir"
}

# one build at a time (several test runs may start together)
mkdir -p "$out_dir"
exec 9>"$out_dir/.lock"
flock 9
want=$(inputs_hash)
if [ ! -s "$tarball" ] || [ ! -x "$rootfs_dir/usr/bin/wren-probe" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "image.sh: building $tarball" >&2
	rm -f "$stamp"
	build >&2
	echo "$want" >"$stamp"
fi
exec 9>&-

if [ -n "$address" ]; then
	timeout -s KILL 120 ctr --address "$address" -n "$namespace" images import \
		--base-name "$base_name" "$tarball" >&2
fi
echo "$tarball"
