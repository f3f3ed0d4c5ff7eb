#!/usr/bin/env bash
# Concurrency: four sessions classify (per row, per row on parallel workers,
# with ecg_classify_table) and evaluate with a model while a fifth trains and
# replaces that same model over and over (replace => true, alternating between
# two seeds, each replacement held uncommitted for a moment).  Training is
# deterministic, so every statement's answer must be exactly the answer of one
# of the two candidate models - never a mix, never an error - and afterwards the
# name has one row (same id) holding one of the two candidates.  Bounded in
# statements and time; prints request counts and durations.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

READER_STATEMENTS=100	# per reader session
WRITER_MAX=40			# replacements at most (the writer stops when the readers are done)
TIME_LIMIT=40			# seconds any session may take
db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_concurrency
tmp=$(mktemp -d)
pids=()

cleanup() {
	for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || {
	not_ok "create database $db"; exit 1; }

# 600 training beats and 5,000 probe beats of 5 classes, noisy enough that
# the two candidate models (which differ only in their seed) make different
# mistakes
run >/dev/null <<'SQL' || { not_ok "set up tables and candidate models"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE FUNCTION beats(first int, last int) RETURNS TABLE (id bigint, label smallint, signal real[])
LANGUAGE sql AS $$
SELECT n::bigint, (n % 5)::smallint,
       ARRAY(SELECT (0.3 + 0.2 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0)
                     + 0.3 * sin(n * s * 1.3) * cos(n * 0.7 + s))::real
             FROM generate_series(1, 187) s)
FROM generate_series(first, last) n $$;
CREATE TABLE train_c AS SELECT * FROM beats(1, 600);
CREATE TABLE probe AS SELECT * FROM beats(10001, 15000);
ALTER TABLE probe ADD PRIMARY KEY (id);
ANALYZE probe;
SELECT ecg_train('cand_a', 'train_c', 'baseline', 'train_c', epochs => 2, batch_size => 64, seed => 1);
SELECT ecg_train('cand_b', 'train_c', 'baseline', 'train_c', epochs => 2, batch_size => 64, seed => 2);
SELECT ecg_train('shared', 'train_c', 'baseline', 'train_c', epochs => 2, batch_size => 64, seed => 1);
SQL

check "training is deterministic: the same seed gives the same model bytes, another seed others" "t|f" \
	"$(run -c "SELECT (SELECT weights FROM ecgdl.models WHERE name = 'shared') = (SELECT weights FROM ecgdl.models WHERE name = 'cand_a'),
	                  (SELECT weights FROM ecgdl.models WHERE name = 'cand_b') = (SELECT weights FROM ecgdl.models WHERE name = 'cand_a')")"
shared_id=$(run -c "SELECT id FROM ecgdl.models WHERE name = 'shared'")

# The four reader statements, with MODEL for the model name; the answer of
# each, for each candidate.
q_row="SELECT md5(string_agg(ecg_predict_proba('MODEL', signal)::text, ',' ORDER BY id)) FROM probe;"
q_par="SELECT md5(string_agg(p, ',' ORDER BY id)) FROM (SELECT id, ecg_predict_proba('MODEL', signal)::text AS p FROM probe) s;"
q_batch="SELECT md5(string_agg(probabilities::text, ',' ORDER BY id)) FROM ecg_classify_table('MODEL', 'probe');"
q_eval="SELECT md5(string_agg(class || ' ' || coalesce(precision::text, '-') || ' ' || recall::text || ' ' || f1::text || ' ' || support, ',' ORDER BY class)) FROM ecg_evaluate('MODEL', 'probe');"
parallel_settings="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;"
declare -A query=([row]=$q_row [parallel]=$q_par [batch]=$q_batch [evaluate]=$q_eval)
declare -A expect_a expect_b
for kind in row parallel batch evaluate; do
	expect_a[$kind]=$(run -c "${query[$kind]//MODEL/cand_a}")
	expect_b[$kind]=$(run -c "${query[$kind]//MODEL/cand_b}")
	if [ -z "${expect_a[$kind]}" ] || [ "${expect_a[$kind]}" = "${expect_b[$kind]}" ]; then
		not_ok "the two candidate models answer the $kind statement differently" \
			"a=${expect_a[$kind]} b=${expect_b[$kind]}"
	fi
done
plan=$(run -c "$parallel_settings EXPLAIN (COSTS OFF) ${q_par//MODEL/shared}")
case "$plan" in
	*Gather*) ok "the parallel reader's per-row classification runs on parallel workers" ;;
	*) not_ok "the parallel reader's per-row classification runs on parallel workers" "plan: $plan" ;;
esac
evaluations_before=$(run -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'shared'")

# The writer: replaces 'shared' with the other candidate, keeping each
# replacement uncommitted for 0.1 s, until the readers are done.
writer() {
	local i seed t0
	t0=$(now_ms)
	for ((i = 1; i <= WRITER_MAX; i++)); do
		[ -f "$tmp/stop" ] && break
		[ $(( $(now_ms) - t0 )) -gt $((TIME_LIMIT * 1000)) ] && break
		seed=$(( (i % 2 == 1) ? 2 : 1 ))
		if run >/dev/null 2>>"$tmp/writer.err" <<SQL
SET client_min_messages = warning;
BEGIN;
SELECT ecg_train('shared', 'train_c', 'baseline', 'train_c', epochs => 2, batch_size => 64, seed => $seed, replace => true);
SELECT pg_sleep(0.1);
COMMIT;
SQL
		then echo "$seed" >>"$tmp/writer.seeds"; fi
	done
	echo $(( $(now_ms) - t0 )) >"$tmp/writer.ms"
}

# A reader: one session running READER_STATEMENTS statements of one kind.
reader() {
	local kind=$1 i t0
	t0=$(now_ms)
	{
		echo "SET client_min_messages = warning;"
		[ "$kind" = parallel ] && echo "$parallel_settings"
		for ((i = 0; i < READER_STATEMENTS; i++)); do echo "${query[$kind]//MODEL/shared}"; done
	} | timeout "$TIME_LIMIT" psql -X -q -At -d "$db" >"$tmp/$kind.out" 2>"$tmp/$kind.err"
	echo $(( $(now_ms) - t0 )) >"$tmp/$kind.ms"
}

: >"$tmp/writer.seeds"
writer &
pids+=($!)
writer_pid=$!
sleep 0.3
reader_pids=()
for kind in row parallel batch evaluate; do
	reader "$kind" &
	pids+=($!)
	reader_pids+=($!)
done
for p in "${reader_pids[@]}"; do wait "$p"; done
touch "$tmp/stop"
wait "$writer_pid"

replacements=$(wc -l <"$tmp/writer.seeds")
figure "writer: $replacements replacements in $(cat "$tmp/writer.ms") ms"
if [ "$replacements" -ge 3 ] && [ ! -s "$tmp/writer.err" ]; then
	ok "the writer replaced the model $replacements times without an error"
else
	not_ok "the writer replaced the model at least 3 times without an error" "$(head -c 500 "$tmp/writer.err")"
fi
total_evaluations=0
for kind in row parallel batch evaluate; do
	n=$(grep -c . "$tmp/$kind.out")
	a=$(grep -cx "${expect_a[$kind]}" "$tmp/$kind.out")
	b=$(grep -cx "${expect_b[$kind]}" "$tmp/$kind.out")
	ms=$(cat "$tmp/$kind.ms")
	figure "$kind reader: $n statements in $ms ms ($(awk -v ms="$ms" -v n="$n" 'BEGIN { printf "%.1f", n ? ms / n : 0 }') ms each): $a saw seed 1's model, $b seed 2's"
	check "$kind reader: all $READER_STATEMENTS statements ran without an error" "$READER_STATEMENTS|" \
		"$n|$(grep -m 3 ERROR "$tmp/$kind.err")"
	check "$kind reader: every statement's answer is that of one whole model" "$n" "$((a + b))"
	[ "$kind" = evaluate ] && total_evaluations=$n
done
# with a handful of replacements during the run, the readers saw both models
seen_both=$(for kind in row parallel batch evaluate; do
	grep -cx "${expect_a[$kind]}" "$tmp/$kind.out"; grep -cx "${expect_b[$kind]}" "$tmp/$kind.out"; done |
	paste -sd' ' | awk '{ a = $1 + $3 + $5 + $7; b = $2 + $4 + $6 + $8; print (a > 0 && b > 0) ? "yes" : "no" }')
check "the readers saw both models while the writer replaced it" yes "$seen_both"

last_seed=$(tail -n 1 "$tmp/writer.seeds")
last_seed=${last_seed:-1}
check "afterwards 'shared' is one row with its first id" "1|$shared_id" \
	"$(run -c "SELECT count(*), min(id) FROM ecgdl.models WHERE name = 'shared'")"
check "afterwards 'shared' holds the last model trained (seed $last_seed)" t \
	"$(run -c "SELECT weights = (SELECT weights FROM ecgdl.models WHERE name = '$( [ "$last_seed" = 1 ] && echo cand_a || echo cand_b)')
	           FROM ecgdl.models WHERE name = 'shared'")"
check "a new statement classifies with that last model" \
	"$( [ "$last_seed" = 1 ] && echo "${expect_a[batch]}" || echo "${expect_b[batch]}")" \
	"$(run -c "${q_batch//MODEL/shared}")"
check "every evaluation is stored once, under the model's id" "$total_evaluations|$shared_id" \
	"$(run -c "SELECT count(*) - $evaluations_before, max(model_id) FROM ecgdl.evaluations WHERE model_name = 'shared'")"
