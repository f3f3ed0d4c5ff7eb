#!/usr/bin/env bash
# Scale-out over PL/Proxy (issue 13, README "Scale-out": the layout compared
# with postgres_fdw's).  Three throwaway clusters of its own - a coordinator
# and two shards on loopback TCP, as the postgres user when run as root -
# each shard holding the records PL/Proxy's hashtext(record) maps to it, a
# cluster defined with CREATE SERVER ... FOREIGN DATA WRAPPER plproxy, proxy
# functions (RUN ON ALL, RUN ON hashtext(record)) whose SELECT calls
# ecg_classify_hash on the shards.  Checks: classes, probabilities and summed
# confusion counts are the single-server run's, row for row; a record's beats
# come from its shard alone; only ids and classes cross (bytes per beat from
# the kernel's TCP counters); a shard with another version of the model
# refuses; a shard down or stopped mid-query gives an error naming it.
# Skips itself, saying so, when PL/Proxy is not installed in the server used.
# Ports: ECGDL_PLPROXY_PORT (default: the suite's port + 4) and the next two.
set -uo pipefail
source "$(dirname "$0")/common.bash"
source "$(dirname "$0")/../../.ci/lib.sh"
source "$(dirname "$0")/clusters.bash"

libdir=$("$PG_BIN/pg_config" --pkglibdir)
sharedir=$("$PG_BIN/pg_config" --sharedir)
if [ ! -f "$libdir/plproxy.so" ] || [ ! -f "$sharedir/extension/plproxy.control" ]; then
	ok "PL/Proxy layout # SKIP: PL/Proxy is not installed in the server of $PG_BIN"
	echo "# shards_plproxy: PL/Proxy not found ($libdir/plproxy.so, $sharedir/extension/plproxy.control):" \
		"apt-get install postgresql-15-plproxy; a private copy of the server needs those files copied in" >&2
	exit 0
fi

clusters_start "${ECGDL_PLPROXY_PORT:-$(( ${ECGDL_PGPORT:-54329} + 4 ))}" coord shard1 shard2 || exit 1
ok "three clusters (coordinator, shard1, shard2) on ports ${port[coord]}-${port[shard2]}"

# Each shard's beats live in a database named after it: PL/Proxy's errors name
# the database of the connection that failed.
for s in 1 2; do
	on shard$s -c "CREATE DATABASE shard$s" || { not_ok "create database shard$s"; exit 1; }
	database[shard$s]=shard$s
done

# The beats: 6 records of 400 synthetic beats (class n % 5), as in shards.sh.
# A record lives on the shard PL/Proxy maps it to: partition
# abs(hashtext(record) % 2) (modular_mapping), p0 = shard1, p1 = shard2.
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
CREATE EXTENSION plproxy;
CREATE TABLE beats_all AS $(beats_of true);
SELECT ecg_train('px_model', 'beats_all', 'baseline', epochs => 2, batch_size => 64, seed => 3);
SQL
for s in 1 2; do
	on shard$s >/dev/null <<SQL || { not_ok "set up shard$s"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE TABLE beats AS $(beats_of "abs(hashtext('rec' || (n % 6)) % 2) = $((s - 1))");
ALTER TABLE beats ADD PRIMARY KEY (id);
SQL
done
counts=$(for s in 1 2; do on shard$s -c "SELECT count(*) FROM beats"; done | paste -sd'|')
check "the shards hold every beat between them, each some" "2400|t" \
	"$(( ${counts%|*} + ${counts#*|} ))|$([ "${counts%|*}" -gt 0 ] && [ "${counts#*|}" -gt 0 ] && echo t)"

# The coordinator's layout: the cluster (an SQL/MED server of the plproxy
# wrapper, one connection string per partition), a user mapping, and the proxy
# functions: each SELECT runs as it is on every shard (RUN ON ALL) or on the
# one a record hashes to; PL/Proxy only replaces the arguments' names.
on coord >/dev/null <<SQL || { not_ok "create the PL/Proxy cluster and the proxy functions"; exit 1; }
CREATE SERVER beats_cluster FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping '1',
    p0 'host=127.0.0.1 port=${port[shard1]} dbname=shard1',
    p1 'host=127.0.0.1 port=${port[shard2]} dbname=shard2');
CREATE USER MAPPING FOR postgres SERVER beats_cluster OPTIONS (user 'postgres');

CREATE FUNCTION shard_model_import(model text, blob bytea, overwrite boolean)
RETURNS TABLE (shard_port int, sha256 bytea) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON ALL;
    SELECT pg_catalog.inet_server_port() AS shard_port, pg_catalog.sha256(blob) AS sha256
    FROM (SELECT public.ecg_model_import(model, blob, overwrite)) AS i;
\$\$;
CREATE FUNCTION shard_model_hash(model text)
RETURNS TABLE (shard_port int, sha256 bytea) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON ALL;
    SELECT pg_catalog.inet_server_port() AS shard_port, public.ecg_model_hash(model) AS sha256;
\$\$;
CREATE FUNCTION classify_beats(model_sha256 bytea)
RETURNS TABLE (id bigint, predicted smallint) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON ALL;
    SELECT b.id, public.ecg_classify_hash(model_sha256, b.signal) AS predicted FROM public.beats AS b;
\$\$;
CREATE FUNCTION beat_probabilities(model_sha256 bytea)
RETURNS TABLE (id bigint, probabilities real[]) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON ALL;
    SELECT b.id, public.ecg_predict_proba_hash(model_sha256, b.signal) AS probabilities FROM public.beats AS b;
\$\$;
CREATE FUNCTION confusion_counts(model_sha256 bytea)
RETURNS TABLE (label smallint, predicted smallint, beats bigint) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON ALL;
    SELECT b.label, public.ecg_classify_hash(model_sha256, b.signal) AS predicted, pg_catalog.count(*) AS beats
    FROM public.beats AS b GROUP BY 1, 2;
\$\$;
CREATE FUNCTION classify_record(model_sha256 bytea, rec text)
RETURNS TABLE (shard_port int, id bigint, predicted smallint) LANGUAGE plproxy AS \$\$
    CLUSTER 'beats_cluster';
    RUN ON hashtext(rec);
    SELECT pg_catalog.inet_server_port() AS shard_port, b.id,
           public.ecg_classify_hash(model_sha256, b.signal) AS predicted
    FROM public.beats AS b WHERE b.record OPERATOR(pg_catalog.=) rec;
\$\$;
SQL

# the model to both shards, each returning the SHA-256 of what it received,
# then each shard's stored model's SHA-256
h=$(on coord -c "SELECT encode(ecg_model_hash('px_model'), 'hex')")
check "a RUN ON ALL import copies the model to both shards" "${port[shard1]}:$h ${port[shard2]}:$h" \
	"$(on coord -c "SELECT string_agg(shard_port || ':' || encode(sha256, 'hex'), ' ' ORDER BY shard_port)
	                FROM shard_model_import('px_model', ecg_model_export('px_model'), true)")"
check "each shard's stored model has the coordinator's SHA-256" "2|t" \
	"$(on coord -c "SELECT count(*), bool_and(sha256 = ecg_model_hash('px_model')) FROM shard_model_hash('px_model')")"

single=$(on coord -c "SELECT md5(string_agg(id || ':' || ecg_classify('px_model', signal), ',' ORDER BY id)) FROM beats_all")
check "classification through PL/Proxy is the single-server run's, row for row" "2400|$single" \
	"$(on coord -c "SELECT count(*), md5(string_agg(id || ':' || predicted, ',' ORDER BY id)) FROM classify_beats('\\x$h')")"
check "probabilities through PL/Proxy are the single-server ones, row for row" \
	"$(on coord -c "SELECT md5(string_agg(id || ':' || ecg_predict_proba('px_model', signal)::text, ',' ORDER BY id)) FROM beats_all")" \
	"$(on coord -c "SELECT md5(string_agg(id || ':' || probabilities::text, ',' ORDER BY id)) FROM beat_probabilities('\\x$h')")"
confusion_single=$(on coord -c "SELECT string_agg(label || '>' || p || '=' || n, ' ' ORDER BY label, p)
	FROM (SELECT label, ecg_classify('px_model', signal) AS p, count(*) AS n FROM beats_all GROUP BY 1, 2) c")
confusion_sql="SELECT string_agg(label || '>' || predicted || '=' || n, ' ' ORDER BY label, predicted)
	FROM (SELECT label, predicted, sum(beats) AS n FROM confusion_counts('\\x$h') GROUP BY 1, 2) c"
check "confusion counts summed over the shards are the single-server ones" "$confusion_single" "$(on coord -c "$confusion_sql")"

# RUN ON hashtext(record): one record's beats, from the shard holding it only
rec_port=$(on coord -c "SELECT CASE abs(hashtext('rec4') % 2) WHEN 0 THEN ${port[shard1]} ELSE ${port[shard2]} END")
check "RUN ON hashtext(record): rec4 is classified on its shard alone, as on one server" \
	"$rec_port|$(on coord -c "SELECT count(*) || '|' || md5(string_agg(id || ':' || ecg_classify('px_model', signal), ',' ORDER BY id))
	                          FROM beats_all WHERE record = 'rec4'")" \
	"$(on coord -c "SELECT string_agg(DISTINCT shard_port::text, ',') || '|' || count(*) || '|' || md5(string_agg(id || ':' || predicted, ',' ORDER BY id))
	                FROM classify_record('\\x$h', 'rec4')")"

# bytes the coordinator's connections to the shards received, less those of a
# first call that opens them; per beat
if command -v ss >/dev/null; then
	bytes_for() { coord_bytes_for "SELECT count(*) FROM shard_model_hash('px_model')" shard1 shard2 <<<"$1"; }
	shipped=$(bytes_for "SELECT count(*) FROM classify_beats('\\x$h')")
	proba=$(bytes_for "SELECT count(*) FROM beat_probabilities('\\x$h')")
	counts=$(bytes_for "$confusion_sql")
	figure "bytes received by the coordinator per beat through PL/Proxy: $((shipped / 2400)) for id and class ($shipped for 2400 beats), $((proba / 2400)) for id and 5 probabilities ($proba), $counts in all for the confusion counts"
	check "under 40 bytes cross per classified beat (the signal alone is 748)" "1" "$(( shipped / 2400 < 40 ))"
else
	not_ok "bytes per beat measured" "ss (iproute2) is needed"
fi

# a shard with another version of the model (trained there again) refuses
on shard2 >/dev/null <<'SQL'
SET client_min_messages = warning;
SELECT ecg_train('px_model', 'beats', 'baseline', epochs => 1, batch_size => 64, seed => 4, replace => true);
SQL
out=$(on coord -c "$confusion_sql" 2>&1)
check "a shard holding another version of the model refuses (55000), and says which" "1|1" \
	"$(grep -c "no model with SHA-256 $h on this server" <<<"$out")|$(grep -c "\[shard2\]" <<<"$out")"
check "after a new import both shards classify again" "$confusion_single" \
	"$(on coord -c "SELECT count(*) FROM shard_model_import('px_model', ecg_model_export('px_model'), true)" >/dev/null &&
	   on coord -c "$confusion_sql")"

# no transaction spans the shards: each runs its part of a call in a
# transaction of its own.  An import shard2 refuses (it holds another model
# under the name, overwrite false: 42710) fails, but shard1 keeps the model -
# the documented difference from postgres_fdw (README "Scale-out").  Shard2's
# part waits for a lock on its models table until shard1's part has
# committed (PL/Proxy runs the parts at once, and cancels the others when one
# fails: without the wait, whether shard1 got to commit first is a race).
on shard2 -c "SET client_min_messages = warning" \
	-c "SELECT ecg_train('px_taken', 'beats', 'baseline', epochs => 1, batch_size => 64, seed => 6)" >/dev/null
on coord -c "SET client_min_messages = warning" \
	-c "SELECT ecg_train('px_taken', 'beats_all', 'baseline', epochs => 1, batch_size => 64, seed => 5)" >/dev/null
on shard2 -c "BEGIN; LOCK TABLE ecgdl.models IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60); COMMIT" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 100); do
	[ "$(on shard2 -c "SELECT count(*) FROM pg_locks WHERE relation = 'ecgdl.models'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
	sleep 0.1
done
on coord -c "SELECT * FROM shard_model_import('px_taken', ecg_model_export('px_taken'), false)" >"$top/import.out" 2>&1 &
query=$!
committed=0
for _ in $(seq 300); do
	committed=$(on shard1 -c "SELECT count(*) FROM ecgdl.models WHERE name = 'px_taken'")
	[ "$committed" = 1 ] && break
	sleep 0.1
done
check "shard1 commits its import while shard2's part still waits (no transaction across the shards)" "1" "$committed"
on shard2 -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'ecgdl.models'::regclass AND mode = 'AccessExclusiveLock' AND granted" >/dev/null
wait $locker 2>/dev/null
wait $query
check "an import shard2 refuses fails with shard2's error" "1" "$(grep -c 'model "px_taken" already exists' "$top/import.out")"
check "... and shard1 keeps the model it committed" "1" \
	"$(on shard1 -c "SELECT count(*) FROM ecgdl.models WHERE name = 'px_taken'")"

# a shard stopped mid-query: the call waits on shard2 for a lock another
# session holds, shard2 is stopped
on shard2 -c "BEGIN; LOCK TABLE beats IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(30); COMMIT" >/dev/null 2>&1 &
locker=$!
for _ in $(seq 50); do
	[ "$(on shard2 -c "SELECT count(*) FROM pg_locks WHERE relation = 'beats'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
	sleep 0.1
done
on coord -c "$confusion_sql" >"$top/mid.out" 2>&1 &
query=$!
for _ in $(seq 50); do
	[ "$(on shard2 -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%ecg_classify_hash%'")" = 1 ] && break
	sleep 0.1
done
cluster_stop shard2
wait $query
wait $locker 2>/dev/null
cat "$top/mid.out" >&2
check "a shard stopped mid-query: the error names the shard's database" "1" \
	"$(grep -c "ERROR: .*\[shard2\] PQconsumeInput: server closed the connection unexpectedly" "$top/mid.out")"
out=$(on coord -c "SELECT count(*) FROM classify_beats('\\x$h')" 2>&1)
echo "$out" >&2
check "a shard that is down: the error names its database, host and port" "1" \
	"$(grep -c "ERROR: .*\[shard2\] PQconnectPoll: connection to server at \"127.0.0.1\", port ${port[shard2]} failed" <<<"$out")"
