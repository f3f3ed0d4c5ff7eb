#!/usr/bin/env bash
# Crash recovery: a backend is killed with SIGKILL mid-training and, in a second
# round, mid-oversampling.  The postmaster then resets every backend and
# replays the WAL; once the server accepts connections again, no half-made
# model row or table may exist, what was committed before is intact, and the
# extension works in new sessions.
#
# The server log then holds "server process (PID n) was terminated by signal
# 9: Killed" for each deliberate kill; when ECGDL_KILLED_PIDS names a file,
# the PIDs killed here are appended to it, one per line, so that a check of
# the log for crashed backends can leave exactly these out.  Because a reset
# drops every session of the server, the script skips itself (saying so) when
# other client sessions are connected: it is meant for the throwaway cluster
# of .ci/test.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test)
# and the right to signal its processes (root or the server's owner).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_crash
tmp=$(mktemp -d)
background=""

cleanup() {
	if [ -n "$background" ] && kill -0 "$background" 2>/dev/null; then
		kill "$background" 2>/dev/null
		wait "$background" 2>/dev/null
	fi
	wait_for_server >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

others=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_catalog.pg_stat_activity
	WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()")
if [ "$others" != 0 ]; then
	echo "ok - crash recovery # SKIP: $others other client sessions are connected, and a backend crash would reset them"
	echo "crash recovery skipped: $others other client sessions are connected (this test needs a throwaway server)" >&2
	exit 0
fi

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || {
	not_ok "create database $db"; exit 1; }

# train_src: 15,000 beats (a cnn epoch takes seconds); big: 60,000 (ADASYN
# takes about 2.4 s on an idle machine); a model committed before the crashes.
make_test_beats &&
	run -c "SET client_min_messages = warning" -c "SELECT ecg_train('kept', 'shapes', 'baseline', 'shapes', epochs => 1)" >/dev/null ||
	{ not_ok "set up tables and a model"; exit 1; }

state_of() {
	run -c "SELECT (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))
	        || ' relations, ' || (SELECT count(*) FROM ecgdl.models) || ' models, '
	        || (SELECT md5(string_agg(name || pg_catalog.md5(weights), ',' ORDER BY id)) FROM ecgdl.models) || ', '
	        || (SELECT count(*) FROM big) || ' rows in big'"
}
postmaster_started=$(psql -X -At -d postgres -c "SELECT pg_catalog.pg_postmaster_start_time()")

# crash_case LABEL STATEMENT TARGET WAIT_FOR DELAY
#   runs STATEMENT in the background, waits until a NOTICE matching WAIT_FOR
#   appears (if given) and DELAY seconds more, kills its backend with SIGKILL,
#   and checks what is left.
crash_case() {
	local label=$1 stmt=$2 target=$3 wait_for=$4 delay=$5
	local app="ecgdl_crash_$RANDOM" pid="" i before after waited
	before=$(state_of)
	{
		echo "SET application_name = '$app';"
		echo "SET client_min_messages = notice;"
		echo "$stmt;"
	} >"$tmp/$app.sql"
	psql -X -q -At -d "$db" -f "$tmp/$app.sql" >"$tmp/$app.out" 2>"$tmp/$app.err" &
	background=$!
	for ((i = 0; i < 400; i++)); do
		pid=$(run -c "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = '$app'
		              AND state = 'active' AND query LIKE '%ecg\_%'")
		[ -n "$pid" ] && break
		sleep 0.02
	done
	if [ -z "$pid" ]; then
		not_ok "$label: the statement runs" "$(tail -n 3 "$tmp/$app.err")"
		return
	fi
	if [ -n "$wait_for" ]; then
		for ((i = 0; i < 1000; i++)); do
			grep -q "$wait_for" "$tmp/$app.err" && break
			sleep 0.02
		done
	fi
	sleep "$delay"
	if ! kill -0 "$background" 2>/dev/null; then
		not_ok "$label: killed mid-way" "the statement ended before the kill: $(tail -n 3 "$tmp/$app.err")"
		return
	fi
	kill -9 "$pid" 2>/dev/null || runuser -u postgres -- kill -9 "$pid" 2>/dev/null || {
		not_ok "$label: kill -9 the backend" "no right to signal PID $pid (run as root or as the server's owner)"
		return
	}
	[ -n "${ECGDL_KILLED_PIDS:-}" ] && echo "$pid" >>"$ECGDL_KILLED_PIDS"
	for ((i = 0; i < 200; i++)); do
		kill -0 "$background" 2>/dev/null || break
		sleep 0.05
	done
	wait "$background" 2>/dev/null
	background=""
	case "$(cat "$tmp/$app.err")" in
		*"closed the connection unexpectedly"* | *"terminating connection"*)
			ok "$label: the killed backend's client loses its connection" ;;
		*) not_ok "$label: the killed backend's client loses its connection" "$(tail -n 3 "$tmp/$app.err")" ;;
	esac
	if waited=$(wait_for_server); then
		ok "$label: the server accepts connections again"
		figure "$label: killed backend $pid; server accepted connections again after $waited ms"
	else
		not_ok "$label: the server accepts connections again" "not within 30 s"
		return
	fi
	check "$label: only the backends were reset, the postmaster kept running" "$postmaster_started" \
		"$(psql -X -At -d postgres -c "SELECT pg_catalog.pg_postmaster_start_time()")"
	check "$label: no half-made table or model row exists" "t" \
		"$(run -c "SELECT to_regclass('$target') IS NULL AND NOT EXISTS (SELECT FROM ecgdl.models WHERE name = '$target')")"
	after=$(state_of)
	check "$label: committed tables and models are intact, nothing else was added" "$before" "$after"
}

crash_case "kill -9 mid-training" \
	"SELECT ecg_train('crashed_cnn', 'train_src', 'cnn', epochs => 50, batch_size => 256)" \
	crashed_cnn "epoch 1/" 0.5
crash_case "kill -9 mid-oversampling" \
	"SELECT ecg_oversample('big', 'crashed_adasyn', 'adasyn')" \
	crashed_adasyn "" 0.7	# ADASYN on big takes ~2.4 s on an idle machine

# the extension works again in new sessions
after=$(run <<'SQL' | paste -sd'|'
SET client_min_messages = warning;
SELECT ecg_train('after_crash', 'shapes', 'baseline', 'shapes', epochs => 1) > 0;
SELECT ecg_oversample('shapes', 'after_crash_smote', 'smote') > 0;
SELECT count(*) = 1000 FROM ecg_classify_table('after_crash', 'after_crash_smote') c JOIN shapes s USING (id);
SQL
)
check "after the crashes, training, oversampling and classification work" "t|t|t" "$after"
