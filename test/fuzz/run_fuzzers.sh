#!/usr/bin/env bash
# run_fuzzers.sh SECONDS TARGET... - runs each built fuzz target
# (build/fuzz/fuzz_<target>) for SECONDS and prints one line per target:
#   ok - fuzz <target>: N runs in S s, no crash
#   not ok - fuzz <target>: <what libFuzzer reported>; reproducer <path>
# Run from the repository root (make fuzz / make fuzz-smoke do).  The
# committed seeds in test/fuzz/corpus/<target> are only read; what the
# fuzzer learns goes to build/fuzz/corpus/<target>, crash inputs to
# build/fuzz/crashes/, full logs to build/fuzz/logs/<target>.log.
# FUZZ_NICE (0..19) lowers the priority; FUZZ_ARGS adds libFuzzer options.
set -uo pipefail

seconds=${1:?usage: run_fuzzers.sh SECONDS TARGET...}
shift
status=0
mkdir -p build/fuzz/logs build/fuzz/crashes

for target in "$@"; do
	bin=build/fuzz/fuzz_$target
	log=build/fuzz/logs/$target.log
	work=build/fuzz/corpus/$target
	seeds=test/fuzz/corpus/$target
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $target: $bin is not built (make fuzz-build)"
		status=1
		continue
	fi
	mkdir -p "$work"
	# -timeout: one input may take at most 10 s; -rss_limit_mb: the run
	# may use at most 2 GiB (also the limit of a single allocation)
	# shellcheck disable=SC2086
	nice -n "${FUZZ_NICE:-0}" "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$target-" ${FUZZ_ARGS:-} \
		"$work" $([ -d "$seeds" ] && echo "$seeds") >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "ok - fuzz $target: ${runs} runs in ${took:-$seconds} s, no crash"
	else
		reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		what=$(grep -m 1 -E '^==[0-9]+==ERROR|runtime error|fuzz check failed|ALARM|out-of-memory|deadly signal' "$log" |
			sed 's/^==[0-9]*==//')
		echo "not ok - fuzz $target: ${what:-exit status $rc}; reproducer ${reproducer:-none} (log $log)"
		status=1
	fi
done
exit $status
