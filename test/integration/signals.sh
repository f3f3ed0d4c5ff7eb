#!/usr/bin/env bash
# Signals: pg_dump keeps the stored QRS evaluations; then, on the whole
# MIT-BIH Arrhythmia Database (48 records) when present ($ECGDL_MITDB, set by
# .ci/test), the signal table and the reference annotations as tables; beats cut from the signal table at the reference
# annotations equal ecg_import_wfdb's beat table on every record; the
# detector's bxb figures from SQL equal those of the standalone tool
# (build/tools/qrs_eval, same detector and matching code); detection does not
# depend on the chunk size; the rhythm summary agrees with runs counted
# independently in SQL on every record.  Times are printed, not asserted.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"
cd "$(dirname "$0")/../.."

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_signals
restored=${db}_restored
dump=$(mktemp)
cleanup() {
	for d in "$db" "$restored"; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1
	done
	rm -f "$dump"
}
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "signals: create database"; exit 1; }

# pg_dump keeps the stored QRS evaluations, and their ids continue after a restore
run -c "SET client_min_messages = warning" -c "CREATE EXTENSION ecgdl" \
	-c "CREATE TABLE d (record text, sample bigint, fs float8)" \
	-c "INSERT INTO d VALUES ('a', 100, 360), ('a', 500, 360)" \
	-c "SELECT count(*) FROM ecg_qrs_evaluate('d', 'd', 150, 0)" \
	-c "SELECT count(*) FROM ecg_qrs_evaluate('d', 'd', 150, 0)" >/dev/null
pg_dump -d "$db" -f "$dump" && psql -X -q -d postgres -c "CREATE DATABASE $restored" >/dev/null &&
	psql -X -q -v ON_ERROR_STOP=1 -d "$restored" -f "$dump" >/dev/null 2>&1
psql -X -q -At -d "$restored" -c "SELECT count(*) FROM ecg_qrs_evaluate('d', 'd', 150, 0)" >/dev/null 2>&1
check "signals: a dump and restore keeps the QRS evaluations, and ids continue" "1:2|2:2|3:2" \
	"$(psql -X -q -At -d "$restored" -c "SELECT string_agg(id || ':' || tp, '|' ORDER BY id) FROM ecgdl.qrs_evaluations")"
run -c "DROP TABLE d" -c "SELECT ecg_qrs_evaluations_drop()" >/dev/null

mitdb=${ECGDL_MITDB:-}
if [ -z "$mitdb" ] || [ ! -f "$mitdb/RECORDS" ]; then
	echo "# signals: MIT-BIH records not found (set ECGDL_MITDB): the checks on the 48 records are skipped" >&2
	exit 0
fi

# timed SQL: prints the result; the milliseconds go to $elapsed
timed() { local t0; t0=$(now_ms); run -c "SET client_min_messages = warning" -c "$1"; elapsed=$(( $(now_ms) - t0 )); }

timed "SELECT ecg_import_wfdb_signals('$mitdb', 'sig', leads => ARRAY['MLII', 'V5'])" >/dev/null
figure "ecg_import_wfdb_signals, 48 records (MLII, V5): $elapsed ms"
run -c "SELECT ecg_import_annotations('$mitdb', 'ref')" >/dev/null
timed "SELECT ecg_import_wfdb('$mitdb', 'mit')" >/dev/null
import_ms=$elapsed
timed "SELECT ecg_beats_from_signals('sig', 'ref', 'cut')" >/dev/null
figure "ecg_import_wfdb $import_ms ms, ecg_beats_from_signals $elapsed ms (48 records)"
check "signals: beats from the signal table at the reference annotations = ecg_import_wfdb's (48 records, signals within 1e-6)" \
	"109494|0|t" "$(run -c "SELECT count(*),
       count(*) FILTER (WHERE a.record IS DISTINCT FROM b.record OR a.sample IS DISTINCT FROM b.sample
                        OR a.symbol IS DISTINCT FROM b.symbol OR a.label IS DISTINCT FROM b.label),
       coalesce(max((SELECT max(abs(x - y)) FROM unnest(a.signal, b.signal) u(x, y))) <= 1e-6, false)
FROM mit a FULL JOIN cut b USING (id)")"

timed "SELECT ecg_detect_beats('sig', 'det')" >/dev/null
figure "ecg_detect_beats, 48 records (31.2 M samples) from signal table to annotation table: $elapsed ms"
sql_gross=$(run -c "SELECT tp, fn, fp FROM ecg_qrs_evaluate('det', 'ref') WHERE record = 'gross'")
sql_whole=$(run -c "SELECT tp_whole, fn_whole, fp_whole FROM ecgdl.qrs_evaluations e,
    LATERAL (SELECT sum((v ->> 'tp_whole')::bigint) AS tp_whole, sum((v ->> 'fn_whole')::bigint) AS fn_whole,
                    sum((v ->> 'fp_whole')::bigint) AS fp_whole FROM jsonb_each(e.per_record) j(k, v)) s
    ORDER BY e.id DESC LIMIT 1")
figure "bxb gross from SQL (TP|FN|FP): after 5 min $sql_gross, whole records $sql_whole"
if [ -x build/tools/qrs_eval ]; then
	tool=$(build/tools/qrs_eval "$mitdb" 2>/dev/null | awk '$1 == "gross" { print $4 "|" $5 "|" $6 " " $11 "|" $12 "|" $13 }')
	check "signals: the SQL evaluation equals the standalone qrs_eval tool (after 5 min, whole records)" \
		"$tool" "$sql_gross $sql_whole"
else
	not_ok "signals: build/tools/qrs_eval is missing (make tools)"
fi

# two leads (second_lead): MLII (V5 in 102 and 104) with each record's other lead
timed "SELECT ecg_import_wfdb_signals('$mitdb', 'sig2', leads => ARRAY['MLII', 'V1', 'V2', 'V4', 'V5'])" >/dev/null
timed "SELECT ecg_detect_beats('sig2', 'det2', 'MLII, V5', 'V1, V2, V4, V5')" >/dev/null
figure "ecg_detect_beats with second_lead, 48 records (2 x 31.2 M samples): $elapsed ms"
sql2_gross=$(run -c "SELECT tp, fn, fp FROM ecg_qrs_evaluate('det2', 'ref') WHERE record = 'gross'")
figure "bxb gross from SQL, two leads (TP|FN|FP, after 5 min): $sql2_gross"
if [ -x build/tools/qrs_eval ]; then
	tool2=$(build/tools/qrs_eval --two-leads "$mitdb" 2>/dev/null | awk '$1 == "gross" { print $4 "|" $5 "|" $6 }')
	check "signals: two-lead detection in SQL equals qrs_eval --two-leads (48 records)" "$tool2" "$sql2_gross"
fi

# the same detections whatever the chunk size (7 s and 1 s rows of three records)
run -c "SET client_min_messages = warning" \
	-c "SELECT ecg_import_wfdb_signals('$mitdb', 'sig7', ARRAY['105', '203', '207'], ARRAY['MLII'], 7)" \
	-c "SELECT ecg_import_wfdb_signals('$mitdb', 'sig1', ARRAY['105', '203', '207'], ARRAY['MLII'], 1)" \
	-c "SELECT ecg_detect_beats('sig7', 'det7'), ecg_detect_beats('sig1', 'det1')" >/dev/null
check "signals: detections do not depend on the chunk size (60 s, 7 s, 1 s rows)" "0|0" \
	"$(run -c "SELECT (SELECT count(*) FROM (SELECT record, sample FROM det WHERE record IN ('105', '203', '207')
                                          EXCEPT SELECT record, sample FROM det7
                                          UNION ALL SELECT record, sample FROM det7
                                          EXCEPT SELECT record, sample FROM det WHERE record IN ('105', '203', '207')) x),
                  (SELECT count(*) FROM (SELECT record, sample FROM det1 EXCEPT SELECT record, sample FROM det7
                                          UNION ALL SELECT record, sample FROM det7 EXCEPT SELECT record, sample FROM det1) y)")"

# the rhythm summary of every record against runs counted independently
check "signals: rhythm summary = runs counted independently, every record" "48|48" "$(run -v runs_source=ref <<'SQL'
\i test/integration/count_runs.sql
SELECT count(*), count(*) FILTER (WHERE (c.beats, c.s_beats, c.s_couplets, c.s_runs, c.longest_s_run, c.v_beats,
                                         c.v_couplets, c.v_runs, c.longest_v_run)
                                        = (s.beats, s.s_beats, s.s_couplets, s.s_runs, s.longest_s_run, s.v_beats,
                                           s.v_couplets, s.v_runs, s.longest_v_run))
FROM counted_runs c JOIN ecg_rhythm_summary('ref') s USING (record);
SQL
)"
