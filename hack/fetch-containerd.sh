#!/usr/bin/env bash
# Fetch containerd releases that Debian 12 does not ship, as Debian .debs, and unpack them (never install).
#
# Usage: hack/fetch-containerd.sh [VERSION...]       (default: 1.7.24 2.1.9)
#
# For each VERSION prints one line "VERSION BINDIR"; BINDIR holds that release's containerd, ctr and
# containerd-shim-runc-v2. 1.6.20 is the system's own (/usr/bin, Debian 12's package) and is printed as such.
#
#   1.7.24   Debian 13 "trixie", package containerd 1.7.24~ds1-*
#   2.1.9    Debian "sid",       package containerd 2.1.9+ds1-*
#
# The .debs come from the same Debian archive the machine uses, through a private apt configuration
# (hack/private-apt.sh: its own sources list, lists and cache under the cache dir); the system's sources,
# lists and packages are untouched.
# Cache: ${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/containerd/<version>/ (the .deb and its unpacked
# tree). A version already unpacked is used as is: no network, no apt. Safe to run concurrently (flock).
# Environment: WREN_DEBIAN_MIRROR (default: the first http(s) URI of the system's Debian sources, else
# http://deb.debian.org/debian).
set -euo pipefail

# shellcheck source=hack/private-apt.sh
. "$(dirname "$0")/private-apt.sh"

cache_root=${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/containerd
apt_dir=$cache_root/apt

log_msg() { echo "fetch-containerd.sh: $*" >&2; }
die() {
	log_msg "$*"
	exit 1
}

# The suite that carries a version, and the Debian version pattern of the package.
suite_of() {
	case "$1" in
	1.7.24) echo trixie ;;
	2.1.9) echo sid ;;
	*) return 1 ;;
	esac
}

# Private apt lists for trixie and sid, refreshed at most once a day (or when asked to).
update_lists() {
	local m
	m=$(debian_mirror debian)
	private_apt_update "${1:-0}" "trixie and sid from $m" "$(printf 'deb [signed-by=%s] %s %s main\n' \
		"$debian_keyring" "$m" trixie "$debian_keyring" "$m" sid)" || die "apt-get update of the private lists failed"
}

# The Debian version of package containerd in SUITE whose upstream version is VERSION.
debian_version() {
	local version=$1 suite=$2 opts
	mapfile -t opts < <(private_apt_opts)
	apt-cache "${opts[@]}" madison containerd 2>/dev/null |
		awk -F' *[|] *' -v v="$version" -v s="$suite/" '
			index($3, s) && (index($2, v "~") == 1 || index($2, v "+") == 1 || index($2, v "-") == 1) { print $2; exit }'
}

fetch_one() {
	local version=$1 suite dir deb dv opts tmp
	dir=$cache_root/$version
	if [ -e "$dir/.ready" ]; then
		echo "$dir/usr/bin"
		return 0
	fi
	suite=$(suite_of "$version") || die "unknown version $version (known: 1.6.20 1.7.24 2.1.9)"
	mkdir -p "$dir"
	deb=$(find "$dir" -maxdepth 1 -name 'containerd_*.deb' | head -n 1)
	if [ -z "$deb" ]; then
		update_lists
		dv=$(debian_version "$version" "$suite")
		if [ -z "$dv" ]; then
			update_lists 1
			dv=$(debian_version "$version" "$suite")
		fi
		[ -n "$dv" ] || die "Debian $suite has no containerd $version any more (apt-cache madison containerd)"
		log_msg "downloading containerd $dv from $suite"
		mapfile -t opts < <(private_apt_opts)
		tmp=$(mktemp -d "$dir/dl.XXXXXX")
		(cd "$tmp" && apt-get "${opts[@]}" -qq download "containerd=$dv" >&2) ||
			{ rm -rf "$tmp"; die "apt-get download containerd=$dv failed"; }
		deb=$(find "$tmp" -maxdepth 1 -name 'containerd_*.deb' | head -n 1)
		[ -n "$deb" ] || { rm -rf "$tmp"; die "no .deb downloaded"; }
		mv "$deb" "$dir/"
		rm -rf "$tmp"
		deb=$dir/$(basename "$deb")
	fi
	rm -rf "${dir:?}/usr" "${dir:?}/unpack.tmp"
	dpkg-deb -x "$deb" "$dir/unpack.tmp"
	mkdir -p "$dir/usr/bin"
	local b
	for b in containerd ctr containerd-shim-runc-v2; do
		[ -x "$dir/unpack.tmp/usr/bin/$b" ] || die "$deb has no usr/bin/$b"
		mv "$dir/unpack.tmp/usr/bin/$b" "$dir/usr/bin/$b"
	done
	rm -rf "$dir/unpack.tmp"
	# the binaries must run here (glibc of Debian 12) and be the release we asked for
	local got
	got=$("$dir/usr/bin/containerd" --version 2>&1) || die "$dir/usr/bin/containerd does not run here: $got"
	case "$got" in *" $version"*) ;; *) die "$deb is not containerd $version: $got" ;; esac
	touch "$dir/.ready"
	log_msg "containerd $version unpacked in $dir"
	echo "$dir/usr/bin"
}

[ $# -gt 0 ] || set -- 1.7.24 2.1.9
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
for v in "$@"; do
	if [ "$v" = 1.6.20 ]; then
		[ -x /usr/bin/containerd ] || die "/usr/bin/containerd is missing (hack/deps.sh installs Debian 12's 1.6.20)"
		echo "$v /usr/bin"
		continue
	fi
	echo "$v $(fetch_one "$v")"
done
