#!/usr/bin/env bash
# Privileges: what roles without superuser may and may not do.
#   alice  imports from the client (\copy + ecg_import_csv_staged), splits,
#          oversamples, trains, classifies and evaluates on her own tables;
#   bob    may use alice's model on his own data, but not read her tables, nor
#          replace, change, delete or forge her models and evaluations (row-level
#          security), nor read server files, nor bypass the policies;
#   carol  is a member of alice's role and may replace and delete her model;
#   reader has pg_read_server_files and imports server files;
#   granted has EXECUTE on the server-file functions but not the role: still
#          refused, by the functions' own check.
# Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_privileges
p=ecgdl_priv	# role name prefix
roles="${p}_alice ${p}_bob ${p}_carol ${p}_reader ${p}_granted"
tmp=$(mktemp -d)
chmod 755 "$tmp"

drop_all() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	for r in $roles; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
}
cleanup() { drop_all; rm -rf "$tmp"; }
trap cleanup EXIT

as() { local role=$1; shift; as_role "${p}_$role" "$@"; }
su() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# expect ROLE STATE NAME SQL, ROLE without the prefix
expect() { expect_as "${p}_$1" "$2" "$3" "$4"; }

# 60 beats in the Kaggle CSV layout, 5 classes
python3 - "$tmp/beats.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    for n in range(1, 61):
        c = n % 5
        samples = ["%.6f" % (0.3 + 0.3 * math.exp(-((s - 30 - 30 * c) ** 2) / 60.0) + 0.1 * math.sin(n * s * 1.3))
                   for s in range(1, 188)]
        f.write(",".join(samples) + ",%d.000000000000000000e+00\n" % c)
PY
chmod 644 "$tmp/beats.csv"

drop_all
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "create database $db"; exit 1; }
for r in $roles; do psql -X -q -d postgres -c "CREATE ROLE $r LOGIN" >/dev/null; done
psql -X -q -d postgres -c "GRANT ${p}_alice TO ${p}_carol" -c "GRANT pg_read_server_files TO ${p}_reader" >/dev/null
su >/dev/null <<SQL || { not_ok "set up the extension and grants"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
GRANT CREATE ON SCHEMA public TO ${p}_alice, ${p}_bob, ${p}_carol, ${p}_reader, ${p}_granted;
GRANT EXECUTE ON FUNCTION ecg_import_csv(text, text), ecg_import_wfdb(text, text, text[], text) TO ${p}_granted;
SQL

# alice: the whole workflow from a client
out=$(as alice <<SQL
SET client_min_messages = warning;
CREATE TABLE alice_staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
\\copy alice_staging (line) FROM '$tmp/beats.csv'
SELECT ecg_import_csv_staged('alice_staging', 'alice_beats');
SELECT count(*) FROM ecg_split('alice_beats', 'alice_train', 'alice_test', 0.25, 1);
SELECT ecg_oversample('alice_train', 'alice_smote', 'smote', 3) >= 0;
SELECT ecg_train('alice_model', 'alice_smote', 'baseline', 'alice_test', epochs => 2, batch_size => 16) > 0;
SELECT count(*) FROM alice_test WHERE ecg_classify('alice_model', signal) BETWEEN 0 AND 4;
SELECT count(*) FROM ecg_classify_table('alice_model', 'alice_test');
SELECT count(*) FROM ecg_evaluate('alice_model', 'alice_test');
SQL
)
check "alice imports from the client, splits, oversamples, trains, classifies and evaluates" \
	"60|10|t|t|15|15|8" "$(echo "$out" | paste -sd'|')"
check "alice's model and evaluation rows are owned by her" "${p}_alice|${p}_alice" \
	"$(su -c "SELECT (SELECT owner::text FROM ecgdl.models WHERE name = 'alice_model'),
	                 (SELECT string_agg(DISTINCT owner::text, ',') FROM ecgdl.evaluations WHERE model_name = 'alice_model')")"
alice_weights=$(su -c "SELECT md5(weights) FROM ecgdl.models WHERE name = 'alice_model'")

# bob: his own data, alice's model
out=$(as bob <<SQL
SET client_min_messages = warning;
CREATE TABLE bob_staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
\\copy bob_staging (line) FROM '$tmp/beats.csv'
SELECT ecg_import_csv_staged('bob_staging', 'bob_beats');
SELECT count(*) FROM bob_beats WHERE ecg_classify('alice_model', signal) BETWEEN 0 AND 4;
SELECT count(*) FROM ecg_evaluate('alice_model', 'bob_beats');
SELECT ecg_train('bob_model', 'bob_beats', 'baseline', epochs => 1, batch_size => 16) > 0;
SQL
)
check "bob classifies and evaluates his own rows with alice's model, and trains his own" "60|60|8|t" \
	"$(echo "$out" | paste -sd'|')"
expect bob 42501 "bob may not train on alice's table" \
	"SELECT ecg_train('bob_x', 'alice_beats', 'baseline', epochs => 1)"
expect bob 42501 "bob may not oversample alice's table" \
	"SELECT ecg_oversample('alice_beats', 'bob_x')"
expect bob 42501 "bob may not split alice's table" \
	"SELECT count(*) FROM ecg_split('alice_beats', 'bob_x', 'bob_y')"
expect bob 42501 "bob may not classify alice's table" \
	"SELECT count(*) FROM ecg_classify_table('alice_model', 'alice_test')"
expect bob 42501 "bob may not evaluate on alice's table" \
	"SELECT count(*) FROM ecg_evaluate('bob_model', 'alice_test')"
expect bob 42501 "bob may not import alice's staging table" \
	"SELECT ecg_import_csv_staged('alice_staging', 'bob_x')"
expect bob 42501 "bob may not replace alice's model by training" \
	"SELECT ecg_train('alice_model', 'bob_beats', 'baseline', epochs => 1, replace => true)"
expect bob 42501 "bob may not replace alice's model by importing" \
	"SELECT ecg_model_import('alice_model', ecg_model_export('bob_model'), replace => true)"
expect bob 42710 "bob may not take alice's model name without replace" \
	"SELECT ecg_train('alice_model', 'bob_beats', 'baseline', epochs => 1)"
expect bob 42501 "bob may not drop alice's model" "SELECT ecg_model_drop('alice_model')"
check "no one but the tables' owner deletes, updates or locks ecgdl.models directly" \
	"ERROR:  permission denied for table models|ERROR:  permission denied for table models|BEGIN|ERROR:  permission denied for table models" \
	"$(psql -X -U "${p}_bob" -d "$db" -c "DELETE FROM ecgdl.models WHERE name = 'alice_model'" \
		-c "UPDATE ecgdl.models SET weights = '\\x00' WHERE name = 'alice_model'" \
		-c "BEGIN" -c "LOCK TABLE ecgdl.models IN ACCESS EXCLUSIVE MODE" 2>&1 | paste -sd'|')"
check "bob's ecg_evaluations_drop of alice's model drops his own evaluation, not hers" "1|1" \
	"$(as bob -c "SELECT ecg_evaluations_drop('alice_model')")|$(su -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model'")"
expect bob 42501 "bob may not hand his model to alice" \
	"UPDATE ecgdl.models SET owner = '${p}_alice' WHERE name = 'bob_model'"
expect bob 42501 "bob may not forge a model row owned by alice" \
	"INSERT INTO ecgdl.models (name, architecture, weights, owner) VALUES ('forged', 'cnn', '\\x00', '${p}_alice')"
expect bob 42501 "bob may not truncate the model table (TRUNCATE would bypass row-level security)" \
	"TRUNCATE ecgdl.models CASCADE"
expect bob 42501 "bob may not switch off row-level security" \
	"ALTER TABLE ecgdl.models DISABLE ROW LEVEL SECURITY"
expect bob 42501 "bob may not create objects in schema ecgdl" \
	"CREATE TABLE ecgdl.models_shadow (id int)"
expect bob 42501 "bob may not create tables in schema ecgdl through ecg_oversample" \
	"SELECT ecg_oversample('bob_beats', 'ecgdl.bob_x')"
expect bob 42501 "bob may not read server files with ecg_import_csv" \
	"SELECT ecg_import_csv('$tmp/beats.csv', 'bob_x')"
expect bob 42501 "bob may not read server files with ecg_import_wfdb" \
	"SELECT ecg_import_wfdb('${ECGDL_FIXTURES:-$tmp}', 'bob_x')"
check "alice's model is intact after bob's attempts" "1|$alice_weights|${p}_alice" \
	"$(su -c "SELECT count(*), max(md5(weights)), max(owner::text) FROM ecgdl.models WHERE name = 'alice_model'")"
check "alice's evaluations are intact after bob's attempts" "1" \
	"$(su -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model' AND owner = '${p}_alice'::regrole")"
check "no table or model of bob's failed calls exists" "0|0" \
	"$(su -c "SELECT (SELECT count(*) FROM pg_class WHERE relname IN ('bob_x', 'bob_y')),
	                 (SELECT count(*) FROM ecgdl.models WHERE name IN ('bob_x', 'forged'))")"

# carol, a member of alice's role
check "carol (member of alice's role) may replace alice's model" "t" \
	"$(as carol -c "SELECT ecg_model_import('alice_model', ecg_model_export('bob_model'), replace => true) > 0")"
check "carol may drop alice's model" "t" "$(as carol -c "SELECT ecg_model_drop('alice_model')")"
check "deleting the model deletes its evaluations" "0" \
	"$(su -c "SELECT count(*) FROM ecgdl.evaluations WHERE model_name = 'alice_model'")"

# server files: the role pg_read_server_files is needed, EXECUTE alone is not enough
check "a member of pg_read_server_files imports a server CSV file" "60" \
	"$(as reader -c "SELECT ecg_import_csv('$tmp/beats.csv', 'reader_beats')")"
if [ -n "${ECGDL_FIXTURES:-}" ] && [ -f "$ECGDL_FIXTURES/RECORDS" ]; then
	check "a member of pg_read_server_files imports WFDB records" "t" \
		"$(as reader -c "SET client_min_messages = warning" -c "SELECT ecg_import_wfdb('$ECGDL_FIXTURES', 'reader_wfdb') > 0")"
else
	echo "ok - a member of pg_read_server_files imports WFDB records # SKIP no ECGDL_FIXTURES"
fi
out=$(as granted -c "SELECT ecg_import_csv('$tmp/beats.csv', 'granted_beats')")
case "$out" in
	*"permission denied to read a CSV file"*"pg_read_server_files"*) ok "EXECUTE without pg_read_server_files is still refused by ecg_import_csv" ;;
	*) not_ok "EXECUTE without pg_read_server_files is still refused by ecg_import_csv" "got: $out" ;;
esac
expect granted 42501 "EXECUTE without pg_read_server_files is still refused by ecg_import_wfdb" \
	"SELECT ecg_import_wfdb('${ECGDL_FIXTURES:-$tmp}', 'granted_wfdb')"
