#!/usr/bin/env bash
# pg_dump keeps the models and evaluations (issue 10, finding 5): models and
# evaluations made by a superuser and by an ordinary role are dumped with
# pg_dump and restored into a new database (the dump's CREATE EXTENSION makes
# the tables, its data fills them).  Ids, owners (by name), weights and
# evaluations survive, a restored model classifies row for row as the
# original, owners keep their rights, and new models and evaluations get fresh
# ids (the sequences were dumped too).
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

src=${ECGDL_TEST_DB_PREFIX:-ecgdl}_dump_source
dst=${ECGDL_TEST_DB_PREFIX:-ecgdl}_dump_restored
carol=ecgdl_dmp_carol
tmp=$(mktemp -d)

drop_all() {
	for d in $src $dst; do psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $carol" >/dev/null 2>&1
}
cleanup() { drop_all; rm -rf "$tmp"; }
trap cleanup EXIT

drop_all
psql -X -q -d postgres -c "CREATE DATABASE $src" -c "CREATE ROLE $carol LOGIN" >/dev/null ||
	{ not_ok "create database $src and role $carol"; exit 1; }
db=$src
run >/dev/null <<SQL || { not_ok "set up the extension, beats, models and evaluations"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
GRANT CREATE ON SCHEMA public TO $carol;
$(beats_sql 150)
SELECT ecg_train('su_model', 'beats', 'baseline', 'beats', epochs => 2, batch_size => 32, seed => 1);
SELECT count(*) FROM ecg_evaluate('su_model', 'beats');
SQL
check "an ordinary role trains, evaluates its model and the superuser's" "t|8|8" "$(role_trains "$carol" carol_model su_model)"

# what must survive, row for row
models_sql="SELECT string_agg(concat_ws(':', id, name, owner, architecture, md5(weights), hyperparameters, history, best_epoch, created_at), '|' ORDER BY id) FROM ecgdl.models"
evaluations_sql="SELECT string_agg(concat_ws(':', id, model_id, model_name, owner, evaluated_at, rows, accuracy, per_class, confusion), '|' ORDER BY id) FROM ecgdl.evaluations"
report_sql="SELECT md5(string_agg(r::text, '|' ORDER BY r.model, r.test_table)) FROM ecgdl.report r"
classified_sql() { echo "SELECT md5(string_agg(concat_ws(':', id, predicted, probabilities), '|' ORDER BY id)) FROM ecg_classify_table('$1', 'beats')"; }
models_before=$(run -c "$models_sql")
evaluations_before=$(run -c "$evaluations_sql")
report_before=$(run -c "$report_sql")
su_before=$(run -c "$(classified_sql su_model)")
carol_before=$(run -c "$(classified_sql carol_model)")

if pg_dump -d "$src" -f "$tmp/dump.sql" 2>"$tmp/dump.err"; then ok "pg_dump of the database"; else not_ok "pg_dump of the database" "$(head -c 500 "$tmp/dump.err")"; fi
# a role without superuser dumps with --enable-row-security (every row is
# readable; without it pg_dump refuses a table with row-level security)
pg_dump -U "$carol" --enable-row-security -d "$src" -f "$tmp/carol.sql" 2>"$tmp/carol.err"
check "an ordinary role's pg_dump --enable-row-security holds every model and evaluation" \
	"$(run -c "SELECT (SELECT count(*) FROM ecgdl.models) || '|' || (SELECT count(*) FROM ecgdl.evaluations)")" \
	"$(awk '/^COPY ecgdl.models /{m=1; next} /^COPY ecgdl.evaluations /{e=1; next} /^\\\.$/{m=0; e=0}
	        m{nm++} e{ne++} END{print nm+0 "|" ne+0}' "$tmp/carol.sql")"
psql -X -q -d postgres -c "CREATE DATABASE $dst" >/dev/null
if psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -f "$tmp/dump.sql" >/dev/null 2>"$tmp/restore.err"; then
	ok "the dump restores into a new database without an error"
else
	not_ok "the dump restores into a new database without an error" "$(head -c 500 "$tmp/restore.err")"
fi

db=$dst
check "every model survives: ids, names, owners, weights, history" "$models_before" "$(run -c "$models_sql")"
check "every evaluation survives: ids, models, owners, dates, figures" "$evaluations_before" "$(run -c "$evaluations_sql")"
check "ecgdl.report is the same" "$report_before" "$(run -c "$report_sql")"
check "the superuser's restored model classifies every row as before" "$su_before" "$(run -c "$(classified_sql su_model)")"
check "the ordinary role's restored model classifies every row as before" "$carol_before" "$(run -c "$(classified_sql carol_model)")"
check "the owners are roles, by name: $carol owns her model" "$carol" \
	"$(run -c "SELECT owner FROM ecgdl.models WHERE name = 'carol_model'")"

# the sequences continue: new rows get fresh ids, no 23505
next_model=$(run -c "SELECT max(id) + 1 FROM ecgdl.models")
next_evaluation=$(run -c "SELECT max(id) + 1 FROM ecgdl.evaluations")
out=$(as_role "$carol" <<SQL
SET client_min_messages = warning;
SELECT ecg_train('carol_after', 'beats', 'baseline', epochs => 1, batch_size => 32);
SELECT count(*) FROM ecg_evaluate('carol_after', 'beats');
SELECT max(id) FROM ecgdl.evaluations;
SQL
)
check "after the restore ecg_train and ecg_evaluate get the next ids" "$next_model|8|$next_evaluation" \
	"$(echo "$out" | paste -sd'|')"
check "after the restore the ordinary role replaces her restored model" "t" \
	"$(as_role "$carol" -c "SELECT ecg_model_import('carol_model', ecg_model_export('carol_after'), replace => true) > 0")"
check "after the restore the ordinary role drops her restored model" "t" \
	"$(psql -X -q -At -U "$carol" -d "$dst" -c "SELECT ecg_model_drop('carol_model')" 2>&1)"
check "and may not drop the superuser's" "ERROR:  permission denied to drop model \"su_model\"" \
	"$(psql -X -q -At -U "$carol" -d "$dst" -c "SELECT ecg_model_drop('su_model')" 2>&1 | head -n 1)"
