# SPDX-License-Identifier: BSD-3-Clause
# `make` builds ./tlswatch; `sudo make test` installs what the tests need,
# builds and runs every test. V=1 shows the commands.

OUT := build
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CFLAGS ?= -g -O2
WARN := -Wall -Wextra -Werror
override CFLAGS += $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP -Iuser -I$(OUT)
# clang 14's default CPU rejects the variable-length bpf_skb_load_bytes
# copies that v3 accepts.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
	-MMD -MP -Ivmlinux/x86 -Ibpf
# libbpf statically, from Debian's libbpf-dev; libelf, zlib, libpcap,
# libcrypto (MD5 and SHA-256 for the JA3 and JA4 fingerprints) and
# libmicrohttpd (--metrics) from the host (Debian's libpcap.a needs libsystemd, which has no static
# form).
# Expanded when linking, not when this file is read, so that `make deps
# tlswatch` on a fresh machine finds the library deps just installed.
LIBBPF_A = $(or $(firstword $(wildcard /usr/lib/*/libbpf.a /usr/lib64/libbpf.a)),/usr/lib/$(shell $(CC) -print-multiarch)/libbpf.a)
LDLIBS = $(LIBBPF_A) -lelf -lz -lpcap -lcrypto -lmicrohttpd -lpthread

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(wildcard user/*.c)
LIB_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(filter-out user/main.c,$(USER_SRCS)))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.PHONY: all clean test unit golden deps test-deps demo bench overhead bpfcost \
	storm fuzz fuzz-build fuzz-smoke test-asan valgrind

all: tlswatch

tlswatch: $(OUT)/user/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/user/%.o: user/%.c | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/tlswatch.bpf.o: bpf/tlswatch.bpf.c | $(OUT)/user
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tlswatch.skel.h: $(OUT)/tlswatch.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name tlswatch_bpf > $@

$(OUT)/user/loader.o: $(OUT)/tlswatch.skel.h

$(OUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB_OBJS) -lcmocka $(LDLIBS)

$(OUT)/user $(OUT)/tests:
	$(Q)mkdir -p $@

# Packages the build (deps) and the tests (test-deps) need on Debian 12;
# no-ops when present.
deps:
	$(Q)tests/install-deps.sh build

test-deps:
	$(Q)tests/install-deps.sh test

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

golden: tlswatch
	$(Q)tests/golden/run.sh

# A throwaway nginx, real clients failing, tlswatch watching (root).
demo: test-deps
	$(Q)$(MAKE) --no-print-directory tlswatch
	$(Q)tests/demo.sh

test: test-deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) fuzz-build
	$(Q)tests/run-all.sh $(UNIT_BINS)

# Benchmarks (bench/README.md): not tests, and slow.
bench: tlswatch
	$(Q)$(MAKE) --no-print-directory -C bench all

overhead: tlswatch
	$(Q)$(MAKE) --no-print-directory -C bench overhead

bpfcost:
	$(Q)$(MAKE) --no-print-directory -C bench bpfcost

storm: tlswatch
	$(Q)$(MAKE) --no-print-directory -C bench storm

# libFuzzer targets (tests/fuzz/README.md), built with clang and the
# address and undefined sanitizers into their own directory: the objects
# never mix with the gcc build above. The library is an archive so that a
# target pulls in only what it uses (not the BPF loader, say).
FUZZ_OUT := $(OUT)/fuzz
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(WARN) -std=gnu11 \
	-D_GNU_SOURCE -Iuser
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIB_OBJS := $(patsubst user/%.c,$(FUZZ_OUT)/user/%.o,$(filter-out user/main.c user/loader.c,$(USER_SRCS)))
FUZZ_TIME ?= 60
FUZZ_JOBS ?= 1

$(FUZZ_OUT)/user/%.o: user/%.c | $(FUZZ_OUT)/user
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/libtlswatch.a: $(FUZZ_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OUT)/libtlswatch.a
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_OUT)/libtlswatch.a $(LDLIBS)

$(FUZZ_OUT)/user:
	$(Q)mkdir -p $@

fuzz-build: $(FUZZ_TARGETS)

# Each target for FUZZ_TIME seconds (FUZZ_JOBS at once), from seeds made from the golden
# captures; new corpus entries and crashes stay under $(FUZZ_OUT).
fuzz: fuzz-build
	$(Q)FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_TARGETS)

# A few seconds each, and every committed regression input replayed.
fuzz-smoke: fuzz-build
	$(Q)tests/fuzz/smoke.sh $(FUZZ_TARGETS)

# The whole suite again, built with clang under ASan and UBSan in a copy
# of the tree (tests/asan.sh); any report fails it.
test-asan: test-deps
	$(Q)tests/asan.sh

# A long offline read under valgrind: no error, no leak (slow).
valgrind: tlswatch
	$(Q)tests/valgrind.sh

clean:
	$(Q)rm -rf $(OUT) tlswatch

-include $(wildcard $(OUT)/*.d $(OUT)/user/*.d $(OUT)/tests/*.d $(FUZZ_OUT)/user/*.d)
