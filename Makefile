# berth — see README.md.  `make` builds build/berth and build/libberth.{so,a};
# `make asan` builds the same into build-asan/ with ASan + UBSan.

CC      ?= gcc
BUILD   ?= build
PKGS    := jansson
SAN     ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wimplicit-fallthrough -Wvla -Wswitch-enum -Wno-format-nonliteral
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
# Small is fast here: the time goes to the kernel, and every page of code
# not mapped is one fault less.  No unwind tables (C, no exceptions; -g
# keeps .debug_frame for debuggers), unused functions dropped at link, and
# relative relocations packed (DT_RELR, where the linker has it).
OPT     ?= -Os -g
SMALL   := -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables
RELR    := $(shell echo 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null -Wl,-z,pack-relative-relocs \
             2>/dev/null && echo -Wl,-z,pack-relative-relocs)
CFLAGS  += -std=gnu11 $(OPT) $(SMALL) $(WARN) $(HARDEN) $(SAN) -MMD -MP -Iinclude -Isrc/lib
LDFLAGS += -pie -Wl,-z,relro -Wl,-z,now -Wl,--gc-sections $(RELR) $(SAN)
LIBS    := -ljansson $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp) \
           $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl)

LIB_SRC := $(sort $(wildcard src/lib/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBTEST  := $(BUILD)/tests/libberth-run
LIBCYCLES := $(BUILD)/tests/libberth-cycles

PYTEST  := /usr/bin/python3 -m pytest
TESTS   ?= tests/integration

.PHONY: all asan unit integration conformance clients check-clients load fuzz analyze check check-plain check-asan demo setup \
        clean format bench

all: $(BUILD)/berth $(BUILD)/libberth.so $(BUILD)/libberth.a $(UNIT_BIN) $(LIBTEST) $(LIBCYCLES)

$(BUILD)/obj/src/lib/%.o: CFLAGS += -fvisibility=hidden
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libberth.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libberth.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libberth.so.0 $(LDFLAGS:-pie=) -o $@ $^ $(LIBS)
	ln -sf libberth.so $(BUILD)/libberth.so.0

$(BUILD)/berth: $(CLI_OBJ) $(BUILD)/libberth.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libberth.a $(LIBS)

# Unit tests link the library's objects directly so internal functions are reachable.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(BUILD)/libberth.a $(LIBS) -lcmocka -lm

# The library driven directly, without the CLI: links the shared object.
$(LIBTEST): tests/lib/libberth-run.c $(BUILD)/libberth.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD) -lberth -Wl,-rpath,$(abspath $(BUILD))

# One process driving many containers through the library (tests/integration/test_load.py).
$(LIBCYCLES): tests/lib/libberth-cycles.c $(BUILD)/libberth.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD) -lberth -Wl,-rpath,$(abspath $(BUILD))

ASAN_BUILD ?= build-asan
ASAN_VARS := BUILD=$(ASAN_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" SMALL="-ffunction-sections -fdata-sections" \
             SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" HARDEN="-fPIC"

asan:
	$(MAKE) $(ASAN_VARS)

unit: all
	@for t in $(UNIT_BIN); do echo "== $$t"; $$t || exit 1; done

PYENV = BERTH=$(abspath $(BUILD))/berth LIBBERTH_RUN=$(abspath $(LIBTEST)) LIBBERTH_CYCLES=$(abspath $(LIBCYCLES))

integration: all
	$(PYENV) $(PYTEST) -q $(TESTS)

# One test per MUST / MUST NOT of the OCI runtime spec (tests/conformance/COVERAGE.md).
conformance: all
	$(PYENV) $(PYTEST) -q tests/conformance

# Docker, containerd (ctr + the runc v2 shim) and Podman running containers on
# berth, each engine started privately by the tests (tests/clients, docs/engines.md).
clients: $(BUILD)/berth
	$(PYENV) $(PYTEST) -q tests/clients

check-clients: clients

# The full load figures (make check runs 50 cycles and 30 containers alive).
LOAD_CYCLES ?= 500
LOAD_ALIVE ?= 200
load: all
	LOAD_CYCLES=$(LOAD_CYCLES) LOAD_ALIVE=$(LOAD_ALIVE) $(PYENV) $(PYTEST) -q -s tests/integration/test_load.py

# clang's static analyzer over the sources; any finding fails.
analyze:
	@fail=0; for f in $(LIB_SRC) $(CLI_SRC); do \
		out=$$(clang --analyze -Xanalyzer -analyzer-output=text -std=gnu11 -D_FORTIFY_SOURCE=2 -O2 \
			-Iinclude -Isrc/lib -o /dev/null $$f 2>&1); \
		if [ -n "$$out" ]; then echo "$$out"; fail=1; fi; \
	done; \
	if [ $$fail = 0 ]; then echo "analyze: no findings in $(words $(LIB_SRC) $(CLI_SRC)) files"; fi; \
	exit $$fail

check-plain:
	$(MAKE) unit integration conformance clients

# Every sanitizer report, a leak included, lands in SAN_LOGS and fails the run
# (tests that expect berth to fail would not notice its exit status alone).
SAN_LOGS := $(abspath $(ASAN_BUILD))/sanitizer-reports
check-asan:
	rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	ASAN_OPTIONS=detect_leaks=1:exitcode=86:log_path=$(SAN_LOGS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$(SAN_LOGS)/ubsan \
		$(MAKE) -k $(ASAN_VARS) unit integration conformance clients; s=$$?; \
	if [ -n "$$(ls -A $(SAN_LOGS))" ]; then \
		echo "== sanitizer reports in $(SAN_LOGS):"; cat $(SAN_LOGS)/*; exit 1; fi; \
	exit $$s

setup:
	scripts/setup

check: setup
	$(MAKE) check-plain
	$(MAKE) check-asan

demo: setup all
	scripts/demo

# berth side by side with crun and runc (bench/README.md): rewrites
# bench/results/ and the README's figures.  QUICK=1: a ~30 s smoke run into
# $(BUILD)/bench-quick/ that leaves them alone.
bench:
	scripts/setup bench
	$(MAKE) $(BUILD)/berth
	bench/bench.sh $(if $(filter-out 0,$(QUICK)),--quick --results $(BUILD)/bench-quick,--results bench/results) $(BUILD)/berth
	$(if $(filter-out 0,$(QUICK)),,bench/update-readme)

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) src/lib/*.h include/*.h tests/unit/*.[ch] tests/lib/*.c

clean:
	rm -rf build $(ASAN_BUILD) $(FUZZ_BUILD)

include fuzz/fuzz.mk

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
