# common.bash - helpers the integration scripts source (not a test itself:
# .ci/test runs only *.sh).  Each script sets $db before calling run.
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ $# -gt 1 ] && echo "  $2" >&2; return 0; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected [$2], got [$3]"; fi; }
# a measured figure, shown in the test output and the CI log
figure() { echo "# $1"; echo "# $1" >&2; }
run() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Waits (at most 30 s) until the server accepts connections; prints the ms waited.
wait_for_server() {
	local t0 i
	t0=$(now_ms)
	for ((i = 0; i < 300; i++)); do
		[ "$(psql -X -At -d postgres -c 'SELECT 1' 2>/dev/null)" = 1 ] && { echo $(( $(now_ms) - t0 )); return 0; }
		sleep 0.1
	done
	return 1
}

# Creates the extension and three beat tables in $db: shapes (1,000 synthetic
# beats of 5 classes, 80 % N), big (60,000: every shape rotated 60 ways, so
# ADASYN on it takes about 2.4 s on an idle 2-core machine) and train_src (15,000 of them: a
# cnn epoch takes a few seconds).
make_test_beats() {
	run >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION ecgdl;
CREATE TABLE shapes AS
SELECT n::bigint AS id, c::smallint AS label,
       ARRAY(SELECT (0.2 + 0.6 * exp(-((s - 25 - 30 * c) ^ 2) / 60.0)
                     + 0.1 * sin(s * n * 0.013) + 0.05 * cos(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, CASE WHEN n % 50 < 40 THEN 0 WHEN n % 50 < 44 THEN 1 WHEN n % 50 < 47 THEN 2
                     WHEN n % 50 < 48 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, 1000) n) t;
CREATE TABLE big AS
SELECT (r * 1000 + s.id)::bigint AS id, s.label, s.signal[r + 1:187] || s.signal[1:r] AS signal
FROM shapes s, generate_series(0, 59) r;
ALTER TABLE big ADD PRIMARY KEY (id);
CREATE TABLE train_src AS SELECT * FROM big WHERE id % 4 = 0;
SQL
}

# sqlstate_as ROLE SQL: the SQLSTATE the statement ends with when ROLE runs it
# in $db (00000: no error)
sqlstate_as() {
	psql -X -q -At -U "$1" -d "$db" 2>/dev/null <<SQL | tail -n 1
SET client_min_messages = warning;
$2;
\\echo :LAST_ERROR_SQLSTATE
SQL
}
# expect_as ROLE STATE NAME SQL
expect_as() { check "$3" "$2" "$(sqlstate_as "$1" "$4")"; }
# as_role ROLE psql-arguments...: output and errors of psql run as ROLE in $db
as_role() { local role=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -U "$role" -d "$db" "$@" 2>&1; }

# beats_sql N: SQL that makes table beats of N synthetic beats (class n % 5, a
# bump at the class's place plus a wobble), readable by everyone
beats_sql() {
	cat <<SQL
CREATE TABLE beats AS
SELECT n::bigint AS id, (n % 5)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.5 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0) + 0.1 * sin(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(1, $1) n;
ALTER TABLE beats ADD PRIMARY KEY (id);
GRANT SELECT ON beats TO PUBLIC;
SQL
}

# role_trains ROLE MODEL OTHER: ROLE trains MODEL (cnn, 1 epoch) on beats and
# evaluates it and the model OTHER there; prints "t|8|8" when all went well
role_trains() {
	as_role "$1" <<SQL | paste -sd'|'
SET client_min_messages = warning;
SELECT ecg_train('$2', 'beats', 'cnn', 'beats', epochs => 1, batch_size => 32, seed => 2) > 0;
SELECT count(*) FROM ecg_evaluate('$2', 'beats');
SELECT count(*) FROM ecg_evaluate('$3', 'beats');
SQL
}
