# ecgdl - PGXS build of the extension, plus the standalone core's unit tests,
# tools and benchmarks.
#
#   make && make install      build and install the extension
#   make unit                 build and run the core's C unit tests (no server)
#   make installcheck         pg_regress suite against a running server
#   OPTFLAGS=""               build without -march=native (portable binaries)

EXTENSION   = ecgdl
EXTVERSION  = 0.2.0
MODULE_big  = ecgdl

CORE_SRCS  := $(sort $(wildcard src/core/*.c))
GLUE_SRCS  := $(sort $(wildcard src/*.c))
OBJS        = $(GLUE_SRCS:.c=.o) $(CORE_SRCS:.c=.o)

# 0.1.0 is the first release's script, kept as it shipped; every later version is
# reached from it by the update scripts (CREATE EXTENSION runs the chain).
DATA        = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)

# pg_regress suite: sql/<name>.sql against expected/<name>.out, in this order.
REGRESS     = setup import_csv import_wfdb split oversample train classify study signals hardening security_model security_tables store rr ec57 crossval models2 realdata
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

OPTFLAGS   ?= -march=native
PG_CPPFLAGS = -I$(srcdir)/src/core
# -Wextra: the two warnings switched off here fire inside PostgreSQL's own
# headers (unused parameters of inline functions, a sign comparison in
# utils/array.h); the core is also built on its own (make unit) with the full
# -Wall -Wextra.
PG_CFLAGS   = -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
              -Wno-declaration-after-statement $(OPTFLAGS)
# no LLVM bitcode for JIT inlining: the numerics are not SQL operators
override with_llvm = no
SHLIB_LINK  = -lopenblas -lm -lpthread

EXTRA_CLEAN = build results regression.diffs regression.out

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# ---------------------------------------------------------------------------
# The pure C core, built on its own (no PostgreSQL headers on the path).
CORE_CC     ?= $(CC)
CORE_CFLAGS ?= -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra $(OPTFLAGS)
CORE_LIBS    = -lopenblas -lm -lpthread
CORE_OBJS    = $(patsubst src/core/%.c,build/core/%.o,$(CORE_SRCS))
UNIT_BINS    = $(patsubst test/core/%.c,build/unit/%,$(sort $(wildcard test/core/test_*.c)))
TOOL_BINS    = $(patsubst test/tools/%.c,build/tools/%,$(sort $(wildcard test/tools/*.c)))

build/core/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -c -o $@ $<

build/unit/%: test/core/%.c $(CORE_OBJS) test/core/unit.h
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -Itest/core -o $@ $< $(CORE_OBJS) $(CORE_LIBS)

build/tools/%: test/tools/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -o $@ $< $(CORE_OBJS) $(CORE_LIBS)

.PHONY: unit unit-build tools
unit-build: $(UNIT_BINS)
tools: $(TOOL_BINS)

# Runs every unit-test program; each prints "ok - name" / "not ok - name".
unit: unit-build
	@status=0; for t in $(UNIT_BINS); do echo "# $$t"; ./$$t || status=1; done; exit $$status

# Benchmarks (test/bench/README.md): a throwaway cluster, MIT-BIH, imbalanced-learn, PyTorch.
.PHONY: bench
bench:
	bash test/bench/bench.sh all
include test/fuzz/fuzz.mk
