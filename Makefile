# vmsnapd - one non-recursive Makefile. `make` builds build/vmsnapd,
# `make test` runs every test twice (plain, then ASan/UBSan), `make demo`
# walks the user journey. Each installs missing Debian packages first.

PKGS     := libmicrohttpd gnutls jansson yajl yaml-0.1 openssl libcurl
TESTPKGS := criterion
DEBS     := gcc make pkg-config libmicrohttpd-dev libjansson-dev libyajl-dev \
            libyaml-dev libssl-dev libcurl4-openssl-dev libcriterion-dev \
            libgnutls28-dev python3 python3-yaml openssl curl

B        ?= build
SANFLAGS ?=
CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wundef \
            -Wmissing-prototypes -Wstrict-prototypes -Wimplicit-fallthrough
CFLAGS   := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g \
            -MMD -MP -I. $(WARN) $(SANFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TESTLIBS := $(shell pkg-config --libs $(TESTPKGS) 2>/dev/null)
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

LIB_SRCS   := $(sort $(wildcard kube/*.c webhook/*.c reconciler/*.c certs/*.c))
CMD_SRCS   := $(sort $(wildcard cmd/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/kube/*.c tests/webhook/*.c \
                tests/certs/*.c tests/cmd/*.c tests/reconciler/*.c))
INTEG_SRCS := $(sort $(wildcard tests/integration/*.c))

LIB_OBJS   := $(LIB_SRCS:%.c=$(B)/obj/%.o)
CMD_OBJS   := $(CMD_SRCS:%.c=$(B)/obj/%.o)
UNIT_OBJS  := $(UNIT_SRCS:%.c=$(B)/obj/%.o)
INTEG_OBJS := $(INTEG_SRCS:%.c=$(B)/obj/%.o)

BIN   := $(B)/vmsnapd
LIB   := $(B)/libvmsnapd.a
UNIT  := $(B)/tests/unit
INTEG := $(B)/tests/integration

.PHONY: all deps check-deps test test-plain test-asan unit integration \
        scripts e2e demo bench fuzz fmt lint clean

all: check-deps
	@$(MAKE) --no-print-directory $(BIN)

# Installs what is missing, as root or through sudo.
deps:
	@sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	missing=""; for d in $(DEBS); do \
	  dpkg -s $$d >/dev/null 2>&1 || missing="$$missing $$d"; done; \
	command -v kubectl >/dev/null 2>&1 || missing="$$missing kubernetes-client"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	fi

check-deps:
	@pkg-config --exists $(PKGS) $(TESTPKGS) && command -v python3 >/dev/null \
	  && python3 -c 'import yaml' 2>/dev/null && command -v kubectl >/dev/null \
	  || $(MAKE) --no-print-directory deps

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CMD_OBJS) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(CMD_OBJS) $(LIB) $(LDLIBS)

# Unit tests link the library and every cmd/ file but main.c, so verbs
# can be tested in-process.
$(UNIT): $(UNIT_OBJS) $(filter-out $(B)/obj/cmd/main.o,$(CMD_OBJS)) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(TESTLIBS)

$(INTEG): $(INTEG_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(TESTLIBS)

unit: $(UNIT) $(BIN)
	VMSNAPD=$(abspath $(BIN)) $(UNIT) --jobs 2 $(CRITERION_FLAGS)

integration: $(INTEG) $(BIN)
	@if [ -n "$(INTEG_SRCS)" ]; then \
	  VMSNAPD=$(abspath $(BIN)) $(INTEG) --jobs 1 $(CRITERION_FLAGS); fi

# Shell tests drive the binary as users do (review, validate, certs).
scripts: $(BIN)
	VMSNAPD=$(abspath $(BIN)) tests/run-scripts.sh

e2e: $(BIN)
	@if [ -x tests/e2e/run.sh ]; then VMSNAPD=$(abspath $(BIN)) tests/e2e/run.sh; fi

test-plain: unit integration scripts e2e

test-asan:
	@ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(MAKE) --no-print-directory B=build-asan SANFLAGS="$(SAN)" test-plain

test: check-deps
	@$(MAKE) --no-print-directory test-plain
	@$(MAKE) --no-print-directory test-asan
	@echo "make test: all suites passed (plain and ASan/UBSan)"

demo: check-deps
	@$(MAKE) --no-print-directory $(BIN)
	@tools/demo.sh $(abspath $(BIN))

# Throughput, latency, memory and instructions per review against a bare
# libmicrohttpd + GnuTLS server; BENCH_SECONDS per scenario (5).
bench: check-deps
	@$(MAKE) --no-print-directory $(BIN)
	@tools/bench/run.sh $(abspath $(BIN)) $(abspath $(LIB))

# libFuzzer targets (tools/fuzz/*.c) built with clang, each run for
# FUZZ_SECONDS (30) from its seed corpus in tests/fuzz/corpus/<target>/.
FUZZ_SECONDS ?= 30
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz: check-deps
	@tools/fuzz/run.sh $(FUZZ_SECONDS) "$(FUZZ_SAN)"

fmt:
	clang-format -i $(LIB_SRCS) $(CMD_SRCS) $(UNIT_SRCS) $(INTEG_SRCS) \
	  $(wildcard */*.h)

lint:
	clang-format --dry-run --Werror $(LIB_SRCS) $(CMD_SRCS) $(wildcard */*.h)
	@! grep -nE '\b(sprintf|strcpy|strcat|strncpy|strtok|atoi)\(' \
	  $(LIB_SRCS) $(CMD_SRCS) || (echo "banned call"; exit 1)

clean:
	rm -rf build build-asan

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) \
         $(INTEG_OBJS:.o=.d)
