# ecgdl - PGXS build of the extension, plus the standalone core's unit tests,
# tools and benchmarks.
#
#   make && make install      build and install the extension
#   make unit                 build and run the core's C unit tests (no server)
#   make installcheck         pg_regress suite against a running server
#   OPTFLAGS=""               build without -march=native (portable binaries; the
#                             hot kernels still pick AVX2 / AVX-512 at run time)
#   WERROR=1                  warnings are errors (CI)

EXTENSION   = ecgdl
EXTVERSION  = 0.5.0
MODULE_big  = ecgdl

CORE_SRCS  := $(sort $(wildcard src/core/*.c))
GLUE_SRCS  := $(sort $(wildcard src/*.c))
OBJS        = $(GLUE_SRCS:.c=.o) $(CORE_SRCS:.c=.o)

# 0.1.0 is the first release's script, kept as it shipped; every later version is
# reached from it by the update scripts (CREATE EXTENSION runs the chain).
DATA        = sql/$(EXTENSION)--0.1.0.sql $(wildcard sql/$(EXTENSION)--*--*.sql)

# pg_regress suite: sql/<name>.sql against expected/<name>.out, in this order.
REGRESS     = setup import_csv import_wfdb split oversample train classify study signals hardening security_model security_tables store rr ec57 crossval models2 realdata shards plots explain report jobs augment interpatient qrs2 crossval2 experts
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

OPTFLAGS   ?= -march=native
WERROR     ?=
werror_flag = $(if $(filter 1 yes true,$(WERROR)),-Werror)

# The core's flags: the SAME in the server library and in the standalone builds
# (unit tests, tools), so the unit tests check the numerics the server runs.
CORE_CFLAGS ?= -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -g -Wall -Wextra $(OPTFLAGS)
override CORE_CFLAGS += $(werror_flag)

PG_CPPFLAGS = -I$(srcdir)/src/core
# -Wextra: the warnings switched off here fire inside PostgreSQL's own
# headers and macros (unused parameters of inline functions, a sign comparison
# in utils/array.h, PG_TRY's own flag "might be clobbered by longjmp"); the
# core is built with the full -Wall -Wextra (CORE_CFLAGS).
PG_CFLAGS   = -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-clobbered \
              -Wno-declaration-after-statement $(OPTFLAGS) $(werror_flag)
# no LLVM bitcode for JIT inlining: the numerics are not SQL operators
override with_llvm = no
SHLIB_LINK  = -lopenblas -lm -lpthread

EXTRA_CLEAN = build results regression.diffs regression.out

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the core's objects in the library: CORE_CFLAGS (plus position-independent
# code), not the server's CFLAGS; no PostgreSQL headers on their path
$(CORE_SRCS:.c=.o): override CFLAGS = $(CORE_CFLAGS) $(CFLAGS_SL)
$(CORE_SRCS:.c=.o): override CPPFLAGS = -I$(srcdir)/src/core
# PGXS tracks no header dependencies: every object of the library is rebuilt
# when a header changes (a core header's constants reach the glue too)
$(OBJS): $(wildcard src/*.h src/core/*.h)

# ---------------------------------------------------------------------------
# The pure C core, built on its own (no PostgreSQL headers on the path).
CORE_CC     ?= $(CC)
CORE_LIBS    = -lopenblas -lm -lpthread
CORE_OBJS    = $(patsubst src/core/%.c,build/core/%.o,$(CORE_SRCS))
UNIT_BINS    = $(patsubst test/core/%.c,build/unit/%,$(sort $(wildcard test/core/test_*.c)))
TOOL_BINS    = $(patsubst test/tools/%.c,build/tools/%,$(sort $(wildcard test/tools/*.c)))

build/core/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -c -o $@ $<

build/unit/%: test/core/%.c $(CORE_OBJS) $(wildcard test/core/*.h)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -Itest/core -o $@ $< $(CORE_OBJS) $(CORE_LIBS)

build/tools/%: test/tools/%.c $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Isrc/core -o $@ $< $(CORE_OBJS) $(CORE_LIBS)

# The same core built portable (OPTFLAGS="", as the Debian package builds it:
# the kernels pick their AVX2 / AVX-512 version at run time) and built for
# x86-64-v3 (AVX2 + FMA: what the portable build runs on a CPU without
# AVX-512), and a check that both compute this build's bits, and that
# OpenBLAS's choice of kernels does not matter: training and inference
# fingerprints of the built-in models (test/tools/kernel_fingerprint.c).
KERNEL_VARIANTS = portable x86-64-v3
build/variant/portable/%: OPTFLAGS =
build/variant/x86-64-v3/%: OPTFLAGS = -march=x86-64-v3
define variant_rules
build/variant/$(1)/core/%.o: src/core/%.c $$(wildcard src/core/*.h)
	@mkdir -p $$(dir $$@)
	$$(CORE_CC) $$(CORE_CFLAGS) -Isrc/core -c -o $$@ $$<
build/variant/$(1)/tools/%: test/tools/%.c $$(patsubst src/core/%.c,build/variant/$(1)/core/%.o,$$(CORE_SRCS))
	@mkdir -p $$(dir $$@)
	$$(CORE_CC) $$(CORE_CFLAGS) -Isrc/core -o $$@ $$< $$(filter %.o,$$^) $$(CORE_LIBS)
endef
$(foreach v,$(KERNEL_VARIANTS),$(eval $(call variant_rules,$(v))))

# OpenBLAS picks its kernels per CPU model (OPENBLAS_CORETYPE forces one): the
# models must not depend on that choice - the baseline did while its dense
# layers called sgemm (issue 16: other figures on Intel AVX-512 and AMD Zen 4)
BLAS_CORETYPES = SkylakeX Haswell Zen Prescott

# prints "ok - ..." / "not ok - ..." per variant and model, and per OpenBLAS kernel set
.PHONY: portable-check
portable-check: build/tools/kernel_fingerprint $(KERNEL_VARIANTS:%=build/variant/%/tools/kernel_fingerprint)
	@./build/tools/kernel_fingerprint >build/fingerprint.native || exit 1; \
	 for v in $(KERNEL_VARIANTS); do \
		./build/variant/$$v/tools/kernel_fingerprint >build/fingerprint.$$v || exit 1; \
		./build/variant/$$v/tools/kernel_fingerprint --threads 1 >build/fingerprint.$$v.1 || exit 1; \
		while read -r arch rest; do \
			p=$$(grep "^$$arch " build/fingerprint.$$v | cut -d' ' -f2-); \
			p1=$$(grep "^$$arch " build/fingerprint.$$v.1 | cut -d' ' -f2-); \
			if [ "$$rest" = "$$p" ] && [ "$$p" = "$$p1" ]; then \
				echo "ok - $$v build computes the native build's bits: $$arch ($$rest)"; \
			else \
				echo "not ok - $$v build computes the native build's bits: $$arch"; \
				echo "  native [$$rest] $$v [$$p] $$v, 1 thread [$$p1]" >&2; \
			fi; \
		done <build/fingerprint.native; \
	 done; \
	 for c in $(BLAS_CORETYPES); do \
		OPENBLAS_CORETYPE=$$c ./build/tools/kernel_fingerprint >build/fingerprint.blas-$$c || exit 1; \
		if cmp -s build/fingerprint.native build/fingerprint.blas-$$c; then \
			echo "ok - same bits with OpenBLAS's $$c kernels (OPENBLAS_CORETYPE=$$c)"; \
		else \
			echo "not ok - same bits with OpenBLAS's $$c kernels (OPENBLAS_CORETYPE=$$c)"; \
			diff build/fingerprint.native build/fingerprint.blas-$$c >&2; \
		fi; \
	 done

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
# Scale-out: postgres_fdw and PL/Proxy over 1, 2 and 3 shards (clusters of its own).
.PHONY: bench-shards
bench-shards:
	bash test/bench/shards_bench.sh
include test/fuzz/fuzz.mk
