#!/usr/bin/env bash
# The model and evaluation tables against ordinary roles (issue 10, findings
# 4 and 11):
#   only ecgdl's functions write ecgdl.models and ecgdl.evaluations - no role
#   forges an evaluation of another's model, stores a malformed one that
#   breaks the report views, takes future ids with OVERRIDING SYSTEM VALUE so
#   that others' next ecg_train/ecg_model_import/ecg_evaluate fail with 23505,
#   or rewrites a stored model's row; owners still delete their rows; a model
#   another role stores while ecg_train runs is neither replaced nor taken;
#   models belong to a role by OID: a renamed role keeps its models, a new role
#   of the old name gets none of them.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_security_store
p=ecgdl_sst	# role name prefix
alice=${p}_alice
bob=${p}_bob
bobby=${p}_bobby
roles="$alice $bob $bobby"

drop_all() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	for r in $roles; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
race_out=$(mktemp)
trap 'drop_all; rm -f "$race_out"' EXIT

drop_all
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "create database $db"; exit 1; }
for r in $alice $bob; do psql -X -q -d postgres -c "CREATE ROLE $r LOGIN" >/dev/null; done
# the superuser trains two small models on 100 beats everyone may read
run >/dev/null <<SQL || { not_ok "set up the extension, beats and models"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
GRANT CREATE ON SCHEMA public TO $alice, $bob;
$(beats_sql 100)
SELECT ecg_train('base_1', 'beats', 'baseline', 'beats', epochs => 1, batch_size => 32, seed => 1);
SELECT ecg_train('base_2', 'beats', 'baseline', 'beats', epochs => 1, batch_size => 32, seed => 2);
SQL

out=$(as_role "$alice" <<SQL
SELECT ecg_model_import('alice_model', ecg_model_export('base_1')) > 0;
SELECT count(*) FROM ecg_evaluate('alice_model', 'beats');
SQL
)
check "alice imports a model and evaluates it" "t|8" "$(echo "$out" | paste -sd'|')"
out=$(as_role "$bob" <<SQL
SELECT ecg_model_import('bob_model', ecg_model_export('base_2')) > 0;
SELECT ecg_model_import('bob_model2', ecg_model_export('base_2')) > 0;
SQL
)
check "bob imports two models" "t|t" "$(echo "$out" | paste -sd'|')"
alice_accuracy=$(run -c "SELECT round(accuracy::numeric, 4) FROM ecgdl.evaluations WHERE model_name = 'alice_model'")

# --- finding 4: direct writes -------------------------------------------------
evaluation_of() {	# evaluation_of MODEL EVALUATED_AT PER_CLASS: an INSERT of a forged evaluation
	echo "INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, evaluated_at, rows,
	          accuracy, macro_f1, per_class, confusion)
	      SELECT id, name, 'public.beats', $2, 100, 1, 1, '$3', '{{100,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0}}'
	      FROM ecgdl.models WHERE name = '$1'"
}
expect_as "$bob" 42501 "bob may not insert an evaluation of alice's model, dated in the future" \
	"$(evaluation_of alice_model "now() + interval '1 year'" '{"N": {"f1": 1}}')"
expect_as "$bob" 42501 "bob may not insert a malformed evaluation of his own model" \
	"$(evaluation_of bob_model "now()" '{"N": {"f1": "not a number"}, "S": [1]}')"
check "alice's evaluation is still the latest of her model in ecgdl.report" "$alice_accuracy" \
	"$(as_role "$alice" -c "SELECT accuracy FROM ecgdl.report WHERE model = 'alice_model'")"
check "SELECT * FROM ecgdl.report and ecgdl.confusion work for everyone" "1|25" \
	"$(as_role "$alice" -c "SELECT (SELECT count(*) FROM ecgdl.report r WHERE r::text IS NOT NULL), (SELECT count(*) FROM ecgdl.confusion c WHERE c::text IS NOT NULL)" | paste -sd'|')"
expect_as "$bob" 42501 "bob may not insert a model row with an id of his choosing (OVERRIDING SYSTEM VALUE)" \
	"INSERT INTO ecgdl.models (id, name, architecture, weights) OVERRIDING SYSTEM VALUE
	 SELECT max(id) + 1, 'bob_future', 'baseline', '\\x00' FROM ecgdl.models"
expect_as "$bob" 42501 "bob may not insert an evaluation with an id of his choosing (OVERRIDING SYSTEM VALUE)" \
	"INSERT INTO ecgdl.evaluations (id, model_id, model_name, test_table, rows, accuracy, macro_f1, per_class, confusion)
	 OVERRIDING SYSTEM VALUE
	 SELECT (SELECT max(id) + 1 FROM ecgdl.evaluations), id, name, 'public.beats', 1, 1, 1, '{}', '{{1}}'
	 FROM ecgdl.models WHERE name = 'bob_model'"
out=$(as_role "$alice" <<SQL
SELECT ecg_model_import('alice_model2', ecg_model_export('base_1')) > 0;
SELECT count(*) FROM ecg_evaluate('alice_model2', 'beats');
SELECT ecg_train('alice_trained', 'beats', 'baseline', epochs => 1, batch_size => 32, seed => 3) > 0;
SQL
)
check "alice's next import, evaluation and training get fresh ids (no 23505)" "t|8|t" \
	"$(echo "$out" | grep -v NOTICE | paste -sd'|')"
expect_as "$bob" 42501 "bob may not rewrite his own model's row (weights bypassing validation)" \
	"UPDATE ecgdl.models SET weights = '\\x00' WHERE name = 'bob_model'"
expect_as "$bob" 42501 "bob may not rewrite an evaluation" \
	"UPDATE ecgdl.evaluations SET accuracy = 1 WHERE model_name = 'alice_model'"

# ecg_evaluate by bob of alice's model: stored under bob, dated by the server
out=$(as_role "$bob" -c "SELECT count(*) FROM ecg_evaluate('alice_model', 'beats')" \
	-c "SELECT owner, evaluated_at <= now() FROM ecgdl.evaluations WHERE model_name = 'alice_model' ORDER BY id DESC LIMIT 1")
check "bob's ecg_evaluate of alice's model is stored under bob, dated by the server" "8|$bob|t" \
	"$(echo "$out" | paste -sd'|')"
# deleting: owners of the evaluation or of the model; nobody else
check "no direct DELETE or strong lock of the evaluations table" \
	"ERROR:  permission denied for table evaluations|BEGIN|ERROR:  permission denied for table evaluations" \
	"$(psql -X -U "$bob" -d "$db" -c "DELETE FROM ecgdl.evaluations WHERE owner = '$alice'::regrole" \
		-c "BEGIN" -c "LOCK TABLE ecgdl.evaluations IN SHARE ROW EXCLUSIVE MODE" 2>&1 | paste -sd'|')"
hers=$(run -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model' AND owner = '$alice'::regrole")
check "bob's ecg_evaluations_drop of alice's model drops his evaluation, none of her $hers" "1|$hers" \
	"$(as_role "$bob" -c "BEGIN" -c "SELECT ecg_evaluations_drop('alice_model')" \
		-c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model' AND owner = '$alice'::regrole" \
		-c "ROLLBACK" | paste -sd'|')"
check "alice (owner of the model) drops every evaluation of it, her $hers and bob's" "$((hers + 1))|0" \
	"$(as_role "$alice" -c "SELECT ecg_evaluations_drop('alice_model')")|$(run -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model' AND owner = '$bob'::regrole")"
out=$(as_role "$bob" -c "SELECT count(*) FROM ecg_evaluate('bob_model', 'beats')")
check "bob may drop his own evaluations" "1" \
	"$(as_role "$bob" -c "SELECT ecg_evaluations_drop('bob_model', (SELECT test_table FROM ecgdl.evaluations WHERE model_name = 'bob_model' LIMIT 1))")"
check "no forged row exists" "0|0" \
	"$(run -c "SELECT (SELECT count(*) FROM ecgdl.models WHERE name = 'bob_future'),
	                  (SELECT count(*) FROM ecgdl.evaluations WHERE NOT per_class ? 'macro avg')")"

# --- finding 11: the owner is a role, not a name --------------------------------
psql -X -q -d postgres -c "ALTER ROLE $bob RENAME TO $bobby" >/dev/null
check "after ALTER ROLE ... RENAME the models show the new name as owner" "$bobby|$bobby" \
	"$(run -c "SELECT string_agg(DISTINCT owner::text, ',') FROM ecgdl.models WHERE name LIKE 'bob\_model%'" \
	       -c "SELECT owner::text FROM ecgdl.models WHERE name = 'bob_model'" | paste -sd'|')"
check "the renamed role may replace its model" "t" \
	"$(as_role "$bobby" -c "SELECT ecg_model_import('bob_model', ecg_model_export('base_1'), replace => true) > 0")"
psql -X -q -d postgres -c "CREATE ROLE $bob LOGIN" >/dev/null
expect_as "$bob" 42501 "a new role of the old name may not replace the renamed role's model" \
	"SELECT ecg_model_import('bob_model2', ecg_model_export('base_1'), replace => true)"
expect_as "$bob" 42501 "a new role of the old name may not drop the renamed role's model" \
	"SELECT ecg_model_drop('bob_model2')"
check "the renamed role may drop its model" "t" "$(as_role "$bobby" -c "SELECT ecg_model_drop('bob_model2')")"
check "the renamed role's replaced model holds the new weights" "t" \
	"$(run -c "SELECT (SELECT weights FROM ecgdl.models WHERE name = 'bob_model') = (SELECT weights FROM ecgdl.models WHERE name = 'base_1')")"

# --- the check before training and the write after it ----------------------------
# ecg_train checks the name before it trains; another session may store a
# model of that name in between.  Deterministic: a superuser session locks
# the training table, alice's ecg_train passes its check and waits for the
# lock, the superuser stores the model and commits, alice trains and writes.
race() {	# race REPLACE: the SQLSTATE of alice's ecg_train(..., replace => REPLACE)
	local model=race_$1 b_pid b_in b_out line a_pid waiting=0 i
	coproc B { psql -X -q -At -d "$db" 2>&1; }
	b_pid=$B_PID
	exec {b_in}>&"${B[1]}" {b_out}<&"${B[0]}"
	echo "BEGIN; LOCK TABLE beats IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&"$b_in"
	read -r -t 60 line <&"$b_out"
	sqlstate_as "$alice" "SELECT ecg_train('$model', 'beats', 'baseline', epochs => 1, batch_size => 32, replace => $1)" \
		>"$race_out" &
	a_pid=$!
	for i in $(seq 1 600); do
		waiting=$(run -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$alice' AND wait_event_type = 'Lock'")
		[ "$waiting" = 1 ] && break
		sleep 0.1
	done
	echo "SELECT ecg_model_import('$model', ecg_model_export('base_2')) > 0; COMMIT; SELECT 'stored';" >&"$b_in"
	read -r -t 60 line <&"$b_out"
	read -r -t 60 line <&"$b_out"
	wait "$a_pid"
	echo '\q' >&"$b_in"
	exec {b_in}>&- {b_out}<&-
	wait "$b_pid" 2>/dev/null || true
	echo "$waiting:$(cat "$race_out")"
}
check "a model stored by another role while alice's ecg_train ran is not replaced by it (42501)" "1:42501" "$(race true)"
check "nor taken by it without replace (42710, not a unique violation)" "1:42710" "$(race false)"
check "both models are the superuser's, with the weights he stored" "postgres:true|postgres:true" \
	"$(run -c "SELECT string_agg(owner::text || ':' || (weights = (SELECT weights FROM ecgdl.models WHERE name = 'base_2'))::text, '|' ORDER BY name)
	           FROM ecgdl.models WHERE name LIKE 'race\_%'")"

# an evaluation is stored only of a model the caller may read
run -c "REVOKE SELECT ON ecgdl.models FROM PUBLIC" -c "GRANT SELECT ON ecgdl.models TO $alice" >/dev/null
expect_as "$bobby" 42501 "a role that may not read ecgdl.models evaluates no model" \
	"SELECT count(*) FROM ecg_evaluate('alice_model2', 'beats')"
check "and stores no evaluation" "0" \
	"$(run -c "SELECT count(*) FROM ecgdl.evaluations WHERE owner = '$bobby'::regrole")"
run -c "GRANT SELECT ON ecgdl.models TO PUBLIC" >/dev/null
