# mk/crypto.mk - C crypto core: known-answer selftest (native, ASan/UBSan, valgrind),
# cross tests under qemu-user (MIPS32r2 BE/LE, ARMv7 with and without NEON, 32-bit
# limb variants on the host) and guest instruction counts. Included by the Makefile,
# which defines PYTHON (venv python) and BUILD.
#
#   make selftest      native build + run, the same under -fsanitize=address,undefined,
#                      and under valgrind, where the selftest's secrets are undefined so
#                      memcheck reports secret-dependent branches and addresses
#                      (selftest-slow: + X25519 x 1,000,000)
#   make cross-test    every cross variant under qemu-user, plus the 32-bit-limb host build
#   make bench-crypto  wgpy vs OpenSSL on the host, guest instructions per byte / per X25519
#   make profile-dp    the data path under qemu-user: instructions and syscalls per packet
#   make cross-deps    apt-get the cross compilers, qemu-user and valgrind if missing

PYTHON ?= .venv/bin/python
BUILD ?= build

CORE_DIR := src/core
# The crypto primitives only: the data path (datapath*.c, dp_*.c) is not part of the selftest.
CORE_SRC := $(filter-out $(CORE_DIR)/selftest.c $(CORE_DIR)/datapath%.c $(CORE_DIR)/dp_%.c,\
  $(wildcard $(CORE_DIR)/*.c))
CORE_HDR := $(wildcard $(CORE_DIR)/*.h)
VECTOR_FILES := $(wildcard tests/vectors/*.json)
# gen_vectors.py is stdlib-only: fall back to the system python before the venv exists.
GEN_PYTHON = $(firstword $(wildcard $(PYTHON)) python3)

CRYPTO_CFLAGS := -std=c99 -O2 -Wall -Wextra -I$(CORE_DIR) -I$(BUILD)
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

MIPS_CC := mips-linux-gnu-gcc
MIPSEL_CC := mipsel-linux-gnu-gcc
ARM_CC := arm-linux-gnueabihf-gcc
QEMU_MIPS := qemu-mips -cpu 24Kf -L /usr/mips-linux-gnu
QEMU_MIPSEL := qemu-mipsel -cpu 24Kf -L /usr/mipsel-linux-gnu
QEMU_ARM := qemu-arm -L /usr/arm-linux-gnueabihf

ARMV7_NEON := -march=armv7-a -mfpu=neon -mfloat-abi=hard
ARMV7_PORTABLE := -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -DWGC_PORTABLE
LIMBS_32 := -DWGC_POLY1305_32 -DWGC_X25519_32 -DWGC_PORTABLE

CROSS_APT := gcc-mips-linux-gnu gcc-mipsel-linux-gnu gcc-arm-linux-gnueabihf \
  libc6-dev-mips-cross libc6-dev-mipsel-cross libc6-dev-armhf-cross qemu-user valgrind
CROSS_CMDS := $(MIPS_CC) $(MIPSEL_CC) $(ARM_CC) qemu-mips qemu-mipsel qemu-arm valgrind

.PHONY: selftest selftest-slow cross-test cross-deps bench-crypto profile-dp

$(BUILD)/vectors.h: tests/cross/gen_vectors.py $(VECTOR_FILES)
	@mkdir -p $(BUILD)
	$(GEN_PYTHON) tests/cross/gen_vectors.py $@

$(BUILD)/selftest: $(CORE_SRC) $(CORE_HDR) $(CORE_DIR)/selftest.c $(BUILD)/vectors.h
	$(CC) $(CRYPTO_CFLAGS) -g -o $@ $(CORE_SRC) $(CORE_DIR)/selftest.c

$(BUILD)/selftest-san: $(CORE_SRC) $(CORE_HDR) $(CORE_DIR)/selftest.c $(BUILD)/vectors.h
	$(CC) $(CRYPTO_CFLAGS) $(SAN_FLAGS) -o $@ $(CORE_SRC) $(CORE_DIR)/selftest.c

selftest: $(BUILD)/selftest $(BUILD)/selftest-san
	@echo "== selftest: native -O2"
	$(BUILD)/selftest
	@echo "== selftest: -fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(BUILD)/selftest-san
	@echo "== selftest: valgrind"
	@valgrind -q --error-exitcode=99 --track-origins=yes $(BUILD)/selftest > $(BUILD)/selftest-valgrind.log 2>&1; \
	  rc=$$?; grep -v '^  ' $(BUILD)/selftest-valgrind.log | tail -n 40; exit $$rc

# Adds RFC 7748's 1,000,000-iteration X25519 test (about 1-2 minutes on x86).
selftest-slow: $(BUILD)/selftest
	$(BUILD)/selftest --slow

# $(call cross_one,NAME,COMPILER,FLAGS,RUNNER): build and run one selftest variant;
# a failure is recorded in $(BUILD)/cross/failed so every variant still runs.
define cross_one
	@echo "== $(1): $(2) $(3)"; mkdir -p $(BUILD)/cross/$(1); \
	if ! $(2) $(CRYPTO_CFLAGS) $(3) -o $(BUILD)/cross/$(1)/selftest $(CORE_SRC) $(CORE_DIR)/selftest.c; then \
	  echo "$(1)(build)" >> $(BUILD)/cross/failed; \
	elif ! $(4) $(BUILD)/cross/$(1)/selftest > $(BUILD)/cross/$(1)/selftest.log 2>&1; then \
	  echo "$(1)" >> $(BUILD)/cross/failed; grep -m 20 -e FAIL -e rror $(BUILD)/cross/$(1)/selftest.log; \
	fi; tail -n 1 $(BUILD)/cross/$(1)/selftest.log 2>/dev/null || true
endef

cross-test: $(BUILD)/vectors.h
	@rm -f $(BUILD)/cross/failed; mkdir -p $(BUILD)/cross
	$(call cross_one,mips32r2-be,$(MIPS_CC),-march=mips32r2,$(QEMU_MIPS))
	$(call cross_one,mips32r2-le,$(MIPSEL_CC),-march=mips32r2,$(QEMU_MIPSEL))
	$(call cross_one,armv7-neon,$(ARM_CC),$(ARMV7_NEON),$(QEMU_ARM))
	$(call cross_one,armv7-portable,$(ARM_CC),$(ARMV7_PORTABLE),$(QEMU_ARM))
	$(call cross_one,host-32bit-limbs,$(CC),$(LIMBS_32) -g,)
	@if [ -s $(BUILD)/cross/failed ]; then \
	  echo "cross-test FAILED: $$(tr '\n' ' ' < $(BUILD)/cross/failed)"; exit 1; fi; \
	echo "cross-test: all variants passed"

cross-deps:
	@missing=""; \
	for c in $(CROSS_CMDS); do command -v $$c >/dev/null 2>&1 || missing=yes; done; \
	for p in $(CROSS_APT); do dpkg -s $$p >/dev/null 2>&1 || missing=yes; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing cross toolchains / qemu-user / valgrind"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $(CROSS_APT); \
	fi

# ---- instruction counting: a tiny TCG plugin + a bench driver per guest ----

$(BUILD)/insn_plugin.so: tests/cross/insn_plugin.c tests/cross/qemu_plugin_api.h
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -shared -fPIC -o $@ $<

BENCH_TARGETS := $(BUILD)/bench/mips32r2-be $(BUILD)/bench/mips32r2-le \
  $(BUILD)/bench/armv7-neon $(BUILD)/bench/armv7-portable

$(BUILD)/bench/mips32r2-be: $(CORE_SRC) $(CORE_HDR) tests/bench/bench_core.c
	@mkdir -p $(@D)
	$(MIPS_CC) $(CRYPTO_CFLAGS) -march=mips32r2 -o $@ $(CORE_SRC) tests/bench/bench_core.c
$(BUILD)/bench/mips32r2-le: $(CORE_SRC) $(CORE_HDR) tests/bench/bench_core.c
	@mkdir -p $(@D)
	$(MIPSEL_CC) $(CRYPTO_CFLAGS) -march=mips32r2 -o $@ $(CORE_SRC) tests/bench/bench_core.c
$(BUILD)/bench/armv7-neon: $(CORE_SRC) $(CORE_HDR) tests/bench/bench_core.c
	@mkdir -p $(@D)
	$(ARM_CC) $(CRYPTO_CFLAGS) $(ARMV7_NEON) -o $@ $(CORE_SRC) tests/bench/bench_core.c
$(BUILD)/bench/armv7-portable: $(CORE_SRC) $(CORE_HDR) tests/bench/bench_core.c
	@mkdir -p $(@D)
	$(ARM_CC) $(CRYPTO_CFLAGS) $(ARMV7_PORTABLE) -o $@ $(CORE_SRC) tests/bench/bench_core.c

# The same core beside OpenSSL, both called from C (needs libssl-dev's headers).
$(BUILD)/bench/native: $(CORE_SRC) $(CORE_HDR) tests/bench/bench_native.c
	@mkdir -p $(@D)
	@dpkg -s libssl-dev >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libssl-dev; }
	$(CC) $(CRYPTO_CFLAGS) -o $@ $(CORE_SRC) tests/bench/bench_native.c -lcrypto

# bench_crypto.py prints its method, the host table (wgpy vs cryptography/hashlib) and
# the guest instruction counts; --insn-only skips the host part (no venv needed).
bench-crypto: $(BUILD)/insn_plugin.so $(BENCH_TARGETS) $(BUILD)/bench/native
	$(BUILD)/bench/native
	$(GEN_PYTHON) tests/bench/bench_crypto.py --build $(BUILD) $(BENCH_ARGS)

# ---- the data path's per-packet profile on router CPUs (issue 18) ----
# Static drivers (so nm sees libc too) of the real dp_*.c, with debug info for nm -l's
# file names (DWARF 4: the big-endian MIPS binutils misread GCC 12's DWARF 5 line tables).

DP_SRC := $(filter-out $(CORE_DIR)/selftest.c,$(wildcard $(CORE_DIR)/*.c))
PROF_CFLAGS := $(CRYPTO_CFLAGS) -gdwarf-4 -static -pthread
PROF_TARGETS := $(BUILD)/prof/mips32r2-be $(BUILD)/prof/mips32r2-le $(BUILD)/prof/armv7

$(BUILD)/prof_plugin.so: tests/cross/prof_plugin.c tests/cross/qemu_plugin_api.h
	@mkdir -p $(BUILD)
	$(CC) -std=c11 -O2 -Wall -Wextra -pedantic -shared -fPIC -o $@ $<

$(BUILD)/prof/mips32r2-be: $(DP_SRC) $(CORE_HDR) tests/bench/prof_dp.c
	@mkdir -p $(@D)
	$(MIPS_CC) $(PROF_CFLAGS) -march=mips32r2 -o $@ $(DP_SRC) tests/bench/prof_dp.c
$(BUILD)/prof/mips32r2-le: $(DP_SRC) $(CORE_HDR) tests/bench/prof_dp.c
	@mkdir -p $(@D)
	$(MIPSEL_CC) $(PROF_CFLAGS) -march=mips32r2 -o $@ $(DP_SRC) tests/bench/prof_dp.c
$(BUILD)/prof/armv7: $(DP_SRC) $(CORE_HDR) tests/bench/prof_dp.c
	@mkdir -p $(@D)
	$(ARM_CC) $(PROF_CFLAGS) $(ARMV7_NEON) -o $@ $(DP_SRC) tests/bench/prof_dp.c

# Guest instructions per packet sent and received, by category and by symbol,
# and syscalls per packet (tests/bench/prof_dp.py prints its method).
profile-dp: $(BUILD)/prof_plugin.so $(PROF_TARGETS)
	$(GEN_PYTHON) tests/bench/prof_dp.py --build $(BUILD) $(PROF_ARGS)
