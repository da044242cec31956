#!/usr/bin/env bash
# Debian's cJSON source, for the static shim (Makefile, SHIM_STATIC=1): Debian ships libcjson only as a shared
# library (libcjson-dev has no .a), so the Makefile compiles the source of the very package installed.
#
# Usage: hack/cjson.sh        prints the directory that holds cJSON.c and cJSON.h
#
# The source package is cjson at libcjson-dev's installed version, from the Debian archive the machine uses,
# through a private apt configuration (hack/private-apt.sh; the system's sources and lists are untouched):
# apt checks the .dsc and tarballs against the archive's signed index, dpkg-source -x checks the tarballs
# against the .dsc and applies Debian's patches (its security fixes). Its cJSON.h must be the installed
# /usr/include/cjson/cJSON.h, the one the shim's objects are compiled against.
# Cache: ${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/cjson/<version>/ (the .dsc, its tarballs, src/). A
# version already unpacked is used as is: no network, no apt. Safe to run concurrently (flock).
# Exit 1 with one line on stderr when it cannot (no network, no such version in the archive any more); the
# Makefile then links libcjson shared. Environment: as hack/private-apt.sh.
set -euo pipefail

# shellcheck source=hack/private-apt.sh
. "$(dirname "$0")/private-apt.sh"

cache_root=${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/cjson
apt_dir=$cache_root/apt

log_msg() { echo "cjson.sh: $*" >&2; }
die() {
	log_msg "$*"
	exit 1
}

version=$(dpkg-query -W -f='${Version}' libcjson-dev 2>/dev/null) || die "libcjson-dev is not installed (hack/deps.sh)"
dir=$cache_root/$version
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9

if [ ! -e "$dir/.ready" ]; then
	command -v dpkg-source >/dev/null || die "dpkg-source is missing (package dpkg-dev)"
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	m=$(debian_mirror debian)
	s=$(debian_mirror debian-security)
	private_apt_update 0 "$codename sources from $m and $s" "$(printf 'deb-src [signed-by=%s] %s %s main\n' \
		"$debian_keyring" "$m" "$codename" "$debian_keyring" "$s" "$codename-security")" ||
		die "cannot fetch Debian's cjson source (apt-get update failed: $apt_dir/update.log)"
	rm -rf "$dir"
	mkdir -p "$dir"
	mapfile -t opts < <(private_apt_opts)
	(cd "$dir" && apt-get "${opts[@]}" -qq source --download-only "cjson=$version" >"$dir/fetch.log" 2>&1) ||
		die "cannot fetch Debian's cjson $version source (apt-get source: $dir/fetch.log)"
	dsc=$(find "$dir" -maxdepth 1 -name 'cjson_*.dsc' | head -n 1)
	[ -n "$dsc" ] || die "apt-get source left no .dsc in $dir"
	# no debian-keyring here: the .dsc's own signature is not checked, apt checked its hash (above)
	dpkg-source --require-strong-checksums -x "$dsc" "$dir/src" >>"$dir/fetch.log" 2>&1 ||
		die "dpkg-source -x $dsc failed ($dir/fetch.log)"
	touch "$dir/.ready"
	log_msg "Debian's cjson $version source unpacked in $dir/src"
fi
cmp -s "$dir/src/cJSON.h" /usr/include/cjson/cJSON.h ||
	die "$dir/src/cJSON.h is not the installed /usr/include/cjson/cJSON.h"
echo "$dir/src"
