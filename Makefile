# wren: a containerd shim v2 in C. See README.md.
#
# Layout of the build tree (nothing generated is ever committed):
#   build/protos/   protoc-c output for protos/**/*.proto
#   build/obj/      objects, mirrored by source path
#   build/lib/      one static library per module
#   build/bin/      containerd-shim-wren-v2 and test tools
#   build/tests/    cmocka unit test binaries

VERSION    := 0.1.0
PREFIX     ?= /usr/local
CC         ?= cc
BUILD      := build
PKGS       := libprotobuf-c libseccomp libcap libcjson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CGROUP_LIBS:= $(shell pkg-config --libs libcgroup 2>/dev/null)
# The shim binary is a static PIE (SHIM_STATIC=1, the default). containerd runs it as two short-lived
# processes per container (the start and delete actions); the loader's work per library (open, mmap, symbol
# lookup, relocation) and the lazy PLT binding the daemon and its children pay on top cost a launch 0.65 ms
# of CPU with libc and libcjson shared, 0.43 ms static-pie (a trivial static program: 0.36 ms).
# Debian ships the .a of glibc, libprotobuf-c, libseccomp and libcap, not of libcjson: hack/cjson.sh fetches
# Debian's cjson source package (the installed version) into a cache outside the tree, and $(BUILD)/cjson/
# compiles it. If it cannot (no network), the shim links libc and libcjson shared, the rest static, and make
# says so in one line. SHIM_STATIC=0 links everything shared (make asan: the sanitizers need a shared libc).
SHIM_STATIC ?= 1
STATIC_LIBS := $(shell pkg-config --libs libprotobuf-c libseccomp libcap 2>/dev/null)
ifeq ($(SHIM_STATIC),1)
SHIM_LINK  := $(BUILD)/cjson/link
endif
SHIM_LIBS  := $(PKG_LIBS) $(CGROUP_LIBS)

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
HARDEN    := -D_FORTIFY_SOURCE=3 -fstack-protector-strong
OPT       ?= -O2 -g
CFLAGS    += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -DWREN_VERSION=\"$(VERSION)\" \
             -I. -I$(BUILD)/protos $(PKG_CFLAGS) $(EXTRA_CFLAGS)
# -z now: every symbol bound at start. An exec child shares the daemon's memory (runtime/exec_child.h)
# and must not run the dynamic linker's lazy binding in a shared build.
LDFLAGS   += -Wl,-z,now $(EXTRA_LDFLAGS)

PROTOS     := $(shell find protos -name '*.proto' | sort)
PROTO_C    := $(patsubst protos/%.proto,$(BUILD)/protos/%.pb-c.c,$(PROTOS))
PROTO_H    := $(PROTO_C:.c=.h)
# protoc-c also needs the well-known types it imports; we compile our own copies of their C code.
WKT        := google/protobuf/any google/protobuf/empty google/protobuf/timestamp
WKT_C      := $(patsubst %,$(BUILD)/protos/%.pb-c.c,$(WKT))

TTRPC_SRC  := $(wildcard ttrpc/*.c)
RT_SRC     := $(wildcard runtime/*.c)
SHIM_SRC   := $(wildcard shim/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_PROTOS := $(BUILD)/lib/libwren-protos.a
LIB_TTRPC  := $(BUILD)/lib/libwren-ttrpc.a
LIB_RT     := $(BUILD)/lib/libwren-runtime.a
SHIM_BIN   := $(BUILD)/bin/containerd-shim-wren-v2

UNIT_SRC   := $(wildcard ttrpc/tests/test_*.c runtime/tests/test_*.c shim/tests/test_*.c)
UNIT_BIN   := $(patsubst %.c,$(BUILD)/tests/%,$(subst /tests/,_,$(UNIT_SRC)))
TOOL_SRC   := $(filter-out integration/tools/wren-cri.c,$(wildcard integration/tools/*.c))
TOOL_BIN   := $(patsubst integration/tools/%.c,$(BUILD)/bin/%,$(TOOL_SRC))
# The CRI client needs gRPC (libgrpc-dev): built for the integration suites only, so that `make` and
# `make install` need nothing beyond the shim's own dependencies.
CRI_BIN    := $(BUILD)/bin/wren-cri

.PHONY: all install clean deps unit integration test demo fuzz format check-format lint asan bench test-matrix test-cgv2

all: $(SHIM_BIN) $(TOOL_BIN)

# ---- protos -------------------------------------------------------------
$(BUILD)/protos/%.pb-c.c $(BUILD)/protos/%.pb-c.h: protos/%.proto
	@mkdir -p $(BUILD)/protos
	protoc-c --c_out=$(BUILD)/protos -Iprotos -I/usr/include $<

$(BUILD)/protos/google/protobuf/%.pb-c.c $(BUILD)/protos/google/protobuf/%.pb-c.h: /usr/include/google/protobuf/%.proto
	@mkdir -p $(BUILD)/protos
	protoc-c --c_out=$(BUILD)/protos -I/usr/include $<

PROTO_ALL_C := $(PROTO_C) $(WKT_C)
PROTO_ALL_H := $(PROTO_ALL_C:.c=.h)
# Keep protoc-c's output (made by pattern rules, so intermediate to make). Only these: with an empty
# .SECONDARY every target is intermediate, and a missing prerequisite such as $(BUILD)/cjson/link
# would never be made in an existing build tree.
.SECONDARY: $(PROTO_ALL_C) $(PROTO_ALL_H)

$(BUILD)/obj/protos/%.o: $(BUILD)/protos/%.c | $(PROTO_ALL_H)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(OPT) -fPIC -I$(BUILD)/protos $(PKG_CFLAGS) $(EXTRA_CFLAGS) -c $< -o $@

$(LIB_PROTOS): $(patsubst $(BUILD)/protos/%.c,$(BUILD)/obj/protos/%.o,$(PROTO_ALL_C))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# ---- modules ------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(PROTO_ALL_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB_TTRPC): $(call obj,$(TTRPC_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIB_RT): $(call obj,$(RT_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(SHIM_BIN): $(call obj,$(SHIM_SRC)) $(LIB_RT) $(LIB_TTRPC) $(LIB_PROTOS) $(SHIM_LINK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(SHIM_LINK),$^) $(if $(SHIM_LINK),$$(cat $(SHIM_LINK)),$(SHIM_LIBS))

# The static shim's libraries, in $(BUILD)/cjson/link: -static-pie with Debian's cJSON compiled here (the
# flags of its upstream build, ours for hardening), else the fallback (until make clean).
$(BUILD)/cjson/link:
	@mkdir -p $(@D)
	@if src=$$(hack/cjson.sh 2>$(@D)/cjson.log) && \
	    $(CC) -std=c89 $(OPT) $(HARDEN) -fPIE -c "$$src/cJSON.c" -o $(@D)/cJSON.o 2>>$(@D)/cjson.log && \
	    rm -f $(@D)/libcjson.a && $(AR) rcs $(@D)/libcjson.a $(@D)/cJSON.o; then \
		cat $(@D)/cjson.log >&2; \
		echo "-static-pie $(@D)/libcjson.a $(STATIC_LIBS)"; \
	else \
		echo "note: no static cJSON ($$(tail -n 1 $(@D)/cjson.log)): the shim links libc and libcjson shared; make clean to retry" >&2; \
		echo "-Wl,-Bstatic $(STATIC_LIBS) -Wl,-Bdynamic $(shell pkg-config --libs libcjson 2>/dev/null)"; \
	fi >$@

# Tools for tests: small programs linked against the libraries (test clients, bundle runner).
$(BUILD)/bin/%: integration/tools/%.c $(LIB_RT) $(LIB_TTRPC) $(LIB_PROTOS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CGROUP_LIBS)

# The CRI client speaks gRPC (HTTP/2) to containerd's CRI plugin, through gRPC's C core library
# (libgrpc-dev, a test dependency that hack/deps.sh installs).
$(BUILD)/bin/wren-cri: integration/tools/wren-cri.c $(LIB_PROTOS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lgrpc -lgpr

# ---- unit tests ---------------------------------------------------------
# build/tests/<module>_test_<name> from <module>/tests/test_<name>.c, linked with every library
# (static archives: only what the test uses is pulled in).
SHIM_LIB_OBJ := $(call obj,$(filter-out shim/main.c,$(SHIM_SRC)))
.SECONDEXPANSION:
$(BUILD)/tests/%: $$(subst _test_,/tests/test_,$$*).c $(LIB_RT) $(LIB_TTRPC) $(LIB_PROTOS) $(SHIM_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SHIM_LIB_OBJ) \
		$(LIB_RT) $(LIB_TTRPC) $(LIB_PROTOS) $(PKG_LIBS) $(CGROUP_LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# ---- the commands a newcomer runs ----------------------------------------
deps:
	@hack/deps.sh

integration: all $(CRI_BIN)
	@hack/integration.sh

test: deps
	$(MAKE) lint
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration

demo: deps
	$(MAKE) all
	@hack/demo.sh

install: $(SHIM_BIN)
	install -D -m 0755 $(SHIM_BIN) $(DESTDIR)$(PREFIX)/bin/containerd-shim-wren-v2

fuzz:
	@hack/fuzz.sh

asan:
	$(MAKE) BUILD=build-asan SHIM_STATIC=0 OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# The C sources as .clang-format has them, and the scripts and bats files free of shellcheck
# warnings (a bare `! cmd` in a bats test is one of them: it never fails the test).
lint: check-format
	@shellcheck -S warning $$(git ls-files 'hack/*.sh' hack/bench .ci/run 'integration/*.bash' \
		'integration/*.bats')
	@# bash's errexit ignores a failure before the last command of an && list: an assert
	@# '[ A ] && [ B ]' on a line of its own passes whenever A fails
	@! grep -nE '^\s+\[.*\] && \[.*\]\s*$$' $$(git ls-files 'integration/*.bats') || \
		{ echo "lint: write each test of an && assert on a line of its own" >&2; exit 1; }

clean:
	rm -rf $(BUILD) build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Side by side with containerd-shim-runc-v2 (docs/performance.md); BENCH_QUICK=1 for a smoke run.
bench:
	@hack/bench

# ---- containerd versions and cgroup v2 (issue 4) ---------------------------------------------------
# The integration suite against containerd 1.6.20, 1.7.24 and 2.1.9 (the newer two: Debian .debs, unpacked
# into a cache by hack/fetch-containerd.sh). WREN_MATRIX_RUNTIMES adds io.containerd.runc.v2.
test-matrix: all $(CRI_BIN)
	@hack/test-matrix.sh

# The cgroup tests in a pure cgroup v2 QEMU guest (hack/cgv2-vm.sh runs hack/cgv2-guest.sh inside).
test-cgv2: all $(CRI_BIN) $(BUILD)/tests/runtime_test_cgroup $(BUILD)/tests/runtime_test_cgroup_join \
           $(BUILD)/tests/runtime_test_container
	@hack/image.sh >/dev/null
	@hack/cgv2-vm.sh
