# mk/mpy.mk - wgpy on MicroPython: the C core as a plain shared library for MicroPython's
# `ffi` (native, and cross-built for the router CPUs run under qemu-user), and the
# MicroPython build the tests run (../shared/micropython). Included by the Makefile.
#
#   make libwgcore     build/libwgcore.so (this machine)
#   make libwgcore-cross  build/mipsel/libwgcore.so, build/armhf/libwgcore.so
#   make mpy-deps      MicroPython 1.28 (+ mipsel/armhf cross binaries) into
#                      /var/cache/wgpy-micropython, when ../shared/micropython exists
#   make bench-runtime wgpyd on CPython beside wgpyd on MicroPython and wireguard-go (root)

BUILD ?= build
CORE_DIR ?= src/core
# The same sources and flags as the cffi extension (src/wgpy/_core_build.py), except
# -fvisibility=hidden: dlsym must see the wgc_* symbols.
LIBWGCORE_SRC := $(filter-out $(CORE_DIR)/selftest.c,$(wildcard $(CORE_DIR)/*.c))
LIBWGCORE_FLAGS := -std=c99 -O2 -Wall -Wextra -pthread -fPIC -shared $(WGC_CFLAGS)
LIBWGCORE_CROSS := $(BUILD)/mipsel/libwgcore.so $(BUILD)/armhf/libwgcore.so

MPY_DIR ?= ../shared/micropython

.PHONY: libwgcore libwgcore-cross mpy-deps bench-runtime

libwgcore: $(BUILD)/libwgcore.so
libwgcore-cross: $(LIBWGCORE_CROSS)

$(BUILD)/libwgcore.so: $(LIBWGCORE_SRC) $(wildcard $(CORE_DIR)/*.h)
	@mkdir -p $(@D)
	$(CC) $(LIBWGCORE_FLAGS) -o $@ $(LIBWGCORE_SRC) -lpthread

# The router CPUs, as mk/crypto.mk's cross selftest builds them.
$(BUILD)/mipsel/libwgcore.so: $(LIBWGCORE_SRC) $(wildcard $(CORE_DIR)/*.h)
	@mkdir -p $(@D)
	mipsel-linux-gnu-gcc $(LIBWGCORE_FLAGS) -march=mips32r2 -o $@ $(LIBWGCORE_SRC) -lpthread

$(BUILD)/armhf/libwgcore.so: $(LIBWGCORE_SRC) $(wildcard $(CORE_DIR)/*.h)
	@mkdir -p $(@D)
	arm-linux-gnueabihf-gcc $(LIBWGCORE_FLAGS) -march=armv7-a -mfpu=neon -mfloat-abi=hard \
	  -o $@ $(LIBWGCORE_SRC) -lpthread

# About 1-2 minutes the first time, then a no-op (the build's own stamps). Without
# ../shared the MicroPython tests skip and say why (tests/mpy/mpyrun.py).
mpy-deps:
	@if [ -x $(MPY_DIR)/build.sh ]; then ARCH="mipsel armhf" QUIET=1 nice $(MPY_DIR)/build.sh >/dev/null; \
	else echo "no $(MPY_DIR): the MicroPython tests will skip"; fi

# Not a test (prints, never asserts): RSS, TCP, 64-byte UDP and handshakes/s per runtime.
bench-runtime: apt-deps build mpy-deps libwgcore
	PYTHONPATH=tests $(PYTHON) tests/bench/bench_runtime.py $(BENCH_ARGS)

# The router package's file set for ROUTER_ARCH (mipsel: the MIPS routers; armhf), staged
# in build/stage/ROUTER_ARCH exactly as the OpenWrt package (package/wgpy/Makefile)
# installs it, through the same build-mpy.sh and install.sh; libwgcore.so stripped as
# OpenWrt's rstrip does. tests/bench/bench_package_size.py reports its size.
ROUTER_ARCH ?= mipsel
ROUTER_STRIP = $(if $(filter mipsel,$(ROUTER_ARCH)),mipsel-linux-gnu-strip,arm-linux-gnueabihf-strip)
MPY_CROSS ?= $(or $(wildcard $(MPY_PREFIX)/bin/mpy-cross),/var/cache/wgpy-micropython/bin/mpy-cross)

.PHONY: router-stage
router-stage: $(BUILD)/$(ROUTER_ARCH)/libwgcore.so
	rm -rf $(BUILD)/stage/$(ROUTER_ARCH) $(BUILD)/mpy
	sh package/wgpy/build-mpy.sh src $(BUILD)/mpy $(MPY_CROSS)
	sh package/wgpy/install.sh $(BUILD)/stage/$(ROUTER_ARCH) $(BUILD)/mpy $<
	$(ROUTER_STRIP) --strip-all $(BUILD)/stage/$(ROUTER_ARCH)/usr/lib/libwgcore.so
