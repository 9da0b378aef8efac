# wgpy: the two commands a newcomer needs are `make demo` and `make test`.
# Everything the tests need is installed here (apt and pip), only when missing.

SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
BUILD := build
APT_PACKAGES := wireguard-go wireguard-tools iperf3 iputils-ping iproute2 valgrind shellcheck chromium zbar-tools nftables
PYTEST_ARGS ?=

.PHONY: all deps apt-deps owrt-deps venv build check test clean demo bench bench-login bench-router \
  bench-router-cpu bench-router-cpu-deps

all: build

# Debian packages, installed only when one is missing (wireguard-tools without
# recommends: it would otherwise pull a kernel image).
apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The real OpenWrt userland (libuci, ubusd, netifd, rpcd, uhttpd, pyuci/ubus bindings) that
# the router tests run against, built from ../shared/owrt's pinned sources into
# /var/cache/wgpy-owrt (idempotent; under a second when built). Without ../shared those
# tests skip and say why (tests/support/owrt.py).
OWRT_DIR ?= ../shared/owrt
owrt-deps:
	@if [ -x $(OWRT_DIR)/build.sh ]; then nice $(OWRT_DIR)/build.sh >/dev/null; \
	else echo "no $(OWRT_DIR): the tests on the real OpenWrt parts will skip"; fi

$(VENV)/.deps: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q cffi setuptools wheel pytest hypothesis cryptography playwright
	touch $@

venv: $(VENV)/.deps

# The C core is compiled into wgpy._wgcore by cffi (out-of-line API mode).
build: venv
	$(PIP) install -q --no-build-isolation -e .

deps: apt-deps cross-deps fuzz-deps owrt-deps mpy-deps build

# Fast: pure unit, known-answer and in-memory pair tests.
check: build
	$(PYTHON) -m pytest -q -m "not netns and not cross" $(PYTEST_ARGS)

# Everything, as CI runs it. pytest exit 5 (no tests collected) fails make.
test: deps
	$(PYTHON) -m pytest -q $(PYTEST_ARGS)

# The whole story on one machine, as root: a LAN behind a wgpy router, tunnelled to a
# wireguard-go VPN server. ARGS=--check verifies every step and exits 0/1 instead of
# waiting for Ctrl-C.
# The demo and the bench run outside pytest: they find the lab (tests/support) through
# PYTHONPATH, as pytest does through `pythonpath` in pyproject.toml.
demo: apt-deps build
	PYTHONPATH=tests $(PYTHON) demo/homelab.py $(ARGS)

# Tunnel benchmark: wgpyd beside wireguard-go in namespaces (iperf3, pps, handshakes, RSS).
bench: apt-deps build
	PYTHONPATH=tests $(PYTHON) tests/bench/bench_tunnel.py $(BENCH_ARGS)

# `wgpy web`'s memory under 200 concurrent wrong logins (docs/security.md).
bench-login: build
	$(PYTHON) tests/bench/bench_login.py

# What wgpy keeps resident on a throwaway OpenWrt router (../shared/owrt) with one tunnel,
# beside wireguard-go, and the latency and RSS of one status call as the page makes it.
bench-router: apt-deps owrt-deps mpy-deps build libwgcore
	PYTHONPATH=tests $(PYTHON) tests/bench/bench_router_rss.py $(BENCH_ARGS)

# TCP through kernel WireGuard, wgpyd and wireguard-go on one emulated router CPU, in one
# qemu-system boot (docs/router-cpu.md); BENCH_ARGS="--arch armhf" for ARM Cortex-A7.
bench-router-cpu:
	python3 tests/bench/bench_router_cpu.py run $(BENCH_ARGS)

# qemu-system and the guest's kernel and userland, Debian's packages for the guest
# architecture unpacked into /var/cache/wgpy-guest.
bench-router-cpu-deps: cross-deps mpy-deps
	python3 tests/bench/bench_router_cpu.py fetch $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(VENV) src/*.egg-info src/wgpy/_wgcore*.so src/wgpy/_wgcore.c

include mk/crypto.mk
include mk/fuzz.mk
include mk/mpy.mk
