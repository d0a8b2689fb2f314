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
.PHONY: all clean test unit golden deps test-deps demo bench

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
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS)
	$(Q)tests/run-all.sh $(UNIT_BINS)

# Benchmarks (bench/README.md): not tests, and slow.
bench: tlswatch
	$(Q)$(MAKE) --no-print-directory -C bench all

clean:
	$(Q)rm -rf $(OUT) tlswatch

-include $(wildcard $(OUT)/*.d $(OUT)/user/*.d $(OUT)/tests/*.d)
