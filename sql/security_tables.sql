-- security_tables: the tables ecgdl makes and the SQL it runs (issue 10).
--  1. finding 2: new tables are ecgdl's own definition - a source's index
--     expressions, constraints, defaults, generated columns, triggers,
--     policies and statistics are never copied, and never run
--  2. finding 3: exact-match overloads of the functions ecg_study calls,
--     in the extension's schema and in a schema ahead of it, are never called
--  3. finding 8: ecgdl.max_oversample_rows bounds what ecg_oversample writes,
--     checked before any work
--  4. finding 9: extreme sample values are refused before training
--  5. finding 12: every argument and name checked before any work
-- Self-contained: its own tables (sec_*), models and role, dropped at the end.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

-- 200 beats: 100 N, 40 S, 30 V, 20 F, 10 Q
CREATE TABLE sec_beats AS
SELECT n::bigint AS id, NULL::text AS record, NULL::bigint AS sample, NULL::text AS symbol,
       (CASE WHEN n % 20 < 10 THEN 0 WHEN n % 20 < 14 THEN 1 WHEN n % 20 < 17 THEN 2
             WHEN n % 20 < 19 THEN 3 ELSE 4 END)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.3 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 60.0) + 0.1 * sin(n * s * 1.3))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(1, 200) n;
ALTER TABLE sec_beats ADD PRIMARY KEY (id);

-- 1. New tables of ecgdl's own definition ------------------------------------------
-- Planted code raises an error naming itself whenever sec.armed is on.
CREATE FUNCTION sec_planted(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('sec.armed', true) = 'on' THEN
        RAISE EXCEPTION 'planted % ran', what;
    END IF;
    RETURN true;
END $$;
-- index expressions, generated columns and statistics need IMMUTABLE
CREATE FUNCTION sec_planted_immutable(id bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM sec_planted('index, generated column or statistics');
    RETURN id;
END $$;
CREATE FUNCTION sec_planted_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sec_planted('trigger');
    RETURN NEW;
END $$;
-- the beat columns in another order, with extra columns and everything planted
CREATE TABLE sec_planted_src (
    note text DEFAULT 'x' || sec_planted('default')::text,
    signal real[] NOT NULL,
    label smallint CHECK (sec_planted('check')),
    symbol text DEFAULT (sec_planted('default of a beat column'))::text,
    id bigint PRIMARY KEY,
    record text,
    sample bigint,
    g bigint GENERATED ALWAYS AS (sec_planted_immutable(id)) STORED);
CREATE INDEX sec_planted_idx ON sec_planted_src (sec_planted_immutable(id));
CREATE STATISTICS sec_planted_stats ON (sec_planted_immutable(id)), label FROM sec_planted_src;
CREATE TRIGGER sec_planted_t BEFORE INSERT ON sec_planted_src FOR EACH ROW EXECUTE FUNCTION sec_planted_trigger();
ALTER TABLE sec_planted_src ENABLE ROW LEVEL SECURITY;
CREATE POLICY sec_planted_p ON sec_planted_src USING (sec_planted('policy'));
INSERT INTO sec_planted_src (signal, label, symbol, id, record, sample)
SELECT signal, label, 'N', id, 'r' || id % 3, id * 10 FROM sec_beats;

SET sec.armed = on;
SELECT regress_error($$INSERT INTO sec_planted_src (signal, label, id) VALUES ('{}', 0, 0)$$) AS planted_code_is_armed;
SELECT count(*) FROM ecg_split('sec_planted_src', 'sec_p_train', 'sec_p_test', 0.25, 1);
SELECT ecg_oversample('sec_planted_src', 'sec_p_random', 'random', 5, 1);
SELECT count(*) FROM ecg_study('sec_planted_src', 'sec_ps', epochs => 1, batch_size => 64,
                               methods => ARRAY['none', 'random'], archs => ARRAY['baseline']);
RESET sec.armed;
-- the new tables: ecgdl's columns in ecgdl's order, the primary key and the
-- label check, NOT NULLs - and nothing else
SELECT c.relname,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                          || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.contype, k.conname)
        FROM pg_constraint k WHERE k.conrelid = c.oid) AS constraints,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes,
       (SELECT count(*) FROM pg_attrdef d WHERE d.adrelid = c.oid) AS defaults,
       (SELECT count(*) FROM pg_trigger g WHERE g.tgrelid = c.oid) AS triggers,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) + c.relrowsecurity::int AS policies,
       (SELECT count(*) FROM pg_statistic_ext x WHERE x.stxrelid = c.oid) AS statistics
FROM pg_class c
WHERE c.relname IN ('sec_p_train', 'sec_p_test', 'sec_p_random', 'sec_ps_train', 'sec_ps_val',
                    'sec_ps_test', 'sec_ps_trainval', 'sec_ps_train_random')
ORDER BY c.relname;
-- the values came across, column by column
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t.record = s.record AND t.sample = s.sample AND t.symbol = s.symbol
                          AND t.label = s.label AND t.signal = s.signal) AS identical
FROM (SELECT * FROM sec_p_train UNION ALL SELECT * FROM sec_p_test) t JOIN sec_planted_src s USING (id);
-- a split of an oversampled table keeps the provenance columns and values
SELECT count(*) FROM ecg_split('sec_p_random', 'sec_pr_train', 'sec_pr_test', 0.25, 1);
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns
FROM pg_attribute WHERE attrelid = 'sec_pr_train'::regclass AND attnum > 0;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (t.synthetic, t.base_id, t.partner_id, t.step, t.method)
                              IS NOT DISTINCT FROM (r.synthetic, r.base_id, r.partner_id, r.step, r.method)) AS same_provenance
FROM (SELECT * FROM sec_pr_train UNION ALL SELECT * FROM sec_pr_test) t JOIN sec_p_random r USING (id);
-- a source without the optional columns gives them as NULL
CREATE TABLE sec_minimal AS SELECT label, signal, id FROM sec_beats;
SELECT count(*) FROM ecg_split('sec_minimal', 'sec_m_train', 'sec_m_test', 0.25, 1);
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns,
       (SELECT count(*) FROM sec_m_train WHERE record IS NULL AND sample IS NULL AND symbol IS NULL) AS null_rows
FROM pg_attribute WHERE attrelid = 'sec_m_train'::regclass AND attnum > 0;
-- an optional column of another type is refused, not cast (a cast could be
-- the table owner's code) nor silently dropped
CREATE TABLE sec_int_record AS SELECT id, id::int AS record, label, signal FROM sec_beats;
SELECT regress_error($$SELECT count(*) FROM ecg_split('sec_int_record', 'sec_x1', 'sec_x2')$$);
SELECT regress_error($$SELECT ecg_oversample('sec_int_record', 'sec_x1', 'random')$$);
CREATE TABLE sec_text_method AS SELECT *, false AS synthetic, 0::bigint AS base_id, 0::bigint AS partner_id,
                                       0::real AS step, 1 AS method FROM sec_beats;
SELECT regress_error($$SELECT count(*) FROM ecg_split('sec_text_method', 'sec_x1', 'sec_x2')$$);
-- a staging table's line_no is read and ordered by: a built-in integer only
CREATE TABLE sec_staging (line_no text, line text);
INSERT INTO sec_staging SELECT id::text, array_to_string(signal, ',') || ',' || label FROM sec_beats;
SELECT regress_error($$SELECT ecg_import_csv_staged('sec_staging', 'sec_x1')$$);
ALTER TABLE sec_staging ALTER COLUMN line_no TYPE int USING line_no::int;
SELECT ecg_import_csv_staged('sec_staging', 'sec_staged') AS staged_rows;

-- 2. Overloads that would match better than the extension's functions ------------
-- In the extension's own schema (as when it is public and others may create
-- there), and in a schema ahead of it on the path; each raises when called.
SELECT n.nspname AS extension_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'ecgdl';
CREATE SCHEMA sec_first;
CREATE FUNCTION public.ecg_split(source regclass, train text, test text, test_fraction numeric, seed int, method text)
RETURNS TABLE (part text, class text, beats bigint) LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'overload ecg_split(numeric) called'; END $$;
CREATE FUNCTION public.ecg_oversample(source regclass, target text, method text, k int, seed int)
RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'overload ecg_oversample (five arguments) called'; END $$;
CREATE FUNCTION public.ecg_train(name text, train regclass, arch text, validation regclass, epochs int,
                                 batch_size int, learning_rate numeric, patience int, seed int,
                                 class_weight text, replace boolean)
RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'overload ecg_train(numeric) called'; END $$;
CREATE FUNCTION public.ecg_evaluate(model text, test text)
RETURNS TABLE (class text, "precision" float8, recall float8, f1 float8, support bigint) LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'overload ecg_evaluate(text, text) called'; END $$;
CREATE FUNCTION sec_first.ecg_split(source regclass, train text, test text, test_fraction float8, seed int, method text)
RETURNS TABLE (part text, class text, beats bigint) LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike ecg_split called'; END $$;
CREATE FUNCTION sec_first.ecg_oversample(source regclass, target text, method text, k int, seed int, strategy text)
RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike ecg_oversample called'; END $$;
CREATE FUNCTION sec_first.ecg_train(name text, train regclass, arch text, validation regclass, epochs int,
                                    batch_size int, learning_rate float8, patience int, seed int,
                                    class_weight text, replace boolean, validation_fraction float8)
RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike ecg_train called'; END $$;
CREATE FUNCTION sec_first.ecg_evaluate(model text, test regclass)
RETURNS TABLE (class text, "precision" float8, recall float8, f1 float8, support bigint) LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike ecg_evaluate called'; END $$;
CREATE TABLE public.sec_o_test (id int);	-- a table of the study's name outside the schema it creates in
SET search_path = sec_first, public;
-- the study's tables go to sec_first, the first schema of the path
SELECT model, oversampling, training_table, test_table, test_rows
FROM public.ecg_study('public.sec_beats', 'sec_o', epochs => 1, batch_size => 64,
                      methods => ARRAY['none', 'random'], archs => ARRAY['baseline']);
RESET search_path;
DROP FUNCTION public.ecg_split(regclass, text, text, numeric, int, text),
    public.ecg_oversample(regclass, text, text, int, int),
    public.ecg_train(text, regclass, text, regclass, int, int, numeric, int, int, text, boolean),
    public.ecg_evaluate(text, text);
DROP SCHEMA sec_first CASCADE;
DROP TABLE public.sec_o_test;

-- 3. ecgdl.max_oversample_rows -------------------------------------------------------
SHOW ecgdl.max_oversample_rows;
-- refused before anything is generated or written
SELECT regress_error($$SELECT ecg_oversample('sec_beats', 'sec_x1', 'random', 5, 1, 'S=100000000')$$);
SELECT regress_error($$SELECT ecg_oversample('sec_beats', 'sec_x1', 'smote', 5, 1, 'S=6000000, V=6000000')$$);
-- 'auto' raises S, V, F and Q to 100 rows: 60 + 70 + 80 + 90 = 300 new rows
SET ecgdl.max_oversample_rows = 299;
SELECT regress_error($$SELECT ecg_oversample('sec_beats', 'sec_x1', 'random')$$);
SET ecgdl.max_oversample_rows = 300;
SELECT ecg_oversample('sec_beats', 'sec_auto', 'random') AS generated;
RESET ecgdl.max_oversample_rows;
-- only a superuser may change it
CREATE ROLE regress_sec_user;
SET ROLE regress_sec_user;
SELECT regress_error($$SET ecgdl.max_oversample_rows = 1000000000$$);
RESET ROLE;
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname = 'sec_x1';

-- 4. Extreme values before training -------------------------------------------------
CREATE TABLE sec_extreme AS SELECT * FROM sec_beats;
UPDATE sec_extreme SET signal[40] = 3e38 WHERE id = 17;
SELECT regress_error($$SELECT ecg_train('sec_nan', 'sec_extreme', 'cnn', 'sec_beats', epochs => 2, batch_size => 64)$$);
SELECT regress_error($$SELECT ecg_train('sec_nan', 'sec_beats', 'baseline', 'sec_extreme', epochs => 2, batch_size => 64)$$);
UPDATE sec_extreme SET signal[40] = -1000001 WHERE id = 17;
SELECT regress_error($$SELECT ecg_train('sec_nan', 'sec_extreme', 'baseline', epochs => 2, batch_size => 64)$$);
-- up to the bound trains
UPDATE sec_extreme SET signal[40] = -1000000 WHERE id = 17;
SELECT ecg_train('sec_big', 'sec_extreme', 'baseline', 'sec_beats', epochs => 1, batch_size => 64) > 0 AS trained;
SELECT count(*) AS models_of_refused_training FROM ecgdl.models WHERE name = 'sec_nan';

-- 5. Every argument and name checked before any work ---------------------------------
-- ecg_study: with NOTICEs shown, a check that fails before the first step
-- shows none of the study's own NOTICEs
SET client_min_messages = notice;
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', archs => ARRAY['baseline', 'transformer'])$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', archs => ARRAY['baseline', 'baseline'])$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', methods => ARRAY['none', 'random', 'none'])$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', archs => '{}')$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', class_weight => 'X=3')$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', batch_size => 0)$$);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', patience => -1)$$);
-- names: <prefix>_train_adasyn must fit in 63 bytes (50 characters of prefix)
SELECT regress_error(format('SELECT * FROM ecg_study(%L, %L)', 'sec_beats', repeat('p', 51)));
SELECT regress_error(format('SELECT * FROM ecg_study(%L, %L, methods => ARRAY[%L])', 'sec_beats', repeat('p', 55), 'none'));
-- a table or a model to be made exists already
CREATE TABLE sec_s_train_smote (id int);
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_s', methods => ARRAY['none', 'smote'])$$);
DROP TABLE sec_s_train_smote;
SELECT regress_error($$SELECT * FROM ecg_study('sec_beats', 'sec_ps', methods => ARRAY['none'], archs => ARRAY['baseline'], reuse_split => true)$$);
SET client_min_messages = warning;
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname LIKE 'sec\_s\_%' OR relname LIKE 'ppppp%';
-- the C side of those checks, called directly
SELECT regress_error($$SELECT ecgdl.study_check(ARRAY['cnn', NULL], 1, 1, 1, 1, 'none', '{}', false)$$);
SELECT regress_error($$SELECT ecgdl.study_check(ARRAY['cnn'], 1, 1, 1, 1, 'none', ARRAY['sec_ps_baseline_none'], false)$$);
SELECT ecgdl.study_check(ARRAY['cnn', 'cnn_wide'], 1, 1, 1, 1, 'balanced', ARRAY['sec_ps_baseline_none'], true) IS NOT NULL AS accepted;
SELECT ecgdl.study_check(NULL, 1, 1, 1, 1, 'none', '{}', false) IS NULL AS strict;

-- ecg_train: both tables' layouts, including the columns read after
-- training, before any row is read
CREATE TABLE sec_int_synthetic AS SELECT *, (id % 2)::int AS synthetic, 'random'::text AS method FROM sec_beats;
SET client_min_messages = notice;
SELECT regress_error($$SELECT ecg_train('sec_x', 'sec_int_synthetic', 'baseline', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('sec_x', 'sec_beats', 'baseline', 'sec_int_record', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('sec_x', 'sec_beats', 'baseline', 'sec_staging', epochs => 1)$$);
SET client_min_messages = warning;

-- table names longer than 63 bytes are refused, not cut
SELECT regress_error(format('SELECT count(*) FROM ecg_split(%L, %L, %L)', 'sec_beats', repeat('t', 64), 'sec_x2'));
SELECT regress_error(format('SELECT count(*) FROM ecg_split(%L, %L, %L)', 'sec_beats', 'sec_x1', '"' || repeat('T', 64) || '"'));
SELECT regress_error(format('SELECT ecg_oversample(%L, %L)', 'sec_beats', repeat('s', 64) || '.sec_x1'));
SELECT regress_error(format('SELECT ecg_oversample(%L, %L)', 'sec_beats', repeat('é', 32)));
SELECT regress_error(format('SELECT ecg_import_csv_staged(%L, %L)', 'sec_staging', repeat('t', 64)));
SELECT regress_error(format('SELECT ecg_import_csv(%L, %L)', '/nonexistent.csv', repeat('t', 64)));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L)', :'fixtures', repeat('t', 64)));
-- 63 bytes, quoted with a doubled quote inside, are fine
SELECT count(*) FROM ecg_split('sec_beats', repeat('t', 63), '"' || repeat('Q', 30) || '""' || repeat('Q', 32) || '"');
SELECT relname, octet_length(relname) FROM pg_class WHERE relname IN (repeat('t', 63), repeat('Q', 30) || '"' || repeat('Q', 32)) ORDER BY 1;
-- duplicate ids are refused before a table is made
CREATE TABLE sec_dup AS SELECT * FROM sec_beats UNION ALL SELECT * FROM sec_beats WHERE id = 5;
SELECT regress_error($$SELECT ecg_oversample('sec_dup', 'sec_x1', 'random')$$);
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname IN ('sec_x1', 'sec_x2') OR relname LIKE 'ttttt%' AND octet_length(relname) > 63;

-- clean up
DROP ROLE regress_sec_user;
DELETE FROM ecgdl.models WHERE name LIKE 'sec\_%';
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT quote_ident(relname) FROM pg_class
             WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
               AND (relname LIKE 'sec\_%' OR relname IN (repeat('t', 63), repeat('Q', 30) || '"' || repeat('Q', 32)))
    LOOP
        EXECUTE 'DROP TABLE ' || t;
    END LOOP;
END $$;
DROP FUNCTION sec_planted(text), sec_planted_immutable(bigint), sec_planted_trigger();
