#!/usr/bin/env bash
# Scale-out over postgres_fdw (issue 13, README "Scale-out"): three throwaway
# clusters of its own - a coordinator and two shards, on loopback TCP and Unix
# sockets, as the postgres user when run as root - a beat table split by record
# across the shards, a partitioned table on the coordinator whose partitions
# are foreign tables (extensions 'ecgdl', async_capable), a model pushed to
# both shards with ecg_model_push.  Checks: classification through the
# coordinator is the single-server run's, row for row; EXPLAIN VERBOSE shows
# the ecgdl call inside each remote query; confusion counts summed over the
# shards are the single-server ones; the bytes the coordinator receives per
# classified beat (TCP counters of its connections, from ss) are far below the
# 748-byte signal; a shard with another version of the model refuses; a shard
# stopped mid-query gives an error naming it, and nothing is left half-written.
# Ports: ECGDL_SHARDS_PORT (default: the suite's port + 1) and the next two.
set -uo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/../../.ci/lib.sh"
source "$(dirname "$0")/clusters.bash"

clusters_start "${ECGDL_SHARDS_PORT:-$(( ${ECGDL_PGPORT:-54329} + 1 ))}" coord shard1 shard2 || exit 1
ok "three clusters (coordinator, shard1, shard2) on ports ${port[coord]}-${port[shard2]}"

# The beats: 6 records of 400 synthetic beats (class n % 5); the coordinator
# keeps the whole table as the single-server reference, and trains the model.
beats_of() {
	cat <<SQL
SELECT n::bigint AS id, 'rec' || (n % 6) AS record, (n % 5)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.5 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0) + 0.1 * sin(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(1, 2400) n WHERE $1
SQL
}
on coord >/dev/null <<SQL || { not_ok "set up the coordinator"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE EXTENSION postgres_fdw;
CREATE TABLE beats_all AS $(beats_of true);
SELECT ecg_train('sh_model', 'beats_all', 'baseline', epochs => 2, batch_size => 64, seed => 3);
SQL
# shard1 holds records rec0..rec2, shard2 rec3..rec5, each in a table named
# after the shard: PostgreSQL 15's postgres_fdw reports a connection lost
# mid-query without the server's name, but with the remote SQL, which then
# names the shard
for s in 1 2; do
	if [ $s = 1 ]; then cond="n % 6 < 3"; else cond="n % 6 >= 3"; fi
	on shard$s >/dev/null <<SQL || { not_ok "set up shard$s"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE TABLE beats_shard$s AS $(beats_of "$cond");
ALTER TABLE beats_shard$s ADD PRIMARY KEY (id);
SQL
done

# The coordinator's layout: a server per shard (loopback TCP), a partitioned
# table whose partitions are the shards' beat tables, each shard's model inbox.
on coord >/dev/null <<SQL || { not_ok "create the partitioned table over the shards"; exit 1; }
CREATE TABLE beats (id bigint, record text, label smallint, signal real[]) PARTITION BY LIST (record);
$(for s in 1 2; do
	if [ $s = 1 ]; then recs="'rec0', 'rec1', 'rec2'"; else recs="'rec3', 'rec4', 'rec5'"; fi
	cat <<SQL2
CREATE SERVER shard$s FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '${port[shard$s]}', dbname 'postgres', extensions 'ecgdl', async_capable 'true');
CREATE USER MAPPING FOR postgres SERVER shard$s OPTIONS (user 'postgres');
CREATE FOREIGN TABLE beats_shard$s PARTITION OF beats FOR VALUES IN ($recs)
    SERVER shard$s OPTIONS (table_name 'beats_shard$s');
CREATE SCHEMA shard${s}_ecgdl;
IMPORT FOREIGN SCHEMA ecgdl LIMIT TO (model_imports) FROM SERVER shard$s INTO shard${s}_ecgdl;
SQL2
done)
SQL
check "the partitioned table sees every beat, split by record" "2400|1200|1200" \
	"$(on coord -c "SELECT count(*), count(*) FILTER (WHERE tableoid = 'beats_shard1'::regclass),
	                       count(*) FILTER (WHERE tableoid = 'beats_shard2'::regclass) FROM beats")"

# one call pushes the model to both shards, each checks the checksum
h=$(on coord -c "SELECT encode(ecg_model_hash('sh_model'), 'hex')")
check "ecg_model_push copies the model to both shards with its checksum" "2|t" \
	"$(on coord -c "SELECT count(*), bool_and(sha256 = ecg_model_hash('sh_model'))
	                FROM ecg_model_push('sh_model', ARRAY['shard1_ecgdl.model_imports', 'shard2_ecgdl.model_imports']::regclass[])")"
check "each shard holds the model with the coordinator's SHA-256" "$h|$h" \
	"$(for s in 1 2; do on shard$s -c "SELECT encode(ecg_model_hash('sh_model'), 'hex')"; done | paste -sd'|')"

# a push one shard refuses (it holds another model under the name, replace =>
# false: 42710) fails as a whole: the other shard keeps nothing
on shard2 -c "SET client_min_messages = warning" \
	-c "SELECT ecg_train('sh_taken', 'beats_shard2', 'baseline', epochs => 1, batch_size => 64, seed => 6)" >/dev/null
on coord -c "SET client_min_messages = warning" \
	-c "SELECT ecg_train('sh_taken', 'beats_all', 'baseline', epochs => 1, batch_size => 64, seed => 5)" >/dev/null
out=$(on coord -c "SELECT * FROM ecg_model_push('sh_taken', ARRAY['shard1_ecgdl.model_imports', 'shard2_ecgdl.model_imports']::regclass[], replace => false)" 2>&1)
check "a push shard2 refuses fails with shard2's error" "1" "$(grep -c 'model "sh_taken" already exists' <<<"$out")"
check "... and leaves nothing on shard1" "0" "$(on shard1 -c "SELECT count(*) FROM ecgdl.models WHERE name = 'sh_taken'")"

# per-beat classes: grouped by record and id, so that each partition's grouping,
# with the call, runs on its shard (partitionwise aggregation)
per_beat="SET enable_partitionwise_aggregate = on;
SELECT id, ecg_classify_hash('\\x$h', signal) AS predicted FROM beats GROUP BY record, id, 2"
explain=$(on coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF) ${per_beat#*;}")
check "EXPLAIN VERBOSE: the call is inside both remote queries" "2" \
	"$(grep -c "Remote SQL: SELECT .*public.ecg_classify_hash(E'\\\\\\\\x$h'::bytea, signal).* FROM public.beats_shard[12] GROUP BY" <<<"$explain")"
check "EXPLAIN: both shards are scanned at once (Async Foreign Scan)" "2" "$(grep -c 'Async Foreign Scan' <<<"$explain")"
check "EXPLAIN VERBOSE: nothing is classified on the coordinator" "0" \
	"$(grep -v 'Remote SQL' <<<"$explain" | grep -c 'Output: .*ecg_classify_hash(.*signal)$')"
single=$(on coord -c "SELECT md5(string_agg(id || ':' || ecg_classify('sh_model', signal), ',' ORDER BY id)) FROM beats_all")
check "classification through the coordinator is the single-server run's, row for row" "$single" \
	"$(on coord -c "$per_beat" | sort -t'|' -k1,1n | awk -F'|' '{printf "%s%s:%s", (NR > 1 ? "," : ""), $1, $2}' | md5sum | cut -d' ' -f1)"
check "probabilities through the coordinator are the single-server ones, row for row" \
	"$(on coord -c "SELECT md5(string_agg(id || ':' || ecg_predict_proba('sh_model', signal)::text, ',' ORDER BY id)) FROM beats_all")" \
	"$(on coord -c "SET enable_partitionwise_aggregate = on" -c "SELECT md5(string_agg(id || ':' || p::text, ',' ORDER BY id))
	   FROM (SELECT id, ecg_predict_proba_hash('\\x$h', signal) AS p FROM beats GROUP BY record, id, 2) r")"

# time, as a figure only (2 cores shared by everything here)
t0=$(now_ms); on coord -c "SELECT count(ecg_classify('sh_model', signal)) FROM beats_all" >/dev/null
t1=$(now_ms); on coord -c "$per_beat" >/dev/null
t2=$(now_ms)
figure "2400 beats classified in $((t1 - t0)) ms on one server, $((t2 - t1)) ms through the coordinator and two shards (same machine)"

# evaluation: confusion counts per shard (label, predicted), summed here
confusion_single=$(on coord -c "SELECT string_agg(label || '>' || p || '=' || n, ' ' ORDER BY label, p)
	FROM (SELECT label, ecg_classify('sh_model', signal) AS p, count(*) AS n FROM beats_all GROUP BY 1, 2) c")
confusion_sql="SELECT string_agg(label || '>' || p || '=' || n, ' ' ORDER BY label, p)
	FROM (SELECT label, p, sum(n) AS n FROM (SELECT record, label, ecg_classify_hash('\\x$h', signal) AS p, count(*) AS n
	      FROM beats GROUP BY 1, 2, 3) per_shard GROUP BY 1, 2) c"
check "confusion counts summed over the shards are the single-server ones" "$confusion_single" \
	"$(on coord -c "SET enable_partitionwise_aggregate = on" -c "$confusion_sql")"
check "EXPLAIN VERBOSE: the confusion counts are computed on the shards" "2" \
	"$(on coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF) $confusion_sql" |
	   grep -c "Remote SQL: SELECT record, label, public.ecg_classify_hash(.*), count(\*) FROM public.beats_shard[12] GROUP BY")"

# bytes: what the coordinator's TCP connections to the shards received
# (ss bytes_received), for a first statement that only opens them and then for
# the classification; the difference per beat
if command -v ss >/dev/null; then
	bytes_for() {
		coord_bytes_for "SET enable_partitionwise_aggregate = on; SELECT count(*) FROM beats WHERE id < 0" \
			shard1 shard2 <<<"$1"
	}
	shipped=$(bytes_for "${per_beat#*;}")
	proba=$(bytes_for "SELECT id, ecg_predict_proba_hash('\\x$h', signal) FROM beats GROUP BY record, id, 2")
	counts=$(bytes_for "$confusion_sql")
	pulled=$(bytes_for "SELECT id, ecg_classify('sh_model', signal) FROM beats")
	figure "bytes received by the coordinator per classified beat: $((shipped / 2400)) with the call on the shards ($shipped for 2400 beats), $((proba / 2400)) for the 5 probabilities ($proba), $counts in all for the confusion counts, $((pulled / 2400)) when the signals are pulled ($pulled)"
	check "under 40 bytes cross per classified beat (the signal alone is 748)" "1" "$(( shipped / 2400 < 40 ))"
else
	not_ok "bytes per beat measured" "ss (iproute2) is needed"
fi

# a shard with another version of the model (trained there again) refuses
on shard2 >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT ecg_train('sh_model', 'beats_shard2', 'baseline', epochs => 1, batch_size => 64, seed => 4, replace => true);
SQL
out=$(on coord -c "SET enable_partitionwise_aggregate = on" -c "$confusion_sql" 2>&1)
check "a shard holding another version of the model refuses (55000)" "1" \
	"$(grep -c "no model with SHA-256 $h on this server" <<<"$out")"
check "after a new push both shards classify again" "$confusion_single" \
	"$(on coord -c "SELECT count(*) FROM ecg_model_push('sh_model', ARRAY['shard1_ecgdl.model_imports', 'shard2_ecgdl.model_imports']::regclass[])" >/dev/null &&
	   on coord -c "SET enable_partitionwise_aggregate = on" -c "$confusion_sql")"

# a shard stopped mid-query: the query waits on shard2 for a lock another
# session holds, shard2 is stopped; the error names the shard, and a push in
# the same failing statement leaves nothing on shard1
on shard2 -c "BEGIN; LOCK TABLE beats_shard2 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 50); do
	[ "$(on shard2 -c "SELECT count(*) FROM pg_locks WHERE relation = 'beats_shard2'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
	sleep 0.1
done
on coord -c "BEGIN" \
	-c "SELECT ecg_model_import('sh_pushed_then_failed', ecg_model_export('sh_model'))" \
	-c "INSERT INTO shard1_ecgdl.model_imports (name, weights) SELECT 'sh_half', ecg_model_export('sh_model')" \
	-c "SET enable_partitionwise_aggregate = on" -c "$confusion_sql" -c "COMMIT" >"$top/mid.out" 2>&1 &
query=$!
for _ in $(seq 50); do
	[ "$(on shard2 -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%ecg_classify_hash%'")" = 1 ] && break
	sleep 0.1
done
cluster_stop shard2
wait $query
wait $locker 2>/dev/null
cat "$top/mid.out" >&2
check "a shard stopped mid-query: the error says the connection was lost, in the remote SQL on shard2" "1|1" \
	"$(grep -c 'ERROR:  server closed the connection unexpectedly' "$top/mid.out")|$(grep -c 'FROM public.beats_shard2 GROUP BY' "$top/mid.out")"
check "nothing is half-written on the other shard, nor on the coordinator" "0|0" \
	"$(on shard1 -c "SELECT count(*) FROM ecgdl.models WHERE name = 'sh_half'")|$(on coord -c "SELECT count(*) FROM ecgdl.models WHERE name = 'sh_pushed_then_failed'")"
out=$(on coord -c "SELECT count(*) FROM beats" 2>&1)
check "a shard that is down: the error names it" "1" "$(grep -c 'could not connect to server "shard2"' <<<"$out")"
