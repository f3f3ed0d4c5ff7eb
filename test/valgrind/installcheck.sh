#!/usr/bin/env bash
# installcheck.sh MODE [TEST...] - the pg_regress suite against a throwaway
# server whose backends run ecgdl under a memory checker.
#
#   MODE valgrind  ecgdl.so built portably (OPTFLAGS="", valgrind 3.19 cannot
#                  decode AVX-512), the postmaster and every backend under
#                  valgrind memcheck with test/valgrind/postgres.supp
#   MODE plain     the same set-up without a checker (checks the script)
#
# TEST... picks regression tests (default: the Makefile's REGRESS list);
# ECGDL_MEMCHECK_OPTFLAGS overrides the build's OPTFLAGS; ECGDL_VALGRIND_OPTS
# adds valgrind options (e.g. --track-origins=yes).
# Nothing is installed system-wide: the instrumented build happens in a copy
# of the tree and is installed into a private PostgreSQL tree in a temporary
# directory (copies of postgres and initdb, every other file a symbolic link
# to the Debian installation; PostgreSQL finds its share and lib directories
# relative to its binary), so a normal installation and other test runs are
# not disturbed.  Prints "ok - ..." / "not ok - ..." lines and exits non-zero
# on any failure.  Keeps the work directory (logs) when something failed or
# ECGDL_MEMCHECK_KEEP=1.  See test/valgrind/README.md.
set -uo pipefail

mode=${1:-}
case "$mode" in
	valgrind | plain) shift ;;
	*) echo "usage: $0 valgrind|plain [TEST...]" >&2; exit 2 ;;
esac
# shellcheck source=../../.ci/lib.sh
source "$(dirname "$0")/../../.ci/lib.sh"
root=$ECGDL_ROOT
PG_CONFIG=$PG_BIN/pg_config
pg_libdir=$("$PG_CONFIG" --pkglibdir)
pg_sharedir=$("$PG_CONFIG" --sharedir)
failed=0

fail() { echo "not ok - $*"; failed=1; }

if [ "$mode" = valgrind ] && ! command -v valgrind >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1
	fi
	command -v valgrind >/dev/null 2>&1 || { fail "valgrind is not installed (apt-get install valgrind)"; exit 1; }
fi

work=$(mktemp -d /tmp/ecgdl-memcheck.XXXXXX)
chmod 755 "$work"
server_pid=
finish() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -INT "$server_pid" 2>/dev/null	# fast shutdown
		for _ in $(seq 1 600); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
	fi
	if [ "$failed" -ne 0 ] || [ "${ECGDL_MEMCHECK_KEEP:-0}" = 1 ]; then
		log "logs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap finish EXIT

# 1. build a copy of the tree with the checker's flags -----------------------
case "$mode" in
	valgrind) optflags="-O1 -g" ;;
	plain) optflags="-march=native" ;;
esac
optflags=${ECGDL_MEMCHECK_OPTFLAGS-$optflags}
log "building ecgdl ($mode: OPTFLAGS=\"$optflags\") in $work/src"
mkdir -p "$work/src"
tar -C "$root" --exclude=./.git --exclude=./build --exclude=./results --exclude='*.o' \
	--exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$work/src" -xf -
if ! make -C "$work/src" -s -j2 PG_CONFIG="$PG_CONFIG" OPTFLAGS="$optflags" >"$work/build.log" 2>&1 ||
	! make -C "$work/src" -s build/tools/make_wfdb_fixtures OPTFLAGS="$optflags" >>"$work/build.log" 2>&1; then
	fail "memcheck ($mode): build failed (see $work/build.log)"
	tail -n 30 "$work/build.log" >&2
	exit 1
fi

# 2. a private PostgreSQL tree holding this build of ecgdl --------------------
inst=$work/inst
make -C "$work/src" -s install PG_CONFIG="$PG_CONFIG" DESTDIR="$inst" >>"$work/build.log" 2>&1 ||
	{ fail "memcheck ($mode): install into $inst failed"; exit 1; }
mkdir -p "$inst$PG_BIN"
cp "$PG_BIN/postgres" "$PG_BIN/initdb" "$inst$PG_BIN/"	# copies: symlinks would resolve back
link_missing() {	# link_missing FROM TO: links each entry of FROM that TO lacks
	local entry
	mkdir -p "$2"
	for entry in "$1"/*; do
		[ -e "$2/$(basename "$entry")" ] || ln -s "$entry" "$2/$(basename "$entry")"
	done
}
link_missing "$pg_libdir" "$inst$pg_libdir"
link_missing "$pg_sharedir" "$inst$pg_sharedir"
link_missing "$pg_sharedir/extension" "$inst$pg_sharedir/extension"
rm -rf "$inst$pg_libdir/bitcode"	# no JIT inlining of the system build's bitcode

# 3. fixtures (as .ci/test makes them) --------------------------------------
export ECGDL_FIXTURES="$work/fixtures"
mkdir -p "$ECGDL_FIXTURES"
"$work/src/build/tools/make_wfdb_fixtures" "$ECGDL_FIXTURES" >/dev/null ||
	{ fail "memcheck ($mode): fixtures"; exit 1; }
chmod -R a+rX "$work"
chmod 1777 "$ECGDL_FIXTURES"
ECGDL_MITDB=$(ecgdl_find_mitdb)
export ECGDL_MITDB

# 4. the server, under the checker -----------------------------------------
pgdata=$work/data
sock=$work/sock
mkdir -p "$pgdata" "$sock" "$work/checker"
chmod 1777 "$work/checker"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdata" "$sock"
as_pg_owner "$inst$PG_BIN/initdb" -D "$pgdata" -U postgres --auth=trust --no-sync -E UTF8 \
	--locale=C >"$work/initdb.log" 2>&1 || { fail "memcheck ($mode): initdb"; exit 1; }
port=${ECGDL_MEMCHECK_PORT:-54339}
server_opts=(-D "$pgdata" -k "$sock" -p "$port" -c listen_addresses= -c fsync=off
	-c max_parallel_workers_per_gather=2 -c jit=off)
case "$mode" in
	valgrind)
		# backends are forked from the postmaster, so valgrind follows them;
		# --trace-children also follows anything the server execs
		# OpenBLAS picks its kernels from CPUID, which valgrind reports as an
		# AVX2 CPU ("Haswell"); its sgemm then rounds a 1-row product
		# differently from a batch one, and the hardening test's per-row vs
		# batch equality fails (test/valgrind/README.md).  The AVX kernels
		# ("Sandybridge") agree, like the AVX-512 ones valgrind cannot run.
		checker=(env OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Sandybridge
			valgrind --tool=memcheck --trace-children=yes
			--error-exitcode=0 --leak-check=no --num-callers=40 --error-limit=no
			--suppressions="$root/test/valgrind/postgres.supp" --gen-suppressions=all
			--log-file="$work/checker/valgrind.%p.log" ${ECGDL_VALGRIND_OPTS:-})
		wait_s=600 ;;
	plain) checker=(env); wait_s=60 ;;
esac
log "starting the server under $mode (port $port)"
as_pg_owner "${checker[@]}" "$inst$PG_BIN/postgres" "${server_opts[@]}" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 $((wait_s * 2))); do
	"$PG_BIN/pg_isready" -q -h "$sock" -p "$port" && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.5
done
if ! "$PG_BIN/pg_isready" -q -h "$sock" -p "$port"; then
	fail "memcheck ($mode): server did not start"
	tail -n 30 "$work/server.log" >&2
	exit 1
fi
# runuser's pid: the server is its child
server_pid=$(head -n 1 "$pgdata/postmaster.pid")

# 5. pg_regress ------------------------------------------------------------
if [ $# -gt 0 ]; then
	tests=("$@")
else
	read -r -a tests < <(make -s --no-print-directory -C "$root" -f Makefile -f /dev/stdin \
		ecgdl-print-regress PG_CONFIG="$PG_CONFIG" <<<'ecgdl-print-regress: ; @echo $(REGRESS)')
fi
log "pg_regress: ${tests[*]}"
start=$(date +%s)
"$pg_libdir/pgxs/src/test/regress/pg_regress" --inputdir="$root" --outputdir="$work/regress" \
	--bindir="$PG_BIN" --host="$sock" --port="$port" --user=postgres --load-extension=ecgdl \
	--dbname=contrib_regression "${tests[@]}" >"$work/regress.out" 2>&1
regress_status=$?
elapsed=$(($(date +%s) - start))
sed -n 's/^\(test\|     \) *\([a-z_0-9]*\) *\.\.\. *\(ok\|FAILED\|failed\).*/\3 \2/p' "$work/regress.out" |
	sed "s/^ok \(.*\)/ok - regress under $mode: \1/; s/^\(FAILED\|failed\) \(.*\)/not ok - regress under $mode: \2/" |
	tee "$work/regress.tap"
grep -q '^not ok' "$work/regress.tap" && failed=1
if [ $regress_status -ne 0 ] && ! grep -q '^not ok' "$work/regress.tap"; then
	fail "regress under $mode: pg_regress exited with status $regress_status"
	tail -n 20 "$work/regress.out" >&2
fi
[ -f "$work/regress/regression.diffs" ] && [ -s "$work/regress/regression.diffs" ] &&
	head -c 20000 "$work/regress/regression.diffs" >&2
log "the suite took $elapsed s under $mode"

# 6. stop the server and read the checker's reports -------------------------
kill -INT "$server_pid" 2>/dev/null
for _ in $(seq 1 600); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
if grep -q "terminated by signal\|server process (PID [0-9]*) exited with exit code" "$work/server.log"; then
	fail "server under $mode: a backend crashed or failed"
	grep "terminated by signal\|server process (PID [0-9]*) exited with exit code" "$work/server.log" >&2
else
	echo "ok - server under $mode: no backend crashed"
fi
case "$mode" in
	valgrind)
		procs=$(ls "$work"/checker/valgrind.*.log 2>/dev/null | wc -l)
		bad=$(grep -L "ERROR SUMMARY: 0 errors" "$work"/checker/valgrind.*.log 2>/dev/null)
		if [ "$procs" -eq 0 ]; then
			fail "valgrind: no process logs in $work/checker"
		elif [ -n "$bad" ]; then
			fail "valgrind: memory errors in $(echo "$bad" | wc -l) of $procs processes (logs: $work/checker)"
			for f in $bad; do grep -m 1 "ERROR SUMMARY" "$f" >&2; sed -n '/^==[0-9]*== [A-Z]/,/^==[0-9]*== $/p' "$f" | head -n 60 >&2; done
		else
			echo "ok - valgrind: no memory errors in $procs processes"
		fi ;;
esac
exit $failed
