# libFuzzer targets (fuzz/README.md).  Paths given to a target are absolute:
# the CLI target runs in a temporary directory of its own.  `make fuzz` installs clang if needed
# (scripts/setup fuzz), builds the library and each target with clang,
# libFuzzer, ASan and UBSan into FUZZ_BUILD, and runs every target for
# FUZZ_SECONDS from the seed corpus in fuzz/corpus/<target>/ (new inputs go
# to FUZZ_BUILD, never into the repository).  A crash, a leak or a sanitizer
# report fails it; the input is saved as FUZZ_BUILD/artifacts/<target>-*.

FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := config process resources state cli id
FUZZ_VARS := CC=clang BUILD=$(FUZZ_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" HARDEN=-fPIC \
             SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"

.PHONY: fuzz fuzz-build

fuzz:
	scripts/setup fuzz
	$(MAKE) $(FUZZ_VARS) fuzz-build
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
		case $$t in config|state) len=16384;; *) len=4096;; esac; \
		$(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-close_fd_mask=3 -max_len=$$len \
			-artifact_prefix=$(abspath $(FUZZ_BUILD))/artifacts/$$t- \
			$(abspath $(FUZZ_BUILD))/corpus/$$t $(CURDIR)/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log \
		|| { tail -60 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
		grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" $(FUZZ_BUILD)/fuzz_$$t.log; \
	done

# Inside the sub-make BUILD is FUZZ_BUILD.  The CLI target includes main.c
# itself (for its static option tables), so main.o stays out.
fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_cli: fuzz/fuzz_cli.c $(filter-out %/main.o,$(CLI_OBJ)) $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc/cli -Wno-missing-prototypes -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(filter-out %/main.o,$(CLI_OBJ)) $(BUILD)/libberth.a $(LIBS)

$(BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c $(BUILD)/libberth.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(BUILD)/libberth.a $(LIBS)
