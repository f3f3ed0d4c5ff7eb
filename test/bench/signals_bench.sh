#!/usr/bin/env bash
# Benchmarks of the signal functions (test/bench/README.md, "Signals"), on a
# throwaway cluster:
#   1. the 48 MIT-BIH records: ecg_import_wfdb against ecg_beats_from_signals
#      (the same beats; three runs each, alternating), and ecg_detect_beats
#      from the signal table to an annotation table (three runs);
#   2. a 24-hour recording (31.1 M samples at 360 Hz): the MLII leads of the
#      48 records one after the other as one record "holter" (each record's
#      chunks shifted by 650,000 samples per record before it), detected by
#      ecg_detect_beats in a fresh backend whose memory is sampled every 20 ms
#      from /proc: peak private memory (RssAnon) and VmHWM (which also counts
#      the shared buffers the backend touched).
#
#   bash test/bench/signals_bench.sh
#
# Needs the MIT-BIH records ($ECGDL_MITDB or ../shared/data/mitdb).  Prints
# one "bench:" line per figure.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ECGDL_ROOT"

ecgdl_build_install
mitdb=$(ecgdl_find_mitdb)
[ -n "$mitdb" ] || { log "MIT-BIH records not found: set ECGDL_MITDB"; exit 1; }
ecgdl_start_cluster
trap 'ecgdl_stop_cluster' EXIT

q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" "$@"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
say() { echo "bench: $*"; }
# timed SQL in a fresh session: prints milliseconds
timed() { local t0; t0=$(ms); q -c "$1" >/dev/null; echo $(( $(ms) - t0 )); }

q -c "CREATE EXTENSION ecgdl" -c "SELECT ecg_import_wfdb_signals('$mitdb', 'sig', leads => ARRAY['MLII', 'V5'])" \
	-c "SELECT ecg_import_annotations('$mitdb', 'ref')" >/dev/null
say "signal table: $(q -c "SELECT count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('sig')) FROM sig")"

imp=() cut=() det=()
runs=${ECGDL_BENCH_RUNS:-3}
for _ in $(seq "$runs"); do
	imp+=("$(timed "DROP TABLE IF EXISTS mit; SELECT ecg_import_wfdb('$mitdb', 'mit')")")
	cut+=("$(timed "DROP TABLE IF EXISTS cut; SELECT ecg_beats_from_signals('sig', 'ref', 'cut')")")
	det+=("$(timed "DROP TABLE IF EXISTS det; SELECT ecg_detect_beats('sig', 'det')")")
done
say "ecg_import_wfdb, 48 records: ${imp[*]} ms"
say "ecg_beats_from_signals, 48 records, reference annotations: ${cut[*]} ms"
say "ecg_detect_beats, 48 records (MLII, V5 for 102 and 104), signal table to annotation table: ${det[*]} ms"

# ---- a 24-hour recording -----------------------------------------------------------
q -f - >/dev/null <<'SQL'
CREATE TABLE holter (record text, lead text, fs float8, start_sample bigint, samples real[],
                     PRIMARY KEY (record, lead, start_sample));
ALTER TABLE holter ALTER COLUMN samples SET STORAGE EXTERNAL;
INSERT INTO holter
SELECT 'holter', 'MLII', 360, r.n * 650000 + s.start_sample, s.samples
FROM sig s JOIN (SELECT record, row_number() OVER (ORDER BY record) - 1 AS n
                 FROM (SELECT DISTINCT record FROM sig) d) r USING (record)
WHERE s.lead = (SELECT min(lead) FROM sig x WHERE x.record = s.record AND x.lead IN ('MLII', 'V5'));
SQL
say "holter: $(q -c "SELECT sum(array_length(samples, 1)) || ' samples, ' || round(sum(array_length(samples, 1)) / 360.0 / 3600, 2) || ' h, ' || count(*) || ' rows' FROM holter")"

# Detects the holter record in a fresh backend, sampling its memory.
detect_holter() {
	local pidfile client pid peak_anon=0 hwm=0 a h t0
	pidfile=$(mktemp)
	(
		psql -X -q -At -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
			-c "\\o $pidfile" -c "SELECT pg_backend_pid()" -c "\\o" -c "SELECT pg_sleep(0.5)" \
			-c "DROP TABLE IF EXISTS holter_det" -c "SELECT ecg_detect_beats('holter', 'holter_det')" \
			-c "SELECT pg_sleep(0.5)" >/dev/null
	) &
	client=$!
	while [ ! -s "$pidfile" ]; do sleep 0.01; done
	pid=$(tr -d ' \n' <"$pidfile")
	t0=$(ms)
	while kill -0 "$client" 2>/dev/null && [ -r "/proc/$pid/status" ]; do
		a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ -n "$a" ] && [ "$a" -gt "$peak_anon" ] && peak_anon=$a
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.02
	done
	wait "$client"
	rm -f "$pidfile"
	say "ecg_detect_beats on the 24-hour record: $(q -c "SELECT count(*) FROM holter_det") beats, about $(( $(ms) - t0 - 1000 )) ms; backend peak private memory (RssAnon) $(( peak_anon / 1024 )) MB, VmHWM $(( hwm / 1024 )) MB (shared_buffers $(q -c 'SHOW shared_buffers'))"
}
detect_holter
# VmHWM counts every shared buffer the backend touched: again with 16 MB of them
q -c "ALTER SYSTEM SET shared_buffers = '16MB'" >/dev/null
as_pg_owner "$PG_BIN/pg_ctl" -D "$ECGDL_PGDATA/data" -w restart >/dev/null
detect_holter
