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

# recording_sql: SQL that makes a synthetic ECG of 60 s at 360 Hz in mV (lead
# MLII of record syn1): sinus beats every 0.8 s with a P wave, a narrow QRS
# and a T wave, every fourth beat a premature wide one with a discordant T
# (ventricular-like); the signal table recording (chunks of 10 s) and the
# reference annotation table recording_ref (N = 0, V = 2 at each R peak).
recording_sql() {
	cat <<'SQL'
CREATE TABLE recording_ref AS
WITH RECURSIVE b(k, t) AS (SELECT 1, 0.4::float8
                           UNION ALL SELECT k + 1, t + CASE WHEN (k + 1) % 4 = 0 THEN 0.55 ELSE 0.8 END
                           FROM b WHERE t < 59)
SELECT k::bigint AS id, 'syn1'::text AS record, round(t * 360)::bigint AS sample,
       CASE WHEN k % 4 = 0 THEN 'V' ELSE 'N' END AS symbol, NULL::smallint AS subtype,
       CASE WHEN k % 4 = 0 THEN 2 ELSE 0 END::smallint AS label, 360::float8 AS fs
FROM b WHERE t < 59.5;
CREATE FUNCTION pg_temp.bump(d float8, width float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$ SELECT exp(-least((d / width) ^ 2, 500)) $$;
CREATE TABLE recording AS
WITH s AS (
    SELECT i, i / 360.0::float8 AS t FROM generate_series(0, 21599) i
), v AS (
    SELECT s.i, sum(CASE WHEN r.label = 2 THEN
                        1.6 * pg_temp.bump(s.t - r.sample / 360.0::float8, 0.035)
                        - 0.45 * pg_temp.bump(s.t - r.sample / 360.0::float8 - 0.30, 0.08)
                    ELSE
                        0.12 * pg_temp.bump(s.t - r.sample / 360.0::float8 + 0.16, 0.03)
                        + 1.3 * pg_temp.bump(s.t - r.sample / 360.0::float8, 0.012)
                        - 0.25 * pg_temp.bump(s.t - r.sample / 360.0::float8 - 0.025, 0.012)
                        + 0.3 * pg_temp.bump(s.t - r.sample / 360.0::float8 - 0.30, 0.06)
                    END) AS mv
    FROM s LEFT JOIN recording_ref r ON abs(s.t - r.sample / 360.0::float8) < 0.7
    GROUP BY s.i
)
SELECT 'syn1'::text AS record, 'MLII'::text AS lead, 360::float8 AS fs, (i / 3600) * 3600::bigint AS start_sample,
       array_agg((coalesce(mv, 0) + 0.08 * sin(2 * pi() * i / 360.0 * 0.25))::real ORDER BY i) AS samples
FROM v GROUP BY i / 3600 ORDER BY 4;
SQL
}

# study_beats_sql N: SQL that makes table beats of N synthetic beats of the
# five classes in the proportions 12:3:2:1:2, each a bump whose place and
# width depend on the class, shifted by a per-beat jitter that makes the
# classes overlap (a study on them gives F1 well below 1), plus a wobble
study_beats_sql() {
	cat <<SQL
CREATE TABLE beats AS
SELECT n::bigint AS id, c::smallint AS label,
       ARRAY(SELECT (0.25 + 0.55 * exp(-((s - 60 - 12 * c - 9 * sin(n * 1.618)) ^ 2) / (40.0 + 25 * c))
                     + 0.12 * sin(n * s * 0.7) + 0.1 * cos(n * 0.37 + s * 0.11))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, CASE WHEN n % 20 < 12 THEN 0 WHEN n % 20 < 15 THEN 1 WHEN n % 20 < 17 THEN 2
                     WHEN n % 20 < 18 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, $1) n) t;
ALTER TABLE beats ADD PRIMARY KEY (id);
SQL
}

# chart_test_setup NAME WHAT: the set-up of the scripts that check SVG with
# xmllint: exits 0 (skipping WHAT, with a message) without xmllint; else sets
# $db (${ECGDL_TEST_DB_PREFIX:-ecgdl}_NAME, created anew) and $tmp (a fresh
# directory), both removed on exit; exits 1 when the database cannot be made.
chart_test_setup() {
	if ! command -v xmllint >/dev/null; then
		echo "# xmllint not found (Debian: apt-get install libxml2-utils): $2 are skipped" >&2
		exit 0
	fi
	db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_$1
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null || {
		not_ok "create database $db"; exit 1; }
}
