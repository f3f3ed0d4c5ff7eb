#!/usr/bin/env bash
# Scale-out benchmark (issue 13, test/bench/README.md "Scale-out"): the same
# synthetic beats classified and evaluated through a coordinator over 1, 2 and
# 3 shards, with postgres_fdw and with PL/Proxy, all clusters on this machine.
#
#   bash test/bench/shards_bench.sh        (or: make bench-shards)
#
# ECGDL_BENCH_BEATS beats (default 240,000) in 6 records, placed by record: 1
# shard holds all, 2 hold 3 records each, 3 hold 2 each; a baseline model
# trained on the coordinator and imported on the shards.  For every layout,
# shard count and query it prints one "bench:" line: wall time and beats/s,
# CPU seconds of each cluster's processes (all backends and background
# processes; per beat on the shards), bytes the coordinator's connections to
# the shards received (kernel TCP counters, ss -ti), and the coordinator
# backend's peak memory (VmHWM: PL/Proxy holds a shard's whole result in
# memory, postgres_fdw fetch_size rows at a time).  Queries: classes per beat
# and confusion counts through both layouts, classes written on the shards
# through PL/Proxy (a shard-side SQL function; postgres_fdw cannot make a
# shard write), postgres_fdw again with fetch_size 10000.  A warm-up call first
# opens the connections and loads the model.  Ports: ECGDL_BENCH_PORT (default:
# the suite's port + 8) and the next three.
set -uo pipefail
source "$(dirname "$0")/../integration/common.bash"
source "$(dirname "$0")/../../.ci/lib.sh"
source "$(dirname "$0")/../integration/clusters.bash"
cd "$ECGDL_ROOT"
beats=${ECGDL_BENCH_BEATS:-240000}
say() { echo "bench: $*"; }

ecgdl_install_packages bc iproute2 || exit 1
ecgdl_install_packages postgresql-15-plproxy || log "postgresql-15-plproxy could not be installed"
ecgdl_build_install || exit 1
plproxy=yes
[ -f "$("$PG_BIN/pg_config" --pkglibdir)/plproxy.so" ] || { plproxy=; log "PL/Proxy is not installed in $PG_BIN: postgres_fdw only"; }

clusters_start "${ECGDL_BENCH_PORT:-$(( ${ECGDL_PGPORT:-54329} + 8 ))}" coord shard1 shard2 shard3 || exit 1
shards=(shard1 shard2 shard3)

# ---- data: on every shard, schema k<K> holds its part of the beats for K
# shards (shard i of K holds the records p with p * K / 6 = i - 1); beat n is
# base beat n % 2400 rotated by n / 2400 samples, so that all differ
base_sql="SELECT n AS b, (n % 5)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.5 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0) + 0.1 * sin(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(0, 2399) n"
t0=$(date +%s)
for i in 1 2 3; do
	{
		echo "SET client_min_messages = warning; CREATE EXTENSION ecgdl; CREATE TEMP TABLE base AS $base_sql;"
		for k in 1 2 3; do
			[ "$i" -le "$k" ] || continue
			cat <<SQL
CREATE SCHEMA k$k;
CREATE TABLE k$k.beats AS
SELECT n::bigint AS id, 'rec' || (n % 6) AS record, b.label,
       b.signal[(n / 2400) % 187 + 1:187] || b.signal[1:(n / 2400) % 187] AS signal
FROM generate_series(0, $beats - 1) n JOIN base b ON b.b = n % 2400
WHERE (n % 6) * $k / 6 = $((i - 1));
ALTER TABLE k$k.beats ADD PRIMARY KEY (id);
VACUUM ANALYZE k$k.beats;
-- for PL/Proxy: classes written on the shard itself, only a count returned
CREATE TABLE k$k.classes (id bigint, predicted smallint);
CREATE FUNCTION k$k.store_classes(model_sha256 bytea) RETURNS bigint LANGUAGE sql AS \$\$
    WITH w AS (INSERT INTO k$k.classes SELECT b.id, public.ecg_classify_hash(model_sha256, b.signal) FROM k$k.beats AS b RETURNING 1)
    SELECT count(*) FROM w \$\$;
SQL
		done
	} | on shard$i >/dev/null || { log "loading shard$i failed"; exit 1; }
done
say "data: $beats beats generated on the shards in $(( $(date +%s) - t0 )) s (shard1 holds the parts for 1, 2 and 3 shards)"

# ---- the model, trained on the coordinator, imported on every shard
on coord >/dev/null <<SQL || exit 1
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE EXTENSION postgres_fdw;
CREATE TABLE train AS SELECT b::bigint AS id, label, signal FROM ($base_sql) t;
SELECT ecg_train('bench_model', 'train', 'baseline', epochs => 2, batch_size => 64, seed => 3);
SQL
on coord -c "SELECT encode(ecg_model_export('bench_model'), 'base64')" >"$top/model.b64"
for s in "${shards[@]}"; do
	{ echo "SELECT ecg_model_import('bench_model', decode('"; cat "$top/model.b64"; echo "', 'base64'));"; } |
		on "$s" >/dev/null || exit 1
done
h=$(on coord -c "SELECT encode(ecg_model_hash('bench_model'), 'hex')")

# ---- the two layouts on the coordinator, one per shard count K:
# postgres_fdw: table beats_k<K> partitioned by record over foreign tables;
# PL/Proxy: cluster k<K> and proxy functions classify_k<K>, confusion_k<K>
{
	for s in "${shards[@]}"; do
		cat <<SQL
CREATE SERVER $s FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host '127.0.0.1', port '${port[$s]}', dbname 'postgres', extensions 'ecgdl', async_capable 'true');
CREATE USER MAPPING FOR postgres SERVER $s OPTIONS (user 'postgres');
SQL
	done
	[ -n "$plproxy" ] && echo "CREATE EXTENSION plproxy;"
	for k in 1 2 3; do
		echo "CREATE TABLE beats_k$k (id bigint, record text, label smallint, signal real[]) PARTITION BY LIST (record);"
		parts=""
		for i in $(seq 1 $k); do
			recs=$(for p in 0 1 2 3 4 5; do [ $(( p * k / 6 )) = $((i - 1)) ] && printf "'rec%s'," $p; done)
			echo "CREATE FOREIGN TABLE beats_k${k}_shard$i PARTITION OF beats_k$k FOR VALUES IN (${recs%,})
    SERVER shard$i OPTIONS (schema_name 'k$k', table_name 'beats');"
			parts+="p$((i - 1)) 'host=127.0.0.1 port=${port[shard$i]} dbname=postgres', "
		done
		[ -n "$plproxy" ] && cat <<SQL
CREATE SERVER k$k FOREIGN DATA WRAPPER plproxy OPTIONS (${parts} modular_mapping '1');
CREATE USER MAPPING FOR postgres SERVER k$k OPTIONS (user 'postgres');
CREATE FUNCTION classify_k$k(model_sha256 bytea) RETURNS TABLE (id bigint, predicted smallint) LANGUAGE plproxy AS \$\$
    CLUSTER 'k$k'; RUN ON ALL;
    SELECT b.id, public.ecg_classify_hash(model_sha256, b.signal) AS predicted FROM k$k.beats AS b;
\$\$;
CREATE FUNCTION warm_k$k(model_sha256 bytea) RETURNS TABLE (predicted smallint) LANGUAGE plproxy AS \$\$
    CLUSTER 'k$k'; RUN ON ALL;
    SELECT public.ecg_classify_hash(model_sha256, b.signal) AS predicted FROM k$k.beats AS b WHERE b.id < 6;
\$\$;
CREATE FUNCTION store_classes_k$k(model_sha256 bytea) RETURNS TABLE (beats bigint) LANGUAGE plproxy AS \$\$
    CLUSTER 'k$k'; RUN ON ALL;
    SELECT k$k.store_classes(model_sha256) AS beats;
\$\$;
CREATE FUNCTION confusion_k$k(model_sha256 bytea) RETURNS TABLE (label smallint, predicted smallint, beats bigint) LANGUAGE plproxy AS \$\$
    CLUSTER 'k$k'; RUN ON ALL;
    SELECT b.label, public.ecg_classify_hash(model_sha256, b.signal) AS predicted, pg_catalog.count(*) AS beats
    FROM k$k.beats AS b GROUP BY 1, 2;
\$\$;
SQL
	done
} | on coord >/dev/null || { log "setting up the coordinator failed"; exit 1; }

# ---- one measured call: CPU ticks of every cluster's processes, bytes
# received from the shards and the wall clock, before and after, in the same
# coordinator session (its connections to the shards stay open)
cat >"$top/snap.sh" <<SH
#!/bin/sh
# one line: seconds when it starts, bytes received from the shards, CPU ticks
# of coord shard1 shard2 shard3, the coordinator's peak memory, seconds when it ends
t=\$(date +%s.%N)
b=\$($(bytes_received_cmd shard1 shard2 shard3))
c=""
for d in ${dir[coord]} ${dir[shard1]} ${dir[shard2]} ${dir[shard3]}; do
	pm=\$(head -n 1 \$d/data/postmaster.pid)
	c="\$c \$(for p in \$pm \$(pgrep -P \$pm); do cat /proc/\$p/stat 2>/dev/null; done | awk '{ s += \$14 + \$15 } END { print s + 0 }')"
done
# the coordinator's largest peak resident set (VmHWM, kB): its backend's
pm=\$(head -n 1 ${dir[coord]}/data/postmaster.pid)
m=\$(for p in \$(pgrep -P \$pm); do grep VmHWM /proc/\$p/status 2>/dev/null; done | awk '{ if (\$2 > m) m = \$2 } END { print m + 0 }')
echo \$t \$b\$c \$m \$(date +%s.%N)
SH
chmod 755 "$top/snap.sh"
hz=$(getconf CLK_TCK)

measure() {	# LAYOUT K WHAT WARM-UP-SQL SQL
	local layout=$1 k=$2 what=$3 out
	out=$(on coord <<SQL
SET enable_partitionwise_aggregate = on;
\\o /dev/null
$4;
\\o
\\! $top/snap.sh
$5;
\\! $top/snap.sh
SQL
	) || { say "$layout, $k shard(s), $what: FAILED"; return; }
	awk -v n="$beats" -v hz="$hz" -v k="$k" -v layout="$layout" -v what="$what" '
		NR == 1 { for (i = 1; i <= 8; i++) a[i] = $i } NR == 2 { result = $0 }
		NR == 3 { t = $1 - a[8]; printf "bench: %s, %d shard(s), %s: %.2f s, %.0f beats/s, result %s; coordinator CPU %.2f s;",
		                 layout, k, what, t, n / t, result, ($3 - a[3]) / hz
		          sum = 0
		          for (i = 1; i <= k; i++) { c = ($(3 + i) - a[3 + i]) / hz; sum += c; printf " shard%d CPU %.2f s;", i, c }
		          printf " shards %.2f us CPU per beat; %.1f bytes received per beat (%d in all); coordinator backend peak %.0f MB\n",
		                 sum / n * 1e6, ($2 - a[2]) / n, $2 - a[2], $7 / 1024 }' <<<"$out"
}

per_beat_fdw() { echo "SELECT count(*) || ' beats' FROM (SELECT id, ecg_classify_hash('\\x$h', signal) AS predicted FROM beats_k$1 ${2:-} GROUP BY record, id, 2) s"; }
confusion_fdw() { echo "SELECT sum(n) || ' beats' FROM (SELECT record, label, ecg_classify_hash('\\x$h', signal) AS predicted, count(*) AS n FROM beats_k$1 ${2:-} GROUP BY 1, 2, 3) s"; }

# the calls must run on the shards: EXPLAIN VERBOSE shows them in the remote SQL
for q in per_beat_fdw confusion_fdw; do
	n=$(on coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF) $($q 3)" | grep -c 'Remote SQL: SELECT .*ecg_classify_hash')
	[ "$n" = 3 ] || { log "$q: the call is not in the 3 remote queries"; exit 1; }
done

# one server, no coordinator, for reference: per-row call and the batch
# function, on shard1's table of all beats
for sql in "SELECT count(ecg_classify_hash('\\x$h', signal)) || ' beats' FROM k1.beats" \
	"SELECT count(predicted) || ' beats' FROM ecg_classify_table('bench_model', 'k1.beats')"; do
	t0=$(date +%s.%N)
	r=$(on shard1 -c "$sql")
	t1=$(date +%s.%N)
	say "one server (shard1 alone): ${sql%% FROM*}: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s, $(echo "$beats / ($t1 - $t0)" | bc) beats/s, result $r"
done

for k in 1 2 3; do
	measure postgres_fdw $k "classes per beat" "$(per_beat_fdw $k "WHERE id < 6")" "$(per_beat_fdw $k)"
	measure postgres_fdw $k "confusion counts" "$(confusion_fdw $k "WHERE id < 6")" "$(confusion_fdw $k)"
	[ -n "$plproxy" ] || continue
	measure PL/Proxy $k "classes per beat" "SELECT count(*) FROM warm_k$k('\\x$h')" \
		"SELECT count(*) || ' beats' FROM classify_k$k('\\x$h')"
	measure PL/Proxy $k "confusion counts" "SELECT count(*) FROM warm_k$k('\\x$h')" \
		"SELECT sum(beats) || ' beats' FROM confusion_k$k('\\x$h')"
	measure PL/Proxy $k "classes stored on the shards" "SELECT count(*) FROM warm_k$k('\\x$h')" \
		"SELECT sum(beats) || ' beats' FROM store_classes_k$k('\\x$h')"
done

# postgres_fdw fetches 100 rows per FETCH by default: each is a statement on
# the shard; with 10,000 per FETCH
for s in "${shards[@]}"; do on coord -c "ALTER SERVER $s OPTIONS (ADD fetch_size '10000')"; done
for k in 1 2 3; do
	measure "postgres_fdw (fetch_size 10000)" $k "classes per beat" "$(per_beat_fdw $k "WHERE id < 6")" "$(per_beat_fdw $k)"
done
