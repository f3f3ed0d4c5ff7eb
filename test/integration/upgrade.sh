#!/usr/bin/env bash
# The upgrade path 0.1.0 -> 0.2.0 -> the default version (0.3.0, 0.4.0, 0.5.0) (issue 16, point 2): ecgdl 0.1.0 as it
# shipped, models and evaluations made by a superuser and by ordinary roles
# (one with a name that needs quoting, one dropped before the update), then
# ALTER EXTENSION ecgdl UPDATE TO '0.2.0': the version is 0.2.0, the owners are roles
# (a dropped one's rows go to the tables' owner), the old models classify
# exactly as before, the new privileges are in force and the new behaviour
# works (owners by OID, pg_dump registration, writes only through ecgdl).
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_upgrade
dave=ecgdl_upg_dave
dave2=ecgdl_upg_dave2
eve='ecgdl_upg_Eve'	# upper case: quoted wherever it is an identifier
gone=ecgdl_upg_gone
tmp=$(mktemp -d)

drop_all() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	for r in $dave $dave2 "\"$eve\"" $gone; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
cleanup() { drop_all; rm -rf "$tmp"; }
trap cleanup EXIT

drop_all
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "create database $db"; exit 1; }
for r in $dave "\"$eve\"" $gone; do psql -X -q -d postgres -c "CREATE ROLE $r LOGIN" >/dev/null; done
run >/dev/null <<SQL || { not_ok "set up ecgdl 0.1.0 with beats and a superuser's model"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl VERSION '0.1.0';
GRANT CREATE ON SCHEMA public TO $dave, "$eve", $gone;
$(beats_sql 150)
SELECT ecg_train('up_su', 'beats', 'baseline', 'beats', epochs => 2, batch_size => 32, seed => 1);
SELECT count(*) FROM ecg_evaluate('up_su', 'beats');
SQL
check "CREATE EXTENSION ecgdl VERSION '0.1.0' installs 0.1.0" "0.1.0" \
	"$(run -c "SELECT extversion FROM pg_extension WHERE extname = 'ecgdl'")"
check "under 0.1.0 an ordinary role trains and evaluates" "t|8|8" "$(role_trains "$dave" up_dave up_su)"
out=$(as_role "$eve" -c "SELECT ecg_model_import('up_eve', ecg_model_export('up_su')) > 0")
out+="|$(as_role "$gone" -c "SELECT ecg_model_import('up_gone', ecg_model_export('up_dave')) > 0")"
check "under 0.1.0 two more roles import models" "t|t" "$out"
psql -X -q -d "$db" -c "DROP OWNED BY $gone" -c "DROP ROLE $gone" >/dev/null

fingerprint() { echo "SELECT md5(string_agg(ecg_predict_proba('$1', signal)::text, ',' ORDER BY id)) FROM beats"; }
owners_sql="SELECT string_agg(name || '=' || owner::text, ' ' ORDER BY name) FROM ecgdl.models"
declare -A before
for m in up_su up_dave up_eve up_gone; do before[$m]=$(run -c "$(fingerprint $m)"); done
evaluations_before=$(run -c "SELECT string_agg(concat_ws(':', id, model_id, accuracy, per_class), '|' ORDER BY id) FROM ecgdl.evaluations")

# the update
run -c "ALTER EXTENSION ecgdl UPDATE TO '0.2.0'" >"$tmp/update.out" 2>&1
status=$?
check "ALTER EXTENSION ecgdl UPDATE TO '0.2.0' succeeds" "0" "$status"
check "the dropped role's model goes to the tables' owner, with a WARNING" "1" \
	"$(grep -c 'WARNING:  ecgdl.models: 1 row(s) owned by a name that is no role any more now belong to postgres' "$tmp/update.out")"
check "the extension is at 0.2.0" "0.2.0" "$(run -c "SELECT extversion FROM pg_extension WHERE extname = 'ecgdl'")"
check "owners are roles (regrole) in both tables" "regrole|regrole" \
	"$(run -c "SELECT (SELECT pg_typeof(owner) FROM ecgdl.models LIMIT 1), (SELECT pg_typeof(owner) FROM ecgdl.evaluations LIMIT 1)" | tr -d ' ')"
check "each model's owner is the role that made it" \
	"up_dave=$dave up_eve=\"$eve\" up_gone=postgres up_su=postgres" "$(run -c "$owners_sql")"
check "each evaluation's owner is the role that made it" "postgres $dave $dave" \
	"$(run -c "SELECT string_agg(owner::text, ' ' ORDER BY id) FROM ecgdl.evaluations")"
check "the evaluations are unchanged" "$evaluations_before" \
	"$(run -c "SELECT string_agg(concat_ws(':', id, model_id, accuracy, per_class), '|' ORDER BY id) FROM ecgdl.evaluations")"
for m in up_su up_dave up_eve up_gone; do
	check "model $m classifies exactly as before the update" "${before[$m]}" "$(run -c "$(fingerprint $m)")"
done
check "ecgdl.report reads every evaluation" "2" "$(run -c "SELECT count(*) FROM ecgdl.report r WHERE r::text IS NOT NULL")"

# the new privileges
expect_as "$dave" 42501 "0.2.0: an ordinary role may not insert a model row" \
	"INSERT INTO ecgdl.models (name, architecture, weights) VALUES ('forged', 'cnn', '\\x00')"
expect_as "$dave" 42501 "0.2.0: an ordinary role may not update its model row" \
	"UPDATE ecgdl.models SET weights = '\\x00' WHERE name = 'up_dave'"
expect_as "$dave" 42501 "0.2.0: an ordinary role may not insert an evaluation row" \
	"INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, rows, accuracy, macro_f1, per_class, confusion)
	 SELECT id, name, 'x', 1, 1, 1, '{}', '{}' FROM ecgdl.models WHERE name = 'up_dave'"
check "0.2.0: pg_dump keeps the models, evaluations and QRS evaluations and their id sequences" \
	"ecgdl.evaluations ecgdl.evaluations_id_seq ecgdl.models ecgdl.models_id_seq ecgdl.qrs_evaluations ecgdl.qrs_evaluations_id_seq" \
	"$(run -c "SELECT string_agg(c::regclass::text, ' ' ORDER BY c::regclass::text) FROM pg_extension, unnest(extconfig) c WHERE extname = 'ecgdl'")"

# the new behaviour: owners by OID; writes through ecgdl's functions
psql -X -q -d postgres -c "ALTER ROLE $dave RENAME TO $dave2" >/dev/null
out=$(as_role "$dave2" <<SQL
SET client_min_messages = warning;
SELECT ecg_model_import('up_dave', ecg_model_export('up_su'), replace => true) > 0;
SELECT count(*) FROM ecg_evaluate('up_dave', 'beats');
SELECT ecg_train('up_dave_new', 'beats', 'baseline', epochs => 1, batch_size => 32) > 0;
SELECT owner FROM ecgdl.models WHERE name = 'up_dave_new';
SQL
)
check "0.2.0: the renamed role replaces its old model, evaluates and trains" "t|8|t|$dave2" "$(echo "$out" | paste -sd'|')"
check "0.2.0: the replaced model classifies as the model it was replaced with" "${before[up_su]}" \
	"$(run -c "$(fingerprint up_dave)")"
check "0.2.0: the renamed role drops its old model" "t" \
	"$(as_role "$dave2" -c "SELECT ecg_model_drop('up_dave')")"
check "0.2.0: the quoted role may not drop the superuser's model, but her own" "42501|t" \
	"$(sqlstate_as "$eve" "SELECT ecg_model_drop('up_su')")|$(as_role "$eve" -c "SELECT ecg_model_drop('up_eve')")"
check "0.2.0: no direct DELETE on the models table" "ERROR:  permission denied for table models" \
	"$(psql -X -U "$eve" -d "$db" -c "DELETE FROM ecgdl.models WHERE name = 'up_su'" 2>&1)"

# 0.2.0 -> the default version (through 0.3.0, 0.4.0 and 0.5.0): the update keeps every model and
# evaluation and classifies as before
evaluations_020=$(run -c "SELECT string_agg(concat_ws(':', id, model_id, accuracy, per_class), '|' ORDER BY id) FROM ecgdl.evaluations")
run -c "ALTER EXTENSION ecgdl UPDATE" >"$tmp/update3.out" 2>&1
check "ALTER EXTENSION ecgdl UPDATE (to the default version) succeeds" "0" "$?"
check "the extension is at the default version" \
	"$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../../ecgdl.control")" \
	"$(run -c "SELECT extversion FROM pg_extension WHERE extname = 'ecgdl'")"
check "the evaluations are unchanged by the update to the default version" "$evaluations_020" \
	"$(run -c "SELECT string_agg(concat_ws(':', id, model_id, accuracy, per_class), '|' ORDER BY id) FROM ecgdl.evaluations")"
check "model up_su classifies exactly as under 0.1.0 after the update to the default version" "${before[up_su]}" \
	"$(run -c "$(fingerprint up_su)")"
# models made under 0.1.0 (version-1 blobs) are members of a product of
# experts (0.4.0) like any others: the combination's class is the arg-max of
# the product of their probabilities, beat by beat
check "models made under 0.1.0 combine under the default version (ecg_model_combine)" "t|0" \
	"$(run -c "SELECT ecg_model_combine('up_combo', ARRAY['up_su', 'up_gone']) > 0")|$(run -c "SELECT count(*) FILTER (WHERE ecg_classify('up_combo', signal) <> (SELECT k - 1 FROM unnest(ecg_predict_proba('up_su', signal), ecg_predict_proba('up_gone', signal)) WITH ORDINALITY u(a, b, k) ORDER BY a::float8 * b DESC LIMIT 1)) FROM beats")"
# 0.5.0 declares ecg_model_combine with weights last (0.4.0's declaration
# dropped): one function, and weighted members - the class is the arg-max of
# a^0.5 b^2
check "one ecg_model_combine after the update, with weights last" "1|weights" \
	"$(run -c "SELECT count(*) FROM pg_proc WHERE proname = 'ecg_model_combine'")|$(run -c "SELECT proargnames[6] FROM pg_proc WHERE proname = 'ecg_model_combine'")"
check "models made under 0.1.0 combine with weights under the default version" "t|0" \
	"$(run -c "SELECT ecg_model_combine('up_combo_w', ARRAY['up_su', 'up_gone'], weights => ARRAY[0.5, 2]) > 0")|$(run -c "SELECT count(*) FILTER (WHERE ecg_classify('up_combo_w', signal) <> (SELECT k - 1 FROM unnest(ecg_predict_proba('up_su', signal), ecg_predict_proba('up_gone', signal)) WITH ORDINALITY u(a, b, k) ORDER BY 0.5 * ln(greatest(a, 1e-30)) + 2 * ln(greatest(b, 1e-30)) DESC LIMIT 1)) FROM beats")"
