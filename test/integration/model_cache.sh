#!/usr/bin/env bash
# The per-backend model cache across sessions: session A classifies with a
# model (and caches it), session B replaces the model, and A's next statement
# uses the new model.  Needs a running server (set up by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=ecgdl_model_cache
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT

run >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE TABLE beats AS
SELECT n::bigint AS id, (n % 5)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.5 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0) + 0.05 * sin(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(1, 300) n;
SELECT ecg_train('first', 'beats', 'baseline', 'beats', epochs => 2, seed => 1);
SELECT ecg_train('second', 'beats', 'baseline', 'beats', epochs => 2, seed => 2);
SELECT ecg_model_import('shared', ecg_model_export('first'));
SQL

probe="SELECT md5(string_agg(ecg_predict_proba('shared', signal)::text, ',' ORDER BY id)) FROM beats;"
expect_first=$(run -c "SELECT md5(string_agg(ecg_predict_proba('first', signal)::text, ',' ORDER BY id)) FROM beats")
expect_second=$(run -c "SELECT md5(string_agg(ecg_predict_proba('second', signal)::text, ',' ORDER BY id)) FROM beats")

# session A stays open across the replacement
coproc A { psql -X -q -At -d "$db" 2>&1; }
# bash unsets A_PID and A as soon as the coprocess exits (which may be before
# the last line here runs), so keep a copy of the pid and of both descriptors
a_pid=$A_PID
exec {a_in}>&"${A[1]}" {a_out}<&"${A[0]}"
ask_a() { echo "$1" >&"$a_in"; read -r -t 60 answer <&"$a_out"; echo "$answer"; }

check "session A classifies with the model as first stored" "$expect_first" "$(ask_a "$probe")"
check "a second statement in A reuses the cached model" "$expect_first" "$(ask_a "$probe")"
run -c "SELECT ecg_model_import('shared', ecg_model_export('second'), replace => true)" >/dev/null
check "after session B replaces it, A's next statement uses the new model" "$expect_second" "$(ask_a "$probe")"
run -c "DELETE FROM ecgdl.models WHERE name = 'shared'" >/dev/null
answer=$(ask_a "SELECT ecg_classify('shared', signal) FROM beats LIMIT 1;")
case "$answer" in
	*"does not exist"*) ok "after session B drops it, A's next statement reports the model missing" ;;
	*) not_ok "after session B drops it, A's next statement reports the model missing" "got: $answer" ;;
esac
echo '\q' >&"$a_in"
exec {a_in}>&- {a_out}<&-
wait "$a_pid" 2>/dev/null || true
