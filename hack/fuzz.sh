#!/usr/bin/env bash
# Build the fuzzers with clang (libFuzzer + ASan + UBSan) in build-fuzz/, seed their corpora, and
# run each for ${FUZZ_SECONDS:-60} seconds:
#   fuzz_frame  ttrpc frames into a server and a client connection (ttrpc/fuzz/fuzz_frame.c);
#   fuzz_spec   config.json and an exec's process object into the runtime's parser, and a parsed
#               seccomp profile into its compiler (runtime/fuzz/fuzz_spec.c);
#   fuzz_passwd an image's /etc/passwd into the reader the init and an exec's child use for HOME
#               (runtime/fuzz/fuzz_passwd.c).
# FUZZ_TARGETS="fuzz_spec" runs a subset. Run from the repository root (make fuzz does).
set -euo pipefail

BUILD=build-fuzz
CC=clang
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -O1 -g -D_GNU_SOURCE -I. -I$BUILD/protos $(pkg-config --cflags libprotobuf-c libcjson)"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-fuzz_frame fuzz_spec fuzz_passwd}
ARTIFACTS=$BUILD/artifacts/

# The generated envelope code, exactly as the Makefile generates and compiles it.
make --no-print-directory BUILD=$BUILD CC=$CC OPT="-O1 -g" EXTRA_CFLAGS="$SAN" \
	$BUILD/lib/libwren-protos.a

# A module's sources, instrumented for coverage: compile_module DIR (objects in $objs)
compile_module() {
	local src obj
	mkdir -p "$BUILD/obj/$1"
	objs=()
	for src in "$1"/*.c; do
		obj=$BUILD/obj/$1/$(basename "${src%.c}").fuzz.o
		$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
		objs+=("$obj")
	done
}
mkdir -p "$ARTIFACTS"
compile_module ttrpc
# shellcheck disable=SC2046 # pkg-config prints several flags, split on purpose
$CC $CFLAGS $SAN -fsanitize=fuzzer ttrpc/fuzz/fuzz_frame.c "${objs[@]}" \
	$BUILD/lib/libwren-protos.a $(pkg-config --libs libprotobuf-c) -o $BUILD/fuzz_frame
compile_module runtime
# shellcheck disable=SC2046 # pkg-config prints several flags, split on purpose
$CC $CFLAGS $SAN -fsanitize=fuzzer runtime/fuzz/fuzz_spec.c "${objs[@]}" \
	$(pkg-config --libs libseccomp libcap libcjson) -o $BUILD/fuzz_spec
# shellcheck disable=SC2046 # pkg-config prints several flags, split on purpose
$CC $CFLAGS $SAN -fsanitize=fuzzer runtime/fuzz/fuzz_passwd.c "${objs[@]}" \
	$(pkg-config --libs libseccomp libcap libcjson) -o $BUILD/fuzz_passwd

CORPUS=$BUILD/corpus/fuzz_frame
mkdir -p "$CORPUS"

# Seeds: hex of the data, framed here (length and stream id big-endian, type, flags).
frame() { # id type hex
	local len=$((${#3} / 2))
	printf '%08x%08x%02x00%s' "$len" "$1" "$2" "$3"
}
hexs() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
field() { # tag-byte-hex string
	printf '%s%02x%s' "$1" "${#2}" "$(hexs "$2")"
}
request() { # service method payload
	printf '%s%s%s' "$(field 0a "$1")" "$(field 12 "$2")" "$(field 1a "$3")"
}
seed() { # name hex
	printf '%s' "$2" | xxd -r -p >"$CORPUS/seed-$1"
}
seed echo "$(frame 1 1 "$(request svc Echo hi)")"
seed pipelined "$(frame 1 1 "$(request svc Defer w)")$(frame 3 1 "$(request svc Echo s)")"
seed error "$(frame 5 1 "$(request svc Error x)20bdfdbf960b2a0a0a016b120576616c7565")"
seed even "$(frame 2 1 "$(request svc Echo x)")"
seed unknown "$(frame 1 1 "$(request nope Echo x)")$(frame 3 1 "$(request svc Nope x)")"
seed data "$(frame 1 3 616263)$(frame 3 1 "$(request svc Echo x)")"
seed oversize "00500000000000010100"
seed empty-ok "$(frame 1 2 "")$(frame 3 2 "")"
seed responses "$(frame 3 2 "1202$(hexs ok)")$(frame 1 2 "0a0608051202$(hexs nf)")$(frame 5 2 12ff)"

# fuzz_spec's seeds: the unit tests' full config.json, a minimal one, and process objects.
CORPUS=$BUILD/corpus/fuzz_spec
mkdir -p "$CORPUS"
cp runtime/tests/data/*.json "$CORPUS/"
printf '%s' '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"},"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}]}}' >"$CORPUS/seed-minimal"
printf '%s' '{"ociVersion":"1.0.2","annotations":{"k":"v","io.kubernetes.cri.sandbox-id":"pod"},"root":{"path":"r"},"process":{"args":["x"],"cwd":"/"}}' >"$CORPUS/seed-annotations"
printf '%s' '{"args":["/bin/true"],"cwd":"/","env":["A=b"],"user":{"uid":1,"gid":2,"additionalGids":[3]},"terminal":true,"consoleSize":{"height":2,"width":3},"rlimits":[{"type":"RLIMIT_NOFILE","hard":9,"soft":8}],"capabilities":{"bounding":["CAP_KILL"]},"noNewPrivileges":true,"oomScoreAdj":5}' >"$CORPUS/seed-process"
printf '%s' '{"ociVersion":"1.0.2","root":{"path":"/r"},"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"architectures":["SCMP_ARCH_X86_64"],"flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["read","nosuch"],"action":"SCMP_ACT_ALLOW"},{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}}}' >"$CORPUS/seed-seccomp"

# fuzz_passwd's seeds: a buffer-size byte, a uid byte, then the file (see fuzz_passwd.c).
CORPUS=$BUILD/corpus/fuzz_passwd
mkdir -p "$CORPUS"
printf '\x62\x00root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' >"$CORPUS/seed-root"
printf '\x10\x07long:x:7:7:a gecos longer than the buffer:/long:/bin/sh\nx:x:7:7::/short:/bin/sh' >"$CORPUS/seed-long"
printf '\x80\xfbwrap:x:18446744073709555858:0::/wrapped:/bin/sh\napp:x:0004242:1::/home/app:\n' >"$CORPUS/seed-wide"

status=0
for t in $FUZZ_TARGETS; do
	echo "fuzzing $t for ${FUZZ_SECONDS}s; corpus $BUILD/corpus/$t, crashes in $ARTIFACTS"
	$BUILD/$t -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$ARTIFACTS$t-" -print_final_stats=1 "$BUILD/corpus/$t" || status=$?
done
exit $status
