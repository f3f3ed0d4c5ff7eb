#!/usr/bin/env bash
# Security: an ordinary role (mallory) plants code in what a superuser's ecgdl
# call touches; none of it may run with the superuser's rights.
#   tables_* (issue 10, finding 2): mallory's beat tables carry an index on
#       her function, a CHECK constraint, a column default, a generated column
#       and a trigger that each log the call and try ALTER ROLE mallory
#       SUPERUSER; a superuser splits, oversamples and studies them.  The new
#       tables must be ecgdl's own definition (nothing of the source copied)
#       and mallory's code must never run.
#   overload_* (finding 3): the extension lives in schema public, which
#       mallory may create objects in; she adds exact-match overloads of the
#       functions ecg_study calls (ecg_split with a numeric fraction, as the
#       old untyped 0.2 resolved, ecg_oversample, ecg_train, ecg_evaluate).
#       ecg_study must call only the extension's functions.
#   types_* (the same class): mallory's signal, annotation and beat tables
#       have a record column of her own enum type with an implicit cast to
#       text that logs the call and tries the same escalation; ecgdl casts
#       and compares the columns it reads, so it must refuse a column whose
#       type is not built in (42809) before any cast runs.
# Each group is its own function, so that further groups can be added beside
# them.  Needs a running server (PGHOST/PGPORT/PGUSER of a superuser, set by
# .ci/test).
set -uo pipefail
source "$(dirname "$0")/common.bash"

db=${ECGDL_TEST_DB_PREFIX:-ecgdl}_security
mallory=ecgdl_sec_mallory

drop_all() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $mallory" >/dev/null 2>&1
}
trap drop_all EXIT

as_mallory() { psql -X -q -At -v ON_ERROR_STOP=1 -U "$mallory" -d "$db" "$@" 2>&1; }
su() { psql -X -q -At -d "$db" "$@" 2>&1; }
# the SQLSTATE a superuser's statement ends with (00000: no error)
su_state() {
	psql -X -q -At -d "$db" 2>/dev/null <<SQL | tail -n 1
SET client_min_messages = warning;
$1;
\\echo :LAST_ERROR_SQLSTATE
SQL
}
is_superuser() { su -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$mallory'"; }
# runs of mallory's code by anyone but mallory, per planted object
foreign_runs() { su -c "SELECT count(*) FROM mallory_log WHERE who <> '$mallory' AND what LIKE '$1%'"; }
# after a failed check, mallory must not keep what she gained
demote() { su -c "ALTER ROLE $mallory NOSUPERUSER" >/dev/null; }

setup() {
	drop_all
	psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { not_ok "create database $db"; exit 1; }
	psql -X -q -d postgres -c "CREATE ROLE $mallory LOGIN" >/dev/null
	su >/dev/null <<SQL || { not_ok "set up the extension"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION ecgdl SCHEMA public;
GRANT CREATE ON SCHEMA public TO $mallory;
SQL
	# mallory's payload: logs who runs it and tries to make her a superuser
	# (which works only when a superuser runs it)
	as_mallory >/dev/null <<SQL || { not_ok "set up mallory's payload"; exit 1; }
CREATE TABLE mallory_log (who name, what text);
GRANT INSERT ON mallory_log TO PUBLIC;
CREATE FUNCTION mallory_payload(what text) RETURNS void LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    INSERT INTO public.mallory_log VALUES (current_user, what);
    BEGIN
        EXECUTE 'ALTER ROLE $mallory SUPERUSER';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END \$\$;
GRANT EXECUTE ON FUNCTION mallory_payload(text) TO PUBLIC;
-- index expressions and generated columns need an IMMUTABLE function: she
-- declares one that calls the payload
CREATE FUNCTION mallory_immutable(id bigint, what text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS \$\$
BEGIN
    PERFORM public.mallory_payload(what);
    RETURN id;
END \$\$;
CREATE FUNCTION mallory_check(id bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    PERFORM public.mallory_payload('check');
    RETURN true;
END \$\$;
CREATE FUNCTION mallory_default() RETURNS text LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    PERFORM public.mallory_payload('default');
    RETURN 'x';
END \$\$;
CREATE FUNCTION mallory_trigger() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    PERFORM public.mallory_payload('trigger');
    RETURN NEW;
END \$\$;
-- 200 beats of 5 classes, 40 each
CREATE FUNCTION mallory_beats() RETURNS TABLE (id bigint, record text, sample bigint, symbol text,
    label smallint, signal real[]) LANGUAGE sql AS \$\$
SELECT n::bigint, NULL::text, NULL::bigint, NULL::text, (n % 5)::smallint,
       ARRAY(SELECT (0.3 + 0.3 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 60.0) + 0.1 * sin(n * s * 1.3))::real
             FROM generate_series(1, 187) s)
FROM generate_series(1, 200) n \$\$;
CREATE TABLE m_index AS SELECT * FROM mallory_beats();
CREATE INDEX ON m_index (mallory_immutable(id, 'index'));
CREATE TABLE m_check AS SELECT * FROM mallory_beats();
ALTER TABLE m_check ADD CONSTRAINT m_check_c CHECK (mallory_check(id));
CREATE TABLE m_default AS SELECT * FROM mallory_beats();
ALTER TABLE m_default ALTER COLUMN record SET DEFAULT mallory_default(),
                      ALTER COLUMN symbol SET DEFAULT mallory_default();
ALTER TABLE m_default ADD COLUMN note text DEFAULT mallory_default();
CREATE TABLE m_generated (LIKE m_index);
ALTER TABLE m_generated ADD COLUMN g bigint GENERATED ALWAYS AS (mallory_immutable(id, 'generated')) STORED;
INSERT INTO m_generated SELECT * FROM mallory_beats();
CREATE TABLE m_trigger AS SELECT * FROM mallory_beats();
CREATE TRIGGER m_trigger_t BEFORE INSERT OR UPDATE ON m_trigger FOR EACH ROW EXECUTE FUNCTION mallory_trigger();
GRANT SELECT ON m_index, m_check, m_default, m_generated, m_trigger TO PUBLIC;
SQL
	su -c "DELETE FROM mallory_log" >/dev/null
}

# Finding 2: a superuser's ecg_split, ecg_oversample and ecg_study on each of
# mallory's tables run none of her code, and make tables of ecgdl's own
# definition: no index but the primary key, no constraint but the label check
# and NOT NULLs, no default, no generated column, no trigger.
tables_escalation() {
	local t kind out
	for kind in index check default generated trigger; do
		t=m_$kind
		out=$(su_state "SELECT count(*) FROM ecg_split('$t', 'su_${kind}_train', 'su_${kind}_test', 0.25, 1)")
		check "a superuser splits mallory's table with a $kind" 00000 "$out"
		out=$(su_state "SELECT ecg_oversample('$t', 'su_${kind}_random', 'random', 5, 1)")
		check "a superuser oversamples mallory's table with a $kind" 00000 "$out"
		out=$(su_state "SELECT count(*) FROM ecg_study('$t', 'su_${kind}_study', epochs => 1, batch_size => 64,
		                 methods => ARRAY['none', 'random'], archs => ARRAY['baseline'])")
		check "a superuser runs ecg_study on mallory's table with a $kind" 00000 "$out"
		check "mallory's $kind code never ran as the superuser" 0 "$(foreign_runs "$kind")"
		check "mallory did not become a superuser through a $kind" f "$(is_superuser)"
		demote
		out=$(su -c "SELECT string_agg(format('%s:%s:%s', c.relname,
		                     (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND NOT i.indisprimary),
		                     (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'p'
		                        AND pg_get_constraintdef(k.oid) <> 'CHECK (((label >= 0) AND (label <= 4)))')
		                     + (SELECT count(*) FROM pg_attrdef d WHERE d.adrelid = c.oid)
		                     + (SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = c.oid)
		                     + (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid
		                          AND a.attnum > 0 AND (a.attgenerated <> '' OR a.attname IN ('note', 'g')))),
		                     ' ' ORDER BY c.relname)
		             FROM pg_class c WHERE c.relname IN ('su_${kind}_train', 'su_${kind}_test', 'su_${kind}_random',
		                 'su_${kind}_study_train', 'su_${kind}_study_train_random')")
		check "the tables made from mallory's table with a $kind are ecgdl's own definition" \
			"su_${kind}_random:0:0 su_${kind}_study_train:0:0 su_${kind}_study_train_random:0:0 su_${kind}_test:0:0 su_${kind}_train:0:0" \
			"$out"
	done
	# the new tables hold the beat layout in ecgdl's order and types
	check "a split of mallory's table has the beat layout" \
		"id:bigint record:text sample:bigint symbol:text label:smallint signal:real[]" \
		"$(su -c "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ' ' ORDER BY attnum)
		          FROM pg_attribute WHERE attrelid = 'su_default_train'::regclass AND attnum > 0 AND NOT attisdropped")"
	# the payload does run when mallory writes her own table (as herself)
	as_mallory -c "INSERT INTO m_trigger SELECT * FROM m_trigger WHERE id = 1" >/dev/null
	check "mallory's code runs as mallory when she writes her own table" t \
		"$(su -c "SELECT count(*) > 0 FROM mallory_log WHERE who = '$mallory' AND what = 'trigger'")"
}

# Finding 3: exact-match overloads in the extension's (writable) schema.
overload_hijack() {
	# each overload runs the payload and then hands over to the real function,
	# so that the study goes on and the hijack would go unnoticed
	as_mallory >/dev/null <<'SQL' || { not_ok "mallory creates her overloads"; return; }
CREATE FUNCTION public.ecg_split(source regclass, train text, test text, test_fraction numeric,
                                 seed int, method text)
RETURNS TABLE (part text, class text, beats bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.mallory_payload('overload ecg_split');
    RETURN QUERY SELECT * FROM public.ecg_split(source, train, test, test_fraction::float8, seed, method);
END $$;
CREATE FUNCTION public.ecg_oversample(source regclass, target text, method text, k int, seed int)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.mallory_payload('overload ecg_oversample');
    RETURN public.ecg_oversample(source, target, method, k, seed, 'auto'::text);
END $$;
CREATE FUNCTION public.ecg_train(name text, train regclass, arch text, validation regclass, epochs int,
                                 batch_size int, learning_rate numeric, patience int, seed int,
                                 class_weight text, replace boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.mallory_payload('overload ecg_train');
    RETURN public.ecg_train(name, train, arch, validation, epochs, batch_size, learning_rate::float8,
                            patience, seed, class_weight, replace, 0.3::float8);
END $$;
CREATE FUNCTION public.ecg_evaluate(model text, test text)
RETURNS TABLE (class text, "precision" float8, recall float8, f1 float8, support bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.mallory_payload('overload ecg_evaluate');
    RETURN QUERY SELECT * FROM public.ecg_evaluate(model, test::regclass);
END $$;
SQL
	local out
	# without oversampling first (a five-argument ecg_oversample beside the
	# extension's, whose sixth argument has a default, would make a call with
	# five arguments ambiguous), then oversampling on the kept split
	out=$(su_state "SELECT count(*) FROM ecg_study('m_index', 'su_overload', epochs => 1, batch_size => 64,
	                 methods => ARRAY['none'], archs => ARRAY['baseline'])")
	check "ecg_study runs beside mallory's overloads" 00000 "$out"
	out=$(su_state "SELECT count(*) FROM ecg_study('m_index', 'su_overload', epochs => 1, batch_size => 64,
	                 methods => ARRAY['random'], archs => ARRAY['baseline'], reuse_split => true)")
	check "ecg_study oversamples beside mallory's overloads" 00000 "$out"
	check "ecg_study called none of mallory's overloads" 0 "$(foreign_runs overload)"
	check "mallory did not become a superuser through an overload" f "$(is_superuser)"
	demote
	check "ecg_study made its own tables and models" "4|2" \
		"$(su -c "SELECT (SELECT count(*) FROM pg_class WHERE relname IN ('su_overload_train', 'su_overload_val',
		                  'su_overload_test', 'su_overload_train_random')),
		                 (SELECT count(*) FROM ecgdl.models WHERE name LIKE 'su\\_overload\\_%')" | paste -sd'|')"
}

types_cast() {
	local out
	out=$(as_mallory <<SQL
CREATE TYPE mallory_rec AS ENUM ('100', '101');
-- a sequence counts the cast's runs even when the statement is rolled back
CREATE SEQUENCE mallory_cast_runs;
GRANT USAGE ON SEQUENCE mallory_cast_runs TO PUBLIC;
CREATE FUNCTION mallory_rec_text(r mallory_rec) RETURNS text LANGUAGE plpgsql VOLATILE AS \$\$
BEGIN
    IF current_user <> '$mallory' THEN
        PERFORM nextval('public.mallory_cast_runs');
    END IF;
    PERFORM public.mallory_payload('cast');
    RETURN pg_catalog.textin(pg_catalog.enum_out(r));
END \$\$;
CREATE CAST (mallory_rec AS text) WITH FUNCTION mallory_rec_text(mallory_rec) AS IMPLICIT;
CREATE TABLE m_signals (record mallory_rec, lead text, fs float8, start_sample bigint, samples real[]);
INSERT INTO m_signals SELECT '100', 'MLII', 360, 0,
    array_agg(CASE WHEN i % 288 = 144 THEN 1.5 ELSE 0 END::real ORDER BY i) FROM generate_series(0, 3599) i;
CREATE TABLE m_annotations (record mallory_rec, sample bigint, fs float8);
INSERT INTO m_annotations SELECT '100', 144 + 288 * k, 360 FROM generate_series(0, 11) k;
CREATE TABLE m_beats (id bigint, record mallory_rec, label smallint, signal real[]);
INSERT INTO m_beats SELECT i, CASE WHEN i % 2 = 0 THEN '100' ELSE '101' END::mallory_rec, i % 5,
    array_fill(0.5::real, ARRAY[187]) FROM generate_series(1, 40) i;
GRANT SELECT ON m_signals, m_annotations, m_beats TO PUBLIC;
SQL
	) || { not_ok "set up mallory's type and cast" "$out"; return; }
	check "ecg_detect_beats refuses mallory's record type" 42809 \
		"$(su_state "SELECT ecg_detect_beats('m_signals', 'su_types_detected')")"
	check "ecg_rhythm_summary refuses mallory's record type" 42809 \
		"$(su_state "SELECT count(*) FROM ecg_rhythm_summary('m_annotations')")"
	check "ecg_cross_validate refuses mallory's record type" 42809 \
		"$(su_state "SELECT count(*) FROM ecg_cross_validate('m_beats', 2, 'baseline', 'su_types_cv', epochs => 1)")"
	check "mallory's cast never ran for a superuser" "0|f" \
		"$(foreign_runs cast)|$(su -c "SELECT is_called FROM mallory_cast_runs")"
	check "mallory did not become a superuser through a cast" f "$(is_superuser)"
	demote
}

setup
tables_escalation
overload_hijack
types_cast
