# mk/fuzz.mk - coverage-guided fuzzing (tests/fuzz/, docs/security.md). Included by the
# Makefile, which defines PYTHON (venv python) and BUILD.
#
#   make fuzz-deps    clang + the libFuzzer/sanitizer runtime (Debian 12: clang-14,
#                     libclang-rt-14-dev) and atheris in the venv, only when missing
#   make fuzz-smoke   every target briefly (the pytest wrapper tests/fuzz/test_fuzz_smoke.py,
#                     part of make test; < 90 s in all)
#   make fuzz         every target for FUZZ_SECONDS (default 300) each, one at a time, at
#                     nice 19; new crashes land in $(BUILD)/fuzz/crashes/, figures in
#                     $(BUILD)/fuzz/report.txt
#   make fuzz-build   just the libFuzzer binaries (ASan + UBSan) in $(BUILD)/fuzz/

PYTHON ?= .venv/bin/python
BUILD ?= build
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 6
FUZZ_DIR := tests/fuzz
FUZZ_C_DIR := $(FUZZ_DIR)/c
FUZZ_OUT := $(BUILD)/fuzz
FUZZ_CORE := src/core
# Crypto primitives for every target; the data path's files for fuzz_dp_rx (which
# includes dp_recv.c itself, to reach its static receive functions).
FUZZ_CRYPTO_SRC := $(filter-out $(FUZZ_CORE)/selftest.c $(FUZZ_CORE)/datapath%.c $(FUZZ_CORE)/dp_%.c,\
  $(wildcard $(FUZZ_CORE)/*.c))
FUZZ_DP_SRC := $(filter-out $(FUZZ_CORE)/dp_recv.c,$(wildcard $(FUZZ_CORE)/datapath*.c $(FUZZ_CORE)/dp_*.c))
FUZZ_CFLAGS := -std=gnu99 -g -O1 -fno-omit-frame-pointer -I$(FUZZ_CORE) \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fsanitize-ignorelist=$(FUZZ_C_DIR)/known-ub.txt
FUZZ_C_TARGETS := fuzz_aead fuzz_batch fuzz_replay fuzz_dp_rx fuzz_cookie
FUZZ_BINS := $(addprefix $(FUZZ_OUT)/,$(FUZZ_C_TARGETS))
FUZZ_APT := clang libclang-rt-14-dev

.PHONY: fuzz-deps fuzz-build fuzz-smoke fuzz

fuzz-deps: venv
	@missing=""; for p in $(FUZZ_APT); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@$(PYTHON) -c "import atheris" 2>/dev/null || CC=clang $(PYTHON) -m pip install -q atheris

$(FUZZ_OUT)/fuzz_dp_rx: $(FUZZ_C_DIR)/fuzz_dp_rx.c $(FUZZ_CRYPTO_SRC) $(FUZZ_DP_SRC) $(wildcard $(FUZZ_CORE)/*.h) $(FUZZ_C_DIR)/known-ub.txt
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -pthread -o $@ $< $(FUZZ_CRYPTO_SRC) $(FUZZ_DP_SRC)

$(FUZZ_OUT)/%: $(FUZZ_C_DIR)/%.c $(FUZZ_CRYPTO_SRC) $(wildcard $(FUZZ_CORE)/*.h) $(FUZZ_C_DIR)/known-ub.txt
	@mkdir -p $(FUZZ_OUT)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_CRYPTO_SRC)

fuzz-build: $(FUZZ_BINS)

fuzz-smoke: fuzz-deps build fuzz-build
	$(PYTHON) -m pytest -q $(FUZZ_DIR)/test_fuzz_smoke.py

# Longer runs, one fuzzer at a time (the machine is shared), each with its own corpus dir.
fuzz: fuzz-deps build fuzz-build
	$(PYTHON) $(FUZZ_DIR)/run.py --seconds $(FUZZ_SECONDS) --build $(FUZZ_OUT) \
	  --report $(FUZZ_OUT)/report.txt
