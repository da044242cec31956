#!/usr/bin/env bash
# Build the ttrpc frame fuzzer with clang (libFuzzer + ASan + UBSan) in build-fuzz/, seed its
# corpus with a few valid frames, and run it for ${FUZZ_SECONDS:-60} seconds.
# Run from the repository root (make fuzz does).
set -euo pipefail

BUILD=build-fuzz
CC=clang
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -O1 -g -D_GNU_SOURCE -I. -I$BUILD/protos $(pkg-config --cflags libprotobuf-c)"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CORPUS=$BUILD/corpus/fuzz_frame
ARTIFACTS=$BUILD/artifacts/

# The generated envelope code, exactly as the Makefile generates and compiles it.
make --no-print-directory BUILD=$BUILD CC=$CC OPT="-O1 -g" EXTRA_CFLAGS="$SAN" \
	$BUILD/lib/libwren-protos.a

mkdir -p $BUILD/obj/ttrpc "$CORPUS" "$ARTIFACTS"
objs=()
for src in ttrpc/*.c; do
	obj=$BUILD/obj/ttrpc/$(basename "${src%.c}").fuzz.o
	$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	objs+=("$obj")
done
$CC $CFLAGS $SAN -fsanitize=fuzzer ttrpc/fuzz/fuzz_frame.c "${objs[@]}" \
	$BUILD/lib/libwren-protos.a $(pkg-config --libs libprotobuf-c) -o $BUILD/fuzz_frame

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

echo "fuzzing for ${FUZZ_SECONDS}s; corpus $CORPUS, crashes in $ARTIFACTS"
exec $BUILD/fuzz_frame -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 \
	-rss_limit_mb=4096 -artifact_prefix="$ARTIFACTS" -print_final_stats=1 "$CORPUS"
