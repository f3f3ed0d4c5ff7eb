#!/usr/bin/env bash
# Fuzz smoke test: builds the libFuzzer targets of test/fuzz (clang with
# AddressSanitizer and UBSan) and runs each for FUZZ_SMOKE_SECONDS (default
# 10) from its seed corpus.  Prints one line per target:
#   ok - fuzz <target>: N runs in S s, no crash
#   not ok - fuzz <target>: <error>; reproducer <path> (log <path>)
# Needs clang and its libFuzzer runtime (Debian: clang, libclang-rt-14-dev);
# installs them when run as root, else reports what is missing.  Needs no
# server.
set -uo pipefail
cd "$(dirname "$0")/../.."

FUZZ_CC=${FUZZ_CC:-clang}

# 1 when $FUZZ_CC can link a libFuzzer program
can_link_fuzzer() {
	local dir rc
	dir=$(mktemp -d /tmp/ecgdl-fuzzcheck.XXXXXX)
	printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }\n' >"$dir/t.c"
	"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o "$dir/t" "$dir/t.c" >/dev/null 2>&1
	rc=$?
	rm -rf "$dir"
	return $rc
}

if ! command -v "$FUZZ_CC" >/dev/null 2>&1 || ! can_link_fuzzer; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "# installing clang and libclang-rt-14-dev" >&2
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null 2>&1
	fi
	if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
		echo "not ok - fuzz: $FUZZ_CC is not installed (Debian: apt-get install clang libclang-rt-14-dev)"
		exit 1
	fi
	if ! can_link_fuzzer; then
		echo "not ok - fuzz: $FUZZ_CC cannot link -fsanitize=fuzzer,address,undefined (Debian: apt-get install libclang-rt-14-dev)"
		exit 1
	fi
fi

# fuzz.mk also works on its own, whether or not the Makefile includes it
if ! make -s -j2 -f test/fuzz/fuzz.mk fuzz-build FUZZ_CC="$FUZZ_CC" >/tmp/ecgdl-fuzz-build.$$.log 2>&1; then
	echo "not ok - fuzz: make fuzz-build failed"
	tail -n 30 /tmp/ecgdl-fuzz-build.$$.log >&2
	rm -f /tmp/ecgdl-fuzz-build.$$.log
	exit 1
fi
rm -f /tmp/ecgdl-fuzz-build.$$.log
make -s -f test/fuzz/fuzz.mk fuzz-smoke FUZZ_CC="$FUZZ_CC" FUZZ_SMOKE_SECONDS="${FUZZ_SMOKE_SECONDS:-10}"
