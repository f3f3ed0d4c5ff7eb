# common.bash - helpers the integration scripts source (not a test itself:
# .ci/test runs only *.sh).  Each script sets $db before calling run.
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ $# -gt 1 ] && echo "  $2" >&2; return 0; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi; }
# a measured figure, shown in the test output and the CI log
figure() { echo "# $1"; echo "# $1" >&2; }
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
