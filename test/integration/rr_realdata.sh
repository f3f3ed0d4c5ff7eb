#!/usr/bin/env bash
# R-R features and the lead preference on real records (issue 12), each part
# skipped with a message when its data are absent:
#  - MIT-BIH Arrhythmia ($ECGDL_MITDB, set by .ci/test): all 48 records
#    imported; record 100's rr_pre equals the sample differences of its beat
#    annotations (read by ecg_import_annotations) / 360 Hz, beat for beat;
#    the mean rr_pre_local of S and V beats is well below 1 and below N's
#    (printed per class, and for records 209 and 232);
#  - QT Database ($ECGDL_QTDB, else ../shared/data/qtdb beside the repository):
#    ecg_import_wfdb without a lead imports all 54 records at 250 Hz (no
#    record has MLII), NOTICEs naming the lead taken; counts per class and per
#    lead are printed.
# Times are printed, not asserted.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"
root=$(cd "$(dirname "$0")/../.." && pwd)

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_rr
out=$(mktemp)
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -f "$out"
}
trap cleanup EXIT
cleanup
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "rr: create database"; exit 1; }
run -c "SET client_min_messages = warning" -c "CREATE EXTENSION ecgdl" >/dev/null

mitdb=${ECGDL_MITDB:-}
if [ -z "$mitdb" ] || [ ! -f "$mitdb/RECORDS" ]; then
	ok "rr: MIT-BIH R-R features # skip: MIT-BIH records not found (set ECGDL_MITDB)"
else
	t0=$(now_ms)
	run -c "SET client_min_messages = warning" \
		-c "SELECT ecg_import_wfdb('${mitdb//\'/\'\'}', 'mit')" \
		-c "SELECT ecg_import_annotations('${mitdb//\'/\'\'}', 'mit_ann', ARRAY['100'])" >/dev/null
	figure "rr: MIT-BIH, 48 records imported with R-R features in $(( $(now_ms) - t0 )) ms"
	check "rr: MIT-BIH imports 109494 beats from 48 records" "109494|48" \
		"$(run -c "SELECT count(*) || '|' || count(DISTINCT record) FROM mit")"
	check "rr: record 100's rr_pre is the difference of its beat annotations' samples / 360, beat for beat" "2273|0|1" \
		"$(run -c "SELECT count(*) || '|' || count(*) FILTER (WHERE abs(m.rr_pre - (a.sample - a.prev)::float8 / 360) > 1e-6)
		              || '|' || count(*) FILTER (WHERE m.rr_pre IS NULL)
		           FROM mit m JOIN (SELECT sample, lag(sample) OVER (ORDER BY sample) AS prev
		                            FROM mit_ann WHERE label IS NOT NULL) a USING (sample)
		           WHERE m.record = '100'")"
	# rr_window (0.4.0): every beat of record 100 is in the table, so its window
	# is the mean rr_pre of the beats within +-150 s (54,000 samples) in SQL
	# (a beat's own post-R-R is always within: no interval of 100 is 150 s)
	check "rr: record 100's rr_window is the mean R-R of the beats within 150 s, beat for beat (SQL)" "2273|0" \
		"$(run -c "SELECT count(*) || '|' || count(*) FILTER (WHERE abs(m.rr_window - w.mean) > 1e-5 * w.mean)
		           FROM mit m JOIN LATERAL (SELECT avg(o.rr_pre::float8) AS mean FROM mit o
		                                   WHERE o.record = '100' AND o.rr_pre IS NOT NULL
		                                     AND abs(o.sample - m.sample) <= 54000) w ON true
		           WHERE m.record = '100'")"
	figure "rr: record 100's first beats (sample, rr_pre, rr_post, rr_local): $(run -c "SELECT string_agg(sample || ' ' || coalesce(rr_pre::text, 'NULL') || ' ' || rr_post || ' ' || rr_local, '; ' ORDER BY id) FROM (SELECT * FROM mit WHERE record = '100' ORDER BY id LIMIT 3) t")"
	run -F ' ' -c "SELECT (ARRAY['N','S','V','F','Q'])[label + 1], count(*), round(avg(rr_pre_local)::numeric, 3),
	                      round(avg(rr_post_local)::numeric, 3), round(avg(rr_pre_record)::numeric, 3)
	               FROM mit GROUP BY label ORDER BY label" >"$out"
	while read -r class n pre post prerec; do
		figure "rr: MIT-BIH class $class: $n beats, mean rr_pre_local $pre, rr_post_local $post, rr_pre_record $prerec"
	done <"$out"
	check "rr: S and V beats come early (mean rr_pre_local below 0.8, N's above 1)" "t" \
		"$(run -c "SELECT avg(rr_pre_local) FILTER (WHERE label = 1) < 0.8 AND avg(rr_pre_local) FILTER (WHERE label = 2) < 0.8
		                  AND avg(rr_pre_local) FILTER (WHERE label = 0) > 1 FROM mit")"
	run -F ' ' -c "SELECT record, (ARRAY['N','S','V','F','Q'])[label + 1], count(*), round(avg(rr_pre_local)::numeric, 3)
	               FROM mit WHERE record IN ('209', '232') AND label IN (0, 1) GROUP BY 1, 2 ORDER BY 1, 2" >"$out"
	while read -r rec class n pre; do
		figure "rr: record $rec class $class: $n beats, mean rr_pre_local $pre"
	done <"$out"
	check "rr: the S beats of records 209 and 232 have a mean rr_pre_local below 1, and below their N beats'" "t" \
		"$(run -c "SELECT bool_and(s < 1 AND s < n) FROM (SELECT avg(rr_pre_local) FILTER (WHERE label = 1) AS s,
		                  avg(rr_pre_local) FILTER (WHERE label = 0) AS n FROM mit WHERE record IN ('209', '232') GROUP BY record) t")"
fi

qtdb=${ECGDL_QTDB:-$root/../shared/data/qtdb}
if [ ! -f "$qtdb/RECORDS" ]; then
	ok "rr: QT Database import # skip: QT Database not found (set ECGDL_QTDB or place it in ../shared/data/qtdb)"
else
	qtdb=$(cd "$qtdb" && pwd)
	t0=$(now_ms)
	run -c "SET client_min_messages = notice" -c "SELECT ecg_import_wfdb('${qtdb//\'/\'\'}', 'qt')" >/dev/null 2>"$out"
	status=$?
	figure "rr: QT Database imported in $(( $(now_ms) - t0 )) ms"
	check "rr: ecg_import_wfdb on the QT Database without a lead imports all 54 records" "0|54|57274" \
		"$status|$(run -c "SELECT count(DISTINCT record) || '|' || count(*) FROM qt" 2>/dev/null)"
	check "rr: a NOTICE names the lead of every QT Database record that has no MLII" "54" \
		"$(grep -c -E 'using lead|using its first signal' "$out")"
	figure "rr: QT Database leads taken: $(sed -n 's/.*record [^ ]* (\([^)]*\)): .*/\1/p' "$out" | sort | uniq -c | sort -rn |
		awk '{printf "%s%s %s", sep, $2, $1; sep=", "}')"
	figure "rr: QT Database per class: $(run -c "SELECT string_agg(c || ' ' || n || ' (rr_pre_local ' || m || ')', ', ' ORDER BY l)
		FROM (SELECT label AS l, (ARRAY['N','S','V','F','Q'])[label + 1] AS c, count(*) AS n,
		             round(avg(rr_pre_local)::numeric, 3) AS m FROM qt GROUP BY label) t")"
	check "rr: QT Database R-R in seconds at 250 Hz (every record's mean heart rate between 30 and 200 bpm)" "t" \
		"$(run -c "SELECT bool_and(60 / rr_record BETWEEN 30 AND 200) FROM qt")"
fi
