# test/fuzz/fuzz.mk - libFuzzer targets over the core's parsers and decoders
# (test/fuzz/README.md), and the server under a memory checker
# (test/valgrind/README.md).  Included at the end of the top-level Makefile.
#
#   make fuzz-build            build every build/fuzz/fuzz_<name> (clang, ASan + UBSan)
#   make fuzz                  run each target for FUZZ_SECONDS (default 60)
#   make fuzz-smoke            run each target for FUZZ_SMOKE_SECONDS (default 10)
#   make fuzz-seeds            regenerate the seed corpora test/fuzz/corpus/<name>
#   make installcheck-valgrind pg_regress suite against a server under valgrind memcheck
#
# Also usable on its own: make -f test/fuzz/fuzz.mk fuzz-smoke.
# FUZZ_TARGETS=... restricts the runs to some targets (names without fuzz_),
# FUZZ_NICE=19 runs them at low priority.

# keep the including Makefile's default goal
fuzz_saved_default_goal := $(.DEFAULT_GOAL)

OPTFLAGS           ?= -march=native
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_NICE          ?= 0
FUZZ_SANITIZE      ?= -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS        ?= -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fno-omit-frame-pointer \
                      -Wall -Wextra $(OPTFLAGS)
FUZZ_LIBS          ?= -lopenblas -lm -lpthread

FUZZ_ALL_TARGETS := $(patsubst test/fuzz/fuzz_%.c,%,$(sort $(wildcard test/fuzz/fuzz_*.c)))
FUZZ_TARGETS     ?= $(FUZZ_ALL_TARGETS)
FUZZ_BINS        := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_ALL_TARGETS))
FUZZ_CORE_SRCS   := $(sort $(wildcard src/core/*.c))
FUZZ_CORE_OBJS   := $(patsubst src/core/%.c,build/fuzz/core/%.o,$(FUZZ_CORE_SRCS))
FUZZ_CORE_LIB    := build/fuzz/libecgcore_fuzz.a
FUZZ_HEADERS     := $(wildcard src/core/*.h) $(wildcard test/fuzz/*.h)

# The core, instrumented for coverage and sanitizers.  An archive, so that
# each target links only the objects it needs.
build/fuzz/core/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SANITIZE) -fsanitize=fuzzer-no-link -Isrc/core -c -o $@ $<

$(FUZZ_CORE_LIB): $(FUZZ_CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(FUZZ_CORE_LIB) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SANITIZE) -fsanitize=fuzzer -Isrc/core -Itest/fuzz \
		-o $@ $< $(FUZZ_CORE_LIB) $(FUZZ_LIBS)

build/fuzz/make_seeds: test/fuzz/make_seeds.c $(FUZZ_CORE_LIB) $(FUZZ_HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SANITIZE) -Isrc/core -Itest/fuzz \
		-o $@ $< $(FUZZ_CORE_LIB) $(FUZZ_LIBS)

.PHONY: fuzz-build fuzz fuzz-smoke fuzz-seeds installcheck-valgrind
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_NICE=$(FUZZ_NICE) bash test/fuzz/run_fuzzers.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	FUZZ_NICE=$(FUZZ_NICE) bash test/fuzz/run_fuzzers.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-seeds: build/fuzz/make_seeds
	build/fuzz/make_seeds test/fuzz/corpus

installcheck-valgrind:
	bash test/valgrind/installcheck.sh valgrind

ifneq ($(fuzz_saved_default_goal),)
.DEFAULT_GOAL := $(fuzz_saved_default_goal)
else
.DEFAULT_GOAL :=
endif
