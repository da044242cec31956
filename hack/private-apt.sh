# shellcheck shell=bash disable=SC2154 # apt_dir, set by the script that sources this file
# A private apt configuration in a cache directory, for the scripts that fetch Debian packages without
# installing them (hack/fetch-containerd.sh: .debs of newer containerd releases; hack/cjson.sh: the source
# package of cJSON). Its own sources list, lists and cache live under $apt_dir; the system's sources, lists
# and packages are never touched. Sourced; the caller sets apt_dir and defines log_msg and die.
#
# Environment: WREN_DEBIAN_MIRROR, WREN_DEBIAN_SECURITY_MIRROR (default: the first http(s) URI of the
# system's Debian sources ending in /debian, resp. /debian-security, else deb.debian.org's).

# The archive the system already uses (deb822 or one-line sources), so no new host is contacted.
# ARCHIVE: debian or debian-security.
debian_mirror() {
	local archive=${1:-debian} m
	case "$archive" in
	debian) m=${WREN_DEBIAN_MIRROR:-} ;;
	debian-security) m=${WREN_DEBIAN_SECURITY_MIRROR:-} ;;
	esac
	if [ -n "$m" ]; then
		echo "$m"
		return
	fi
	m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i } /^deb(-src)? / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' |
		grep -E "^https?://[^ ]*/$archive/?\$" | head -n 1 || true)
	echo "${m:-http://deb.debian.org/$archive}"
}

# The options that point apt-get and apt-cache at $apt_dir, one per line (for mapfile).
private_apt_opts() {
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

# The archive's signing keys, for the signed-by of the private sources.
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# private_apt_update FORCE WHAT SOURCES: make SOURCES (the text of a sources.list, signed-by $debian_keyring)
# the private list, and refresh the private lists (saying so, for WHAT) when it changed, when FORCE is 1, or
# when they are older than a day. Returns 1 (after log_msg) if apt-get update fails; its output goes to
# $apt_dir/update.log.
private_apt_update() {
	local force=$1 what=$2 sources=$3 opts
	[ -r "$debian_keyring" ] || die "$debian_keyring is missing (package debian-archive-keyring)"
	command -v apt-get >/dev/null || die "apt-get is missing"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" \
		"$apt_dir/preferences.d"
	: >"$apt_dir/preferences"
	printf '%s\n' "$sources" >"$apt_dir/sources.list.new"
	if ! cmp -s "$apt_dir/sources.list.new" "$apt_dir/sources.list" 2>/dev/null; then
		mv "$apt_dir/sources.list.new" "$apt_dir/sources.list"
		force=1
	else
		rm -f "$apt_dir/sources.list.new"
	fi
	if [ "$force" = 1 ] || [ ! -e "$apt_dir/updated" ] || [ -n "$(find "$apt_dir/updated" -mmin +1440)" ]; then
		log_msg "apt-get update (private lists for $what)"
		mapfile -t opts < <(private_apt_opts)
		if ! apt-get "${opts[@]}" -qq --error-on=any update >"$apt_dir/update.log" 2>&1; then
			log_msg "apt-get update of the private lists in $apt_dir failed (see update.log there)"
			return 1
		fi
		touch "$apt_dir/updated"
	fi
}
