# berth — see README.md.  `make` builds build/berth and build/libberth.{so,a};
# `make asan` builds the same into build-asan/ with ASan + UBSan.

CC      ?= gcc
BUILD   ?= build
PKGS    := jansson
SAN     ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wformat=2 -Wimplicit-fallthrough -Wvla -Wswitch-enum -Wno-format-nonliteral
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
OPT     ?= -O2 -g
CFLAGS  += -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(SAN) -MMD -MP -Iinclude -Isrc/lib
LDFLAGS += -pie -Wl,-z,relro -Wl,-z,now $(SAN)
LIBS    := -ljansson $(shell pkg-config --libs libseccomp 2>/dev/null || echo -lseccomp) \
           $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl) -lm

LIB_SRC := $(sort $(wildcard src/lib/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBTEST  := $(BUILD)/tests/libberth-run

PYTEST  := /usr/bin/python3 -m pytest
TESTS   ?= tests/integration

.PHONY: all asan unit integration check check-plain check-asan demo setup clean format bench

all: $(BUILD)/berth $(BUILD)/libberth.so $(BUILD)/libberth.a $(UNIT_BIN) $(LIBTEST)

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
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(BUILD)/libberth.a $(LIBS) -lcmocka

# The library driven directly, without the CLI: links the shared object.
$(LIBTEST): tests/lib/libberth-run.c $(BUILD)/libberth.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD) -lberth -Wl,-rpath,$(abspath $(BUILD))

ASAN_BUILD ?= build-asan
ASAN_VARS := BUILD=$(ASAN_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" \
             SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" HARDEN="-fPIC"

asan:
	$(MAKE) $(ASAN_VARS)

unit: all
	@for t in $(UNIT_BIN); do echo "== $$t"; $$t || exit 1; done

integration: all
	BERTH=$(abspath $(BUILD))/berth LIBBERTH_RUN=$(abspath $(LIBTEST)) $(PYTEST) -q $(TESTS)

check-plain:
	$(MAKE) unit integration

check-asan:
	$(MAKE) $(ASAN_VARS) unit integration

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
	clang-format -i $(LIB_SRC) $(CLI_SRC) src/lib/*.h include/*.h tests/unit/*.c tests/lib/*.c

clean:
	rm -rf build $(ASAN_BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
