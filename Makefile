# profiled — plain make, pkg-config, warnings as errors.
#
#   make deps          install build and test dependencies (Debian, as root)
#   make               build build/profiled
#   make test          unit tests, fuzz regression inputs, black-box tests, with
#                      the image's AppArmor parser (builds the image when missing)
#   make test-vm       AppArmor and advise on real kernels under QEMU (part of make test)
#   make asan          the same under AddressSanitizer + UBSan
#   make fuzz          run every fuzz target for FUZZ_SECONDS each
#   make soak          thousands of kubelet ConfigMap swaps (SOAK_SECONDS, 360 s)
#   make valgrind      the black-box tests with the daemon under valgrind memcheck
#   make run           run the agent locally on the example profiles
#   make bench         benchmarks: figures and ratios against a baseline
#   make bench-footprint  the idle daemon's memory, CPU and wakeups
#   make format-check  clang-format check
#   make image         the Dockerfile built with podman for linux/amd64 and linux/arm64:
#                      build/image/{ref,profiled.tar} (amd64) and a manifest list
#   make ARCH=arm64    cross-build build-arm64/profiled (Debian's cross compiler + arm64 sysroot)
#   make test-arm64    the arm64 build's unit and black-box tests under qemu-user
#   make test-vm-arm64 AppArmor through the arm64 build on Debian's arm64 kernel (QEMU)
#   make cluster-up    a single-node Kubernetes on this machine (root; test/cluster/)
#   make cluster-down  removes it, every process, mount and device it made
#   make e2e           the end-to-end suite on that cluster
#   make k8s-build     only build the pinned Kubernetes (cached in /var/tmp/profiled-k8s)
#   make test-realapi  the API cases without fault injection against a real etcd +
#                      kube-apiserver of its own (test/bats/realapi.bats; part of make
#                      test when the Kubernetes binaries are built)
#   make install       honours DESTDIR and PREFIX

# make ARCH=arm64: Debian's cross compiler (gcc-aarch64-linux-gnu) against an
# arm64 sysroot of Debian's -dev packages (test/tools/arm64-sysroot.sh), into
# build-arm64. The host's dpkg state is not touched (see the script).
ARCH ?=
ifeq ($(ARCH),arm64)
ifeq ($(origin SYSROOT),undefined)
SYSROOT := $(shell sh test/tools/arm64-sysroot.sh)
endif
BUILD ?= build-arm64
CC := aarch64-linux-gnu-gcc --sysroot=$(SYSROOT)
AR := aarch64-linux-gnu-ar
PKG_CONFIG := PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) \
	PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/aarch64-linux-gnu/pkgconfig:$(SYSROOT)/usr/share/pkgconfig pkg-config
else ifneq ($(ARCH),)
$(error ARCH=$(ARCH): only arm64 is supported (or leave ARCH unset for the host's))
endif

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 30

PKGS := libseccomp libcjson libapparmor libcrypto libcurl yaml-0.1 libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# libinotifytools ships no .pc file in Debian.
INOTIFY_LIBS := -linotifytools

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wformat=2 -Wformat-security -Wundef -Wvla -Wwrite-strings -Wpointer-arith \
	-Wcast-align -Wnull-dereference -Wimplicit-fallthrough
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) $(PKG_CFLAGS) \
	-DPROFILED_VERSION='"$(VERSION)"' $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SAN) $(LDFLAGS)
LIBS := $(PKG_LIBS) $(INOTIFY_LIBS)

LIB_SRC := $(wildcard lib/*.c)
AGENT_SRC := $(wildcard agent/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
# Every agent object but main goes into libprofiled-agent.a, so that unit
# tests can link the agent's logic as they link lib/.
AGENT_MAIN_OBJ := $(BUILD)/agent/main.o
AGENT_LIB_OBJ := $(filter-out $(AGENT_MAIN_OBJ),$(AGENT_OBJ))
UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FORMAT_FILES := $(wildcard lib/*.[ch] agent/*.[ch] test/unit/*.[ch] test/fuzz/*.[ch])

ARM64_PHONY := test-arm64 test-vm-arm64 deps-arm64
.PHONY: $(ARM64_PHONY) cluster-deps image image-for-tests cluster-up cluster-down e2e k8s-build test-realapi
.PHONY: all deps deps-check-quiet test unit regress bats faults-long test-vm asan fuzz fuzz-build run install bench bench-footprint soak valgrind \
	clean format format-check check-deps

all: $(BUILD)/profiled

$(BUILD)/%.o: %.c $(wildcard lib/*.h agent/*.h) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libprofiled.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libprofiled-agent.a: $(AGENT_LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/profiled: $(AGENT_MAIN_OBJ) $(BUILD)/libprofiled-agent.a $(BUILD)/libprofiled.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

check-deps:
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	  echo "missing build dependencies: run 'make deps' (as root)"; exit 1; }

deps:
	sh test/tools/deps.sh

# --- tests -----------------------------------------------------------------

$(BUILD)/test/%: test/unit/%.c $(BUILD)/libprofiled-agent.a $(BUILD)/libprofiled.a test/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< $(BUILD)/libprofiled-agent.a \
		$(BUILD)/libprofiled.a $(LDFLAGS_ALL) $(LIBS) -lcmocka

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	  PROFILED_TEST_DATA=$(CURDIR)/test/data $$t; done

REPLAY_BIN := $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz-replay/%)

# Replays every kept fuzz input (seeds and past crashes) through the
# fuzz targets built as plain programs.
$(BUILD)/fuzz-replay/%: test/fuzz/%.c test/fuzz/replay.c $(BUILD)/libprofiled.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -o $@ $< test/fuzz/replay.c \
		$(BUILD)/libprofiled.a $(LDFLAGS_ALL) $(LIBS)

regress: $(REPLAY_BIN)
	@set -e; for t in $^; do n=$$(basename $$t); \
	  $$t test/fuzz/corpus/$$n test/fuzz/regressions/$$n; done

bats: $(BUILD)/profiled
	PROFILED=$(CURDIR)/$(BUILD)/profiled bats --timing test/bats

# The fault tests with the kill -9 loop at full length (1000 runs).
faults-long: $(BUILD)/profiled
	FAULTS_KILL_ITERATIONS=$${FAULTS_KILL_ITERATIONS:-1000} PROFILED=$(CURDIR)/$(BUILD)/profiled \
		bats --timing test/bats/faults.bats

# AppArmor on a real kernel: Debian's kernel under QEMU (TCG), with the
# image's own userspace (PROFILED_VM_IMAGE, else build/image/ref, built with
# `make image` when missing; PROFILED_VM_USERSPACE=host: the host's parser
# and the built profiled). matrix.sh runs on Debian 12's, 13's and
# unstable's kernels; the others stay on the default (Debian 12) kernel.
test-vm: $(BUILD)/profiled
	bash test/vm/matrix.sh $(CURDIR)/$(BUILD)/profiled
	bash test/vm/unload.sh $(CURDIR)/$(BUILD)/profiled
	bash test/vm/trust.sh $(CURDIR)/$(BUILD)/profiled
	bash test/vm/advise.sh $(CURDIR)/$(BUILD)/profiled

# The arm64 build under qemu-user: the unit tests and the check / run --once
# black-box tests (test/tools/test-arm64.sh). A test build (openat2 and
# seccomp(2) stand-ins, as make valgrind's): qemu-user 7.2 has neither.
test-arm64: deps-arm64
	nice -n 10 $(MAKE) ARCH=arm64 BUILD=build-arm64-qemu CFLAGS="-DPD_QEMU_USER_BUILD" all \
		$(UNIT_BIN:$(BUILD)/%=build-arm64-qemu/%)
	BUILD=build-arm64-qemu bash test/tools/test-arm64.sh

# AppArmor through the production arm64 build on Debian's arm64 kernel
# (qemu-system-aarch64, TCG).
test-vm-arm64: deps-arm64
	nice -n 10 $(MAKE) ARCH=arm64 all
	bash test/vm/arm64.sh $(CURDIR)/build-arm64/profiled

deps-arm64:
	sh test/tools/deps.sh arm64
	@sh test/tools/arm64-sysroot.sh >/dev/null

# Everything, with one closing "N passed, N failed, N skipped" line.
test: deps-check-quiet image-for-tests
	$(MAKE) all $(UNIT_BIN) $(REPLAY_BIN)
	BUILD=$(BUILD) bash test/run-all.sh

# The tests run the image's AppArmor parser and abstractions
# (test/image/with-parser.sh): build the image when it is missing (podman's
# layer cache makes a rebuild cheap). Without podman the tests say loudly
# that they run the host's parser; PROFILED_IMAGE_REQUIRE=1 (CI) fails.
image-for-tests:
	@if [ -s build/image/ref ] && podman image exists "$$(cat build/image/ref)" 2>/dev/null; then :; \
	elif command -v podman >/dev/null || [ "$${PROFILED_IMAGE_REQUIRE:-0}" = 1 ]; then $(MAKE) image; \
	else echo "# SKIP: no podman: the AppArmor tests will run the HOST's parser, not the image's"; fi

deps-check-quiet:
	@sh test/tools/deps.sh

# LeakSanitizer stays on (a leak turns the exit status into 23, which every
# test checking a status catches: test/bats/startup.bats covers the start-up
# error paths), and UBSan stops at the first report.
ASAN_RUN_OPTIONS := detect_leaks=1:exitcode=23:abort_on_error=0
UBSAN_RUN_OPTIONS := halt_on_error=1:print_stacktrace=1
asan:
	ASAN_OPTIONS=$(ASAN_RUN_OPTIONS) LSAN_OPTIONS=exitcode=23 UBSAN_OPTIONS=$(UBSAN_RUN_OPTIONS) \
	PROFILED_TOOLS_TESTED=$(PROFILED_TOOLS_TESTED) $(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		HARDEN="-fPIE" test

# Long soak: kubelet swaps of random valid and invalid profiles; end state,
# RSS and open fds checked (a 30 s version runs in make test).
SOAK_SECONDS ?= 360
SOAK_RATE ?= 8
soak: all
	PROFILED=$(CURDIR)/$(BUILD)/profiled bash test/soak/soak.sh --seconds $(SOAK_SECONDS) --swaps-per-second $(SOAK_RATE)

# The black-box tests with every daemon under valgrind memcheck; logs in
# $(BUILD)/valgrind.  VALGRIND_TESTS narrows the bats files (CI runs a subset).
VALGRIND_TESTS ?= test/bats
# valgrind 3.19 (Debian 12) lacks openat2 and seccomp(2): this build stands
# in for both (lib/scan.c, lib/seccomp.c); production builds never do.
valgrind: image-for-tests
	$(MAKE) BUILD=build-valgrind OPT="-O1 -g" CFLAGS="-DPD_VALGRIND_BUILD" all
	PROFILED=$(CURDIR)/build-valgrind/profiled VALGRIND_LOGS=$(CURDIR)/build-valgrind/valgrind \
		bash test/image/with-parser.sh bash test/tools/valgrind.sh $(VALGRIND_TESTS)

# --- fuzzing ---------------------------------------------------------------

FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	$(PKG_CFLAGS) -DPROFILED_VERSION='"fuzz"'

$(BUILD)/fuzz/%: test/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

fuzz-build: $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_SRC:test/fuzz/%.c=%); do \
	  mkdir -p $(BUILD)/fuzz-corpus/$$t $(BUILD)/fuzz-tmp; \
	  echo "== fuzzing $$t for $(FUZZ_SECONDS)s"; \
	  TMPDIR=$(CURDIR)/$(BUILD)/fuzz-tmp $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz-corpus/$$t \
	    test/fuzz/corpus/$$t; done

# --- benchmarks: figures, never assertions ------------------------------------

# Knobs are environment variables (BENCH_ONLY, BENCH_AA_COUNTS, ...): see
# docs/performance.md.
bench: deps-check-quiet $(BUILD)/profiled
	bash test/bench/run.sh

# The idle daemon's memory, CPU and wakeups with 500 managed profiles (env:
# SECCOMP, APPARMOR, WINDOW seconds; see the script's header).
bench-footprint: deps-check-quiet
	$(MAKE) all
	PROFILED=$(CURDIR)/$(BUILD)/profiled bash test/bench/bench-footprint.sh

# --- running locally ---------------------------------------------------------

run: deps-check-quiet
	$(MAKE) all
	sh test/tools/run-local.sh $(BUILD)/profiled

# --- image and test cluster (test/cluster/) --------------------------------------

cluster-deps:
	sh test/tools/deps.sh cluster

image: cluster-deps
	sh test/cluster/image.sh

k8s-build:
	sh test/cluster/build.sh

cluster-up: cluster-deps
	@[ -s build/image/ref ] || $(MAKE) image
	bash test/cluster/up.sh

cluster-down:
	bash test/cluster/down.sh

e2e: cluster-up
	bash test/e2e/run.sh

# The API cases of api.bats and ready.bats that need no fault injection, on a
# private etcd + kube-apiserver (test/cluster/controlplane.sh; no root, no
# kubelet, free ports): may not skip here.
test-realapi: k8s-build
	$(MAKE) all
	@tap=$$(mktemp); PROFILED_REALAPI_REQUIRE=1 PROFILED=$(CURDIR)/$(BUILD)/profiled \
	  PROFILED_TEST_DATA=$(CURDIR)/test/data bats --tap --timing test/bats/realapi.bats | tee $$tap; \
	s=$$(grep -c '^ok .*# skip' $$tap); p=$$(($$(grep -c '^ok ' $$tap) - s)); f=$$(grep -c '^not ok ' $$tap); \
	rm -f $$tap; echo "$$p passed, $$f failed, $$s skipped"; [ $$f -eq 0 ] && [ $$((p + s)) -gt 0 ]

# --- housekeeping ------------------------------------------------------------

install: $(BUILD)/profiled
	install -D -m 0755 $(BUILD)/profiled $(DESTDIR)$(BINDIR)/profiled

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format: ok"

clean:
	rm -rf build build-asan build-arm64 build-arm64-qemu run
