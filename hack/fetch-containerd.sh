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
# The .debs come from the same Debian archive the machine uses, through a private apt configuration (its own
# sources list, lists and cache under the cache dir); the system's sources, lists and packages are untouched.
# Cache: ${WREN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wren}/containerd/<version>/ (the .deb and its unpacked
# tree). A version already unpacked is used as is: no network, no apt. Safe to run concurrently (flock).
# Environment: WREN_DEBIAN_MIRROR (default: the first http(s) URI of the system's Debian sources, else
# http://deb.debian.org/debian).
set -euo pipefail

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

# The archive the system already uses (deb822 or one-line sources), so no new host is contacted.
mirror() {
	local m
	if [ -n "${WREN_DEBIAN_MIRROR:-}" ]; then
		echo "$WREN_DEBIAN_MIRROR"
		return
	fi
	m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i } /^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' |
		grep -E '^https?://[^ ]*/debian/?$' | head -n 1 || true)
	echo "${m:-http://deb.debian.org/debian}"
}

apt_opts() {
	printf '%s\n' \
		-o "Dir::Etc::SourceList=$apt_dir/sources.list" \
		-o "Dir::Etc::SourceParts=$apt_dir/sources.list.d" \
		-o "Dir::Etc::Preferences=$apt_dir/preferences" \
		-o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d" \
		-o "Dir::State::Lists=$apt_dir/lists" \
		-o "Dir::Cache=$apt_dir/cache" \
		-o "APT::Architectures=amd64" \
		-o "APT::Sandbox::User=root" \
		-o "Acquire::Languages=none"
}

# Private apt lists for trixie and sid, refreshed at most once a day (or when asked to).
private_apt_update() {
	local force=${1:-0} m keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
	command -v apt-get >/dev/null || die "apt-get is missing"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" \
		"$apt_dir/preferences.d"
	: >"$apt_dir/preferences"
	m=$(mirror)
	printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$m" trixie "$keyring" "$m" sid \
		>"$apt_dir/sources.list.new"
	if ! cmp -s "$apt_dir/sources.list.new" "$apt_dir/sources.list" 2>/dev/null; then
		mv "$apt_dir/sources.list.new" "$apt_dir/sources.list"
		force=1
	else
		rm -f "$apt_dir/sources.list.new"
	fi
	if [ "$force" = 1 ] || [ ! -e "$apt_dir/updated" ] || [ -n "$(find "$apt_dir/updated" -mmin +1440)" ]; then
		log_msg "apt-get update (private lists for trixie and sid from $m)"
		mapfile -t opts < <(apt_opts)
		apt-get "${opts[@]}" -qq update >&2 || die "apt-get update of the private lists failed"
		touch "$apt_dir/updated"
	fi
}

# The Debian version of package containerd in SUITE whose upstream version is VERSION.
debian_version() {
	local version=$1 suite=$2 opts
	mapfile -t opts < <(apt_opts)
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
		private_apt_update
		dv=$(debian_version "$version" "$suite")
		if [ -z "$dv" ]; then
			private_apt_update 1
			dv=$(debian_version "$version" "$suite")
		fi
		[ -n "$dv" ] || die "Debian $suite has no containerd $version any more (apt-cache madison containerd)"
		log_msg "downloading containerd $dv from $suite"
		mapfile -t opts < <(apt_opts)
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
