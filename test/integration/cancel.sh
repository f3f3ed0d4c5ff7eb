#!/usr/bin/env bash
# Cancellation: import, oversampling, training, batch classification and
# evaluation are each stopped mid-way, once by statement_timeout and once by
# pg_cancel_backend() from another session.  Each must end with SQLSTATE 57014
# soon after the request (the issue asks for "within a second"; the check is a
# liveness bound of MAX_LATENCY seconds) and leave nothing behind: no table, no
# ecgdl.models row, no ecgdl.evaluations row; the cancelled session stays usable.
# The measured latencies are printed ("# ..." lines, also on stderr).
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test);
# the import case reads $ECGDL_MITDB when set, else the fixture records in
# $ECGDL_FIXTURES.
set -uo pipefail
source "$(dirname "$0")/common.bash"

MAX_LATENCY=3	# seconds from the cancel request to the error
db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_cancel
tmp=$(mktemp -d)
chmod 755 "$tmp"
background=""	# pid of the psql we started for the case in progress

cleanup() {
	if [ -n "$background" ] && kill -0 "$background" 2>/dev/null; then
		kill "$background" 2>/dev/null
		wait "$background" 2>/dev/null
	fi
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || {
	not_ok "create database $db"; exit 1; }

# big: 60,000 distinct synthetic beats (1,000 shapes, each rotated 60 ways),
# 80 % N - ADASYN on it takes about 2.4 s on an idle 2-core machine, batch
# classification and evaluation about 2 s, so those are cancelled well before
# the end (0.7 s, 0.5 s) to stay mid-way on fast machines; train_src: 15,000 of them
# (a cnn epoch takes a few seconds); a small cnn model to classify with.
make_test_beats &&
	run -c "SET client_min_messages = warning" -c "SELECT ecg_train('cancel_model', 'shapes', 'cnn', 'shapes', epochs => 1, batch_size => 128)" >/dev/null ||
	{ not_ok "set up tables and a model"; exit 1; }

# The import case: many MIT-BIH records (each one 4 times), or the fixture
# record syn1 many times over.
if [ -n "${ECGDL_MITDB:-}" ] && [ -f "$ECGDL_MITDB/RECORDS" ]; then
	import_dir=$ECGDL_MITDB
	import_records="(SELECT array_agg(r ORDER BY k, o) FROM pg_catalog.unnest(string_to_array('$(grep -v '^#' "$ECGDL_MITDB/RECORDS" | tr -s '\n ' ',' | sed 's/,$//')', ',')) WITH ORDINALITY u(r, o), generate_series(1, 4) k)"
	import_what="192 MIT-BIH records"
elif [ -n "${ECGDL_FIXTURES:-}" ] && [ -f "$ECGDL_FIXTURES/syn1.hea" ]; then
	import_dir=$ECGDL_FIXTURES
	import_records="array_fill('syn1'::text, ARRAY[8000])"
	import_what="the fixture record syn1 8000 times"
else
	import_dir=""
fi

case_no=0

# Counts that must not change when a statement is cancelled.
state_of() {
	run -c "SELECT (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))
	        || ' relations, ' || (SELECT count(*) FROM ecgdl.models) || ' models, '
	        || (SELECT count(*) FROM ecgdl.evaluations) || ' evaluations'"
}

# cancel_case LABEL HOW STATEMENT TARGET WAIT_FOR DELAY_MS
#   HOW: timeout (statement_timeout = DELAY_MS) or cancel (pg_cancel_backend
#   DELAY_MS after the statement became active and, if WAIT_FOR is not empty,
#   after a NOTICE matching WAIT_FOR appeared).  TARGET: table or model name
#   that must not exist afterwards.
cancel_case() {
	local label=$1 how=$2 stmt=$3 target=$4 wait_for=$5 delay_ms=$6
	local name="$label by $how" app out err before after pid="" cancel_at="" i latency start end state
	case_no=$((case_no + 1))
	app="ecgdl_cancel_$case_no"
	out=$tmp/$case_no.out
	err=$tmp/$case_no.err
	before=$(state_of)
	{
		echo "SET application_name = '$app';"
		echo "SET client_min_messages = notice;"
		[ "$how" = timeout ] && echo "SET statement_timeout = $delay_ms;"
		echo "SELECT 'start', extract(epoch FROM clock_timestamp());"
		echo "$stmt;"
		echo "\\echo sqlstate :LAST_ERROR_SQLSTATE"
		echo "RESET statement_timeout;"
		echo "SELECT 'end', extract(epoch FROM clock_timestamp());"
	} >"$tmp/$case_no.sql"
	psql -X -q -At -F ' ' -d "$db" -f "$tmp/$case_no.sql" >"$out" 2>"$err" &
	background=$!

	if [ "$how" = cancel ]; then
		for ((i = 0; i < 400; i++)); do	# the statement becomes active (<= ~10 s)
			pid=$(run -c "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = '$app'
			              AND state = 'active' AND query LIKE '%ecg\_%'")
			[ -n "$pid" ] && break
			sleep 0.02
		done
		if [ -n "$pid" ] && [ -n "$wait_for" ]; then
			for ((i = 0; i < 1000; i++)); do	# the notice shows it is mid-way (<= ~20 s)
				grep -q "$wait_for" "$err" && break
				kill -0 "$background" 2>/dev/null || break
				sleep 0.02
			done
		fi
		if [ -n "$pid" ]; then
			sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
			cancel_at=$(run -c "SELECT extract(epoch FROM clock_timestamp()) FROM pg_catalog.pg_cancel_backend($pid) c WHERE c")
		fi
	fi
	for ((i = 0; i < 600; i++)); do	# bounded wait for the session (<= ~30 s)
		kill -0 "$background" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$background" 2>/dev/null; then
		kill "$background" 2>/dev/null
		not_ok "$name ends with SQLSTATE 57014" "still running 30 s after the cancel; killed the client"
	fi
	wait "$background" 2>/dev/null
	background=""

	state=$(sed -n 's/^sqlstate //p' "$out")
	start=$(sed -n 's/^start //p' "$out")
	end=$(sed -n 's/^end //p' "$out")
	if [ "$state" = 57014 ]; then
		ok "$name ends with SQLSTATE 57014"
	else
		not_ok "$name ends with SQLSTATE 57014" "got [$state]; stderr: $(tail -n 3 "$err" | tr '\n' ' ')"
	fi
	if [ -n "$start" ] && [ -n "$end" ] && { [ "$how" = timeout ] || [ -n "$cancel_at" ]; }; then
		if [ "$how" = timeout ]; then
			latency=$(awk -v s="$start" -v e="$end" -v t="$delay_ms" 'BEGIN { printf "%.3f", e - s - t / 1000 }')
		else
			latency=$(awk -v c="$cancel_at" -v e="$end" 'BEGIN { printf "%.3f", e - c }')
		fi
		figure "$name: cancelled after $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s, latency $latency s"
		if awk -v l="$latency" -v m="$MAX_LATENCY" 'BEGIN { exit !(l >= 0 && l < m) }'; then
			ok "$name stops within $MAX_LATENCY s of the cancel request"
		else
			not_ok "$name stops within $MAX_LATENCY s of the cancel request" "latency $latency s"
		fi
	else
		not_ok "$name stops within $MAX_LATENCY s of the cancel request" \
			"no timing: start [$start] end [$end] cancel [$cancel_at] pid [$pid]"
	fi
	after=$(state_of)
	if [ "$before" = "$after" ] && [ "$(run -c "SELECT to_regclass('$target') IS NULL
	        AND NOT EXISTS (SELECT FROM ecgdl.models WHERE name = '$target')")" = t ]; then
		ok "$name leaves no table, model or evaluation behind"
	else
		not_ok "$name leaves no table, model or evaluation behind" "before: $before; after: $after"
	fi
}

for how in timeout cancel; do
	if [ -n "$import_dir" ]; then
		cancel_case "import of $import_what" $how \
			"SELECT ecg_import_wfdb('$import_dir', 'cancelled_import', $import_records)" \
			cancelled_import "NOTICE:  record" $([ $how = timeout ] && echo 2000 || echo 1000)
	else
		not_ok "import by $how" "neither ECGDL_MITDB nor ECGDL_FIXTURES holds records"
	fi
	cancel_case "ADASYN oversampling of 60000 rows" $how \
		"SELECT ecg_oversample('big', 'cancelled_adasyn', 'adasyn')" \
		cancelled_adasyn "" 700
	cancel_case "cnn training on 15000 rows" $how \
		"SELECT ecg_train('cancelled_cnn', 'train_src', 'cnn', epochs => 50, batch_size => 256)" \
		cancelled_cnn "epoch 1/" $([ $how = timeout ] && echo 4000 || echo 500)
	cancel_case "batch classification of 60000 rows" $how \
		"SELECT count(*) FROM ecg_classify_table('cancel_model', 'big')" \
		cancelled_classify "" 500
	cancel_case "evaluation on 60000 rows" $how \
		"SELECT count(*) FROM ecg_evaluate('cancel_model', 'big')" \
		cancelled_evaluate "" 500
done
