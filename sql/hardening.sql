-- hardening: the server side under hostile conditions.
--  1. the catalog: no SECURITY DEFINER function, reading server files is not
--     granted to PUBLIC, row-level security on the model and evaluation tables
--  2. a hostile search_path: look-alike operators, functions, aggregates,
--     types and tables ahead of pg_catalog are never used by a function that
--     runs SQL internally, and the results equal those under a clean path
--  3. ecgdl.max_memory: work over the limit is refused with SQLSTATE 54000 and
--     a hint, nothing is left behind; batch classification fits itself in
--  4. bad input: every function with NULL in each argument; one-row, empty,
--     wrongly shaped tables; NaN, infinite and overflowing values; huge sizes
-- Self-contained: its own tables (hd_*) and models, dropped at the end.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

-- hd_try(sql): like regress_error, but safe under a hostile search_path (every
-- type, operator and function qualified), with the hint, and with figures in
-- MB replaced by "n" (they follow the core's estimates)
CREATE FUNCTION hd_try(sql pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql AS $$
DECLARE
    msg pg_catalog.text;
    hint pg_catalog.text;
    state pg_catalog.text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT, state = RETURNED_SQLSTATE;
    RETURN pg_catalog.format('%s: %s%s', state, pg_catalog.regexp_replace(msg, '[0-9]+ MB', 'n MB', 'g'),
        CASE WHEN hint OPERATOR(pg_catalog.<>) '' THEN pg_catalog.format(' (hint: %s)', hint) ELSE '' END);
END $$;

-- 400 beats, 5 classes of 160/100/70/45/25 rows, each class a bump at its own
-- place plus a row-dependent wobble strong enough that classes overlap
CREATE TABLE hd_beats AS
SELECT n::bigint AS id, NULL::text AS record, NULL::bigint AS sample, NULL::text AS symbol,
       c::smallint AS label,
       ARRAY(SELECT (0.3 + 0.3 * exp(-((s - 30 - 30 * c) ^ 2) / 60.0)
                     + 0.15 * sin(n * s * 1.3) * cos(n * 0.7 + s))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, CASE WHEN n % 80 < 32 THEN 0 WHEN n % 80 < 52 THEN 1 WHEN n % 80 < 66 THEN 2
                     WHEN n % 80 < 75 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, 400) n) t;
ALTER TABLE hd_beats ADD PRIMARY KEY (id);
SELECT label, count(*) FROM hd_beats GROUP BY label ORDER BY label;
SELECT ecg_train('hd_model', 'hd_beats', 'baseline', 'hd_beats', epochs => 2, batch_size => 64) > 0 AS trained;

-- 1. The catalog ---------------------------------------------------------------
-- no function runs with its owner's rights; only the two functions reading
-- server files are withheld from PUBLIC
SELECT p.proname, p.prosecdef AS security_definer, p.proconfig,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_call,
       has_function_privilege('pg_read_server_files', p.oid, 'EXECUTE') AS file_readers_may_call
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ecgdl'
ORDER BY p.proname;
-- row-level security guards the shared tables; who may do what
SELECT c.relname, c.relrowsecurity, array_agg(p.polname || ':' || p.polcmd::text ORDER BY p.polname) AS policies
FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
WHERE c.relnamespace = 'ecgdl'::regnamespace AND c.relkind = 'r'
GROUP BY c.relname, c.relrowsecurity ORDER BY c.relname;
SELECT c.relname, privilege_type
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.relnamespace = 'ecgdl'::regnamespace AND a.grantee = 0
ORDER BY 1, 2;

-- 2. A hostile search_path -------------------------------------------------------
-- Look-alikes of what the extension's SQL uses, in a schema searched before
-- pg_catalog: each raises an error naming itself when called.
CREATE SCHEMA hd_hostile;
CREATE FUNCTION hd_hostile.trap_eq8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike = (bigint) called'; END $$;
CREATE FUNCTION hd_hostile.trap_eqt(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike = (text) called'; END $$;
CREATE FUNCTION hd_hostile.trap_eqo(oid, oid) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike = (oid) called'; END $$;
CREATE FUNCTION hd_hostile.trap_ge(smallint, integer) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike >= (smallint, integer) called'; END $$;
CREATE FUNCTION hd_hostile.trap_cat(text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike || called'; END $$;
CREATE FUNCTION hd_hostile.trap_match(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike pattern operator called'; END $$;
CREATE FUNCTION hd_hostile.trap_minus(timestamptz, timestamptz) RETURNS interval LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike - (timestamptz) called'; END $$;
CREATE OPERATOR hd_hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hd_hostile.trap_eq8);
CREATE OPERATOR hd_hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = hd_hostile.trap_eqt);
CREATE OPERATOR hd_hostile.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = hd_hostile.trap_eqo);
CREATE OPERATOR hd_hostile.>= (LEFTARG = smallint, RIGHTARG = integer, FUNCTION = hd_hostile.trap_ge);
CREATE OPERATOR hd_hostile.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = hd_hostile.trap_cat);
CREATE OPERATOR hd_hostile.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = hd_hostile.trap_match);
CREATE OPERATOR hd_hostile.!~ (LEFTARG = text, RIGHTARG = text, FUNCTION = hd_hostile.trap_match);
CREATE OPERATOR hd_hostile.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = hd_hostile.trap_minus);
CREATE FUNCTION hd_hostile.format(text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike format called'; END $$;
CREATE FUNCTION hd_hostile.format(text, text, text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike format called'; END $$;
CREATE FUNCTION hd_hostile.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike quote_ident called'; END $$;
CREATE FUNCTION hd_hostile.unnest(bigint[]) RETURNS SETOF bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike unnest called'; END $$;
CREATE FUNCTION hd_hostile.now() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike now called'; END $$;
CREATE FUNCTION hd_hostile.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike clock_timestamp called'; END $$;
CREATE FUNCTION hd_hostile.pg_has_role(name, name, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike pg_has_role called'; END $$;
CREATE FUNCTION hd_hostile.pg_has_role(oid, oid, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike pg_has_role called'; END $$;
CREATE FUNCTION hd_hostile.pg_has_role(oid, regrole, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike pg_has_role called'; END $$;
CREATE FUNCTION hd_hostile.to_regrole(text) RETURNS regrole LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike to_regrole called'; END $$;
CREATE FUNCTION hd_hostile.array_position(text[], text) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike array_position called'; END $$;
CREATE FUNCTION hd_hostile.trap_count(bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike count(*) called'; END $$;
CREATE AGGREGATE hd_hostile.count(*) (SFUNC = hd_hostile.trap_count, STYPE = bigint, INITCOND = '0');
CREATE DOMAIN hd_hostile.int8 AS text;
CREATE DOMAIN hd_hostile.int2 AS text;
CREATE DOMAIN hd_hostile.float4 AS text;
CREATE DOMAIN hd_hostile.text AS integer;
CREATE DOMAIN hd_hostile.jsonb AS integer;
CREATE DOMAIN hd_hostile.timestamptz AS integer;
CREATE TABLE hd_hostile.models (id bigint, name text, weights bytea);
CREATE TABLE hd_hostile.evaluations (id bigint);
CREATE TABLE hd_hostile.pg_extension (extname name, extnamespace oid);
CREATE TABLE hd_hostile.pg_namespace (oid oid, nspname name);
-- a client-side import staged before
CREATE TABLE hd_staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
INSERT INTO hd_staging (line) SELECT array_to_string(signal, ',') || ',' || label FROM hd_beats ORDER BY id;

SET search_path = hd_hostile, pg_catalog, public;
SELECT hd_try(pg_catalog.format('SELECT ecg_import_wfdb(%L, %L)', :'fixtures', 'hd_wfdb')) AS import_wfdb;
SELECT hd_try($$SELECT ecg_import_csv_staged('hd_staging', 'hd_staged')$$) AS import_staged;
SELECT hd_try($$SELECT ecg_split('hd_staged', 'hd_h_train', 'hd_h_test', 0.25, 7)$$) AS split;
SELECT hd_try($$SELECT ecg_oversample('hd_h_train', 'hd_h_smote', 'smote', 5, 3)$$) AS smote;
SELECT hd_try($$SELECT ecg_oversample('hd_h_train', 'hd_h_adasyn', 'adasyn', 5, 3)$$) AS adasyn;
SELECT hd_try($$SELECT ecg_train('hd_h_model', 'hd_h_smote', 'baseline', 'hd_h_test', epochs => 2, batch_size => 64)$$) AS train;
SELECT hd_try($$SELECT ecg_train('hd_h_model', 'hd_h_adasyn', 'baseline', 'hd_h_test', epochs => 2, batch_size => 64, replace => true)$$) AS train_replace;
SELECT hd_try($$SELECT ecg_model_import('hd_h_copy', ecg_model_export('hd_h_model'))$$) AS model_import;
SELECT hd_try($$CREATE TABLE public.hd_h_row AS SELECT id, ecg_classify('hd_h_model', signal) AS predicted,
                                                 ecg_predict_proba('hd_h_model', signal) AS probabilities FROM hd_h_test$$) AS classify;
SELECT hd_try($$CREATE TABLE public.hd_h_batch AS SELECT * FROM ecg_classify_table('hd_h_model', 'hd_h_test')$$) AS classify_table;
SELECT hd_try($$CREATE TABLE public.hd_h_eval AS SELECT * FROM ecg_evaluate('hd_h_model', 'hd_h_test')$$) AS evaluate;
SELECT hd_try($$CREATE TABLE public.hd_h_study AS SELECT model, oversampling, test_rows FROM ecg_study('hd_staged', 'hd_hs', epochs => 1, batch_size => 64,
                                                  methods => ARRAY['none', 'random'], archs => ARRAY['baseline'])$$) AS study;
RESET search_path;
-- nothing reached the look-alike tables; the new tables were created in the
-- first schema of the path, with the real types
SELECT (SELECT count(*) FROM hd_hostile.models) AS hostile_models,
       (SELECT count(*) FROM hd_hostile.evaluations) AS hostile_evaluations;
SELECT c.relname, count(*) AS columns,
       string_agg(DISTINCT format_type(a.atttypid, a.atttypmod), ', ') AS types
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'hd_hostile'::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'hd\_%'
GROUP BY c.relname ORDER BY c.relname;
SELECT * FROM hd_h_study ORDER BY model;
SELECT name, architecture, training_table, oversampling FROM ecgdl.models
WHERE name LIKE 'hd\_h%' ORDER BY name;
-- and the results are those of a clean search_path: the staged import equals
-- its source, the split is the same split, the predictions and the report
-- are the same
SELECT count(*) AS beats, count(*) FILTER (WHERE s.signal = b.signal AND s.label = b.label) AS identical
FROM hd_hostile.hd_staged s JOIN hd_beats b USING (id);
SELECT count(*) FROM ecg_split('hd_hostile.hd_staged', 'hd_c_train', 'hd_c_test', 0.25, 7);
SELECT (SELECT array_agg(id ORDER BY id) FROM hd_hostile.hd_h_test) = (SELECT array_agg(id ORDER BY id) FROM hd_c_test) AS same_split;
SELECT count(*) AS rows,
       -- one row at a time and a batch may round the dense layer differently
       -- (OpenBLAS picks other kernels), hence the tolerance
       count(*) FILTER (WHERE r.predicted = c.predicted AND
           (SELECT max(abs(x - y)) FROM unnest(r.probabilities, c.probabilities) u(x, y)) < 1e-6) AS same_per_row,
       count(*) FILTER (WHERE b.predicted = c.predicted AND b.probabilities = c.probabilities) AS same_batch
FROM ecg_classify_table('hd_h_model', 'hd_c_test') c JOIN hd_h_row r USING (id) JOIN hd_h_batch b USING (id);
SELECT count(*) AS report_rows,
       count(*) FILTER (WHERE h.f1 = c.f1 AND h.support = c.support
                          AND h.precision IS NOT DISTINCT FROM c.precision) AS same_report
FROM hd_h_eval h JOIN ecg_evaluate('hd_h_model', 'hd_c_test') c USING (class);
DROP SCHEMA hd_hostile CASCADE;
DELETE FROM ecgdl.models WHERE name LIKE 'hd\_h%';

-- 3. ecgdl.max_memory --------------------------------------------------------------
-- hd_mem_big: 15,000 beats (11 MB to load); hd_mem_huge: 25,000 (19 MB)
CREATE TABLE hd_mem_huge AS
SELECT (r * 1000 + b.id)::bigint AS id, b.label, b.signal[r + 1:187] || b.signal[1:r] AS signal
FROM hd_beats b, generate_series(0, 62) r WHERE r * 400 + b.id <= 25000;
CREATE TABLE hd_mem_big AS SELECT * FROM hd_mem_huge ORDER BY id LIMIT 15000;
SELECT (SELECT count(*) FROM hd_mem_big) AS big_rows, (SELECT count(*) FROM hd_mem_huge) AS huge_rows;
SET ecgdl.max_memory = '16MB';
-- the core's estimates: training (cnn, big batch), SMOTE and ADASYN (each
-- minority class raised to 20,000 rows, SMOTE's to 400,000: its table of
-- 1.6 million generated rows' provenance alone is 38 MB)
SELECT hd_try($$SELECT ecg_train('hd_mem', 'hd_beats', 'cnn', epochs => 1, batch_size => 4096)$$);
SELECT hd_try($$SELECT ecg_oversample('hd_mem_big', 'hd_mem_smote', 'smote', 5, 1, 'S=400000, V=400000, F=400000, Q=400000')$$);
SELECT hd_try($$SELECT ecg_oversample('hd_mem_big', 'hd_mem_adasyn', 'adasyn', 5, 1, 'S=20000, V=20000, F=20000, Q=20000')$$);
-- the glue's own loading of a table
SELECT hd_try($$SELECT ecg_train('hd_mem', 'hd_mem_huge', 'baseline', epochs => 1)$$);
SELECT hd_try($$SELECT ecg_oversample('hd_mem_huge', 'hd_mem_random', 'random')$$);
-- splitting loads ids and labels only; batch classification and evaluation
-- run in blocks small enough for the limit and give the same answers
SELECT count(*) FROM ecg_split('hd_mem_huge', 'hd_mem_train', 'hd_mem_test');
CREATE TABLE hd_mem_limited AS SELECT * FROM ecg_classify_table('hd_model', 'hd_mem_big');
RESET ecgdl.max_memory;
SELECT count(*) AS rows, count(*) FILTER (WHERE l.probabilities = c.probabilities) AS same
FROM hd_mem_limited l JOIN ecg_classify_table('hd_model', 'hd_mem_big') c USING (id);
-- nothing left behind by the refused calls
SELECT count(*) AS tables_left_behind FROM pg_class
WHERE relname IN ('hd_mem_smote', 'hd_mem_adasyn', 'hd_mem_random');
SELECT count(*) AS models_left_behind FROM ecgdl.models WHERE name = 'hd_mem';
-- the settings' own bounds
SELECT hd_try($$SET ecgdl.max_memory = '8MB'$$);
SELECT hd_try($$SET ecgdl.max_memory = 'lots'$$);
SELECT hd_try($$SET ecgdl.threads = 0$$);
SELECT hd_try($$SET ecgdl.threads = 65$$);
DROP TABLE hd_mem_huge, hd_mem_big, hd_mem_train, hd_mem_test, hd_mem_limited;

-- 4. Bad input ---------------------------------------------------------------------
-- NULL in each argument of every function, the others valid: an error with
-- SQLSTATE 22004 or 39004 ... or, where NULL means "default", a result
\set csv :fixtures '/hardening.csv'
COPY (SELECT line FROM hd_staging ORDER BY line_no LIMIT 20) TO :'csv';
CREATE TEMP TABLE hd_calls (fn text, srf boolean, args text[]);
INSERT INTO hd_calls VALUES
    ('ecg_import_wfdb', false, ARRAY[quote_literal(:'fixtures'), '''hd_null_wfdb''', 'ARRAY[''syn1'']', '''MLII''']),
    ('ecg_import_csv', false, ARRAY[quote_literal(:'csv'), '''hd_null_csv''']),
    ('ecg_import_csv_staged', false, ARRAY['''hd_staging''', '''hd_null_staged''']),
    ('ecg_split', true, ARRAY['''hd_beats''', '''hd_null_a''', '''hd_null_b''', '0.2', '1', '''stratified''']),
    ('ecg_oversample', false, ARRAY['''hd_beats''', '''hd_null_os''', '''smote''', '5', '1', '''auto''']),
    ('ecg_train', false, ARRAY['''hd_null_model''', '''hd_beats''', '''baseline''', '''hd_beats''', '1', '64',
                               '0.001', '1', '1', '''none''', 'false', '0.3']),
    ('ecg_model_export', false, ARRAY['''hd_model''']),
    ('ecg_model_import', false, ARRAY['''hd_null_import''', 'ecg_model_export(''hd_model'')', 'false']),
    ('ecg_classify', false, ARRAY['''hd_model''', '(SELECT signal FROM hd_beats WHERE id = 1)']),
    ('ecg_predict_proba', false, ARRAY['''hd_model''', '(SELECT signal FROM hd_beats WHERE id = 1)']),
    ('ecg_classify_table', true, ARRAY['''hd_model''', '''hd_beats''']),
    ('ecg_evaluate', true, ARRAY['''hd_model''', '''hd_beats''']),
    ('ecg_study', true, ARRAY['''hd_beats''', '''hd_null_study''', '1', '64', '1', '1', '''stratified''',
                              'ARRAY[''none'']', 'ARRAY[''baseline'']', 'false', '''none''']);
SELECT fn, i AS null_argument,
       regress_error(format(CASE WHEN srf THEN 'SELECT count(*) FROM %s(%s)' ELSE 'SELECT %s(%s) IS NULL' END,
                            fn, array_to_string(args[:i - 1] || 'NULL'::text || args[i + 1:], ', '))) AS result
FROM hd_calls, generate_subscripts(args, 1) i
ORDER BY fn, i;
-- the NULLs that mean a default did their work
SELECT (SELECT count(*) > 0 FROM hd_null_wfdb) AS all_records_imported,
       (SELECT hyperparameters ->> 'validation' FROM ecgdl.models WHERE name = 'hd_null_model') AS validation;
DROP TABLE hd_null_wfdb;
DELETE FROM ecgdl.models WHERE name = 'hd_null_model';

-- one-row, empty and wrongly shaped tables
CREATE TABLE hd_one AS SELECT * FROM hd_beats WHERE id = 1;
CREATE TABLE hd_empty AS SELECT * FROM hd_beats WHERE false;
CREATE TABLE hd_int_id AS SELECT id::int AS id, label, signal FROM hd_beats;
CREATE TABLE hd_text_label AS SELECT id, label::text AS label, signal FROM hd_beats;
CREATE TABLE hd_no_signal AS SELECT id, label FROM hd_beats;
CREATE TABLE hd_2d AS SELECT id, label, ARRAY[signal] AS signal FROM hd_beats;
CREATE TABLE hd_short AS SELECT id, label, signal[1:186] AS signal FROM hd_beats;
CREATE TABLE hd_dup AS SELECT * FROM hd_beats UNION ALL SELECT * FROM hd_beats WHERE id = 7;
CREATE VIEW hd_view AS SELECT * FROM hd_beats WHERE id <= 300;
SELECT regress_error($$SELECT count(*) FROM ecg_split('hd_one', 'hd_x1', 'hd_x2')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_split('hd_beats', 'hd_x1', 'hd_x2', 1e-300)$$);
SELECT regress_error($$SELECT count(*) FROM ecg_split('hd_beats', 'hd_x1', 'hd_x2', '-Infinity')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_split('hd_dup', 'hd_x1', 'hd_x2')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_one', 'hd_x1')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_one', 'baseline')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', 'hd_empty')$$);
SELECT count(*) AS classified_rows FROM ecg_classify_table('hd_model', 'hd_empty');
SELECT count(*) AS classified_rows FROM ecg_classify_table('hd_model', 'hd_one');
-- a one-row test table gives a report (classes without rows score 0)
SELECT class, support FROM ecg_evaluate('hd_model', 'hd_one') ORDER BY class;
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('hd_model', 'hd_int_id')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_evaluate('hd_model', 'hd_text_label')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_no_signal', 'hd_x1')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_2d', 'baseline')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('hd_model', 'hd_short')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats_pkey', 'baseline')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'no_such_schema.hd_x1')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'a.b.c.d')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', '')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_beats')$$);
-- a view is a valid source
SELECT ecg_oversample('hd_view', 'hd_from_view', 'random') AS generated;
SELECT count(*) AS rows, max(id) AS max_id FROM hd_from_view;

-- values: NaN, infinite and overflowing samples; ids with no room after them
SELECT regress_error($$SELECT ecg_classify('hd_model', array_fill(0.5::real, ARRAY[186]) || '-Infinity'::real)$$);
SELECT regress_error($$SELECT ecg_predict_proba('hd_model', array_fill(3e38::real, ARRAY[187]))$$);
SELECT regress_error($$SELECT ecg_classify('hd_model', array_fill(-3e38::real, ARRAY[187]))$$);
SELECT regress_error($$SELECT ecg_classify('hd_model', array_fill(0.5::real, ARRAY[201]))$$);
SELECT regress_error($$SELECT ecg_classify('hd_model', array_fill(0.5::real, ARRAY[1, 187]))$$);
-- an array with another lower bound is still 187 samples
SELECT ecg_predict_proba('hd_model', signal) = ecg_predict_proba('hd_model', ('[0:186]=' || signal::text)::real[]) AS lower_bound_ignored
FROM hd_beats WHERE id = 1;
CREATE TABLE hd_overflow AS SELECT id, label, array_fill(3e38::real, ARRAY[187]) AS signal FROM hd_beats;
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('hd_model', 'hd_overflow')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_evaluate('hd_model', 'hd_overflow')$$);
CREATE TABLE hd_max_id AS SELECT (9223372036854775807 - 400 + id)::bigint AS id, label, signal FROM hd_beats;
SELECT regress_error($$SELECT ecg_oversample('hd_max_id', 'hd_x1', 'random')$$);
-- out-of-range and huge numbers
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'smote', -5)$$);
SELECT hd_try($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'random', 5, 1, 'S=1e15')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'random', 5, 1, 'S=1e16')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'random', 5, 1, 'S=250.5')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'random', 5, 1, 'S=Infinity')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'random', 5, 1, 'N=1')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', epochs => 2147483647)$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', epochs => -1)$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', batch_size => -2147483648)$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', learning_rate => 'Infinity')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', patience => 2147483647, epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', validation_fraction => 0.95)$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', validation_fraction => 'NaN')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', class_weight => 'S=Infinity')$$);
SELECT regress_error($$SELECT ecg_train('hd_x', 'hd_beats', 'baseline', class_weight => 'S=1e7')$$);
SELECT regress_error($$SELECT ecg_train(repeat('m', 256), 'hd_beats', 'baseline', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_model_import(repeat('m', 256), ecg_model_export('hd_model'))$$);
SELECT regress_error($$SELECT ecg_classify(repeat('m', 256), signal) FROM hd_beats LIMIT 1$$);
-- the biggest batch on a small table: the batch is the table
SELECT ecg_train('hd_x', 'hd_beats', 'baseline', 'hd_beats', epochs => 1, batch_size => 65536) > 0 AS trained;
SELECT (hyperparameters ->> 'train_rows')::int AS train_rows FROM ecgdl.models WHERE name = 'hd_x';
-- unknown models, methods and names
SELECT regress_error($$SELECT ecg_model_export('hd_no_such_model')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('hd_no_such_model', 'hd_beats')$$);
SELECT regress_error($$SELECT ecg_oversample('hd_beats', 'hd_x1', 'SMOTE')$$);
SELECT regress_error($$SELECT count(*) FROM ecg_split('hd_beats', 'hd_x1', 'hd_x2', 0.2, 1, 'Stratified')$$);
SELECT regress_error($$SELECT ecg_train('hd_y', 'hd_beats', 'CNN')$$);
SELECT regress_error($$SELECT ecg_train('hd_y', 'hd_beats', '')$$);
SELECT regress_error($$SELECT * FROM ecg_study('hd_beats', 'hd_s', methods => ARRAY['mixup'])$$);
SELECT regress_error($$SELECT * FROM ecg_study('hd_beats', 'hd_s', archs => ARRAY['transformer'], epochs => 1)$$);
SELECT regress_error($$SELECT * FROM ecg_study('hd_beats', 'hd_s', epochs => 0)$$);
SELECT regress_error($$SELECT * FROM ecg_study('hd_beats', 'Bad Prefix')$$);
SELECT regress_error($$SELECT * FROM ecg_study('hd_beats', 'hd_s', split => 'kfold')$$);
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L], %L)', :'fixtures', 'hd_x1', 'syn1', ''));
SELECT regress_error(format('SELECT ecg_import_wfdb(%L, %L, ARRAY[%L])', :'fixtures', 'hd_x1', 'no_such_record'));
SELECT regress_error($$SELECT ecg_import_csv('', 'hd_x1')$$);
-- nothing was left behind by any failed call
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname IN ('hd_x1', 'hd_x2') OR relname LIKE 'hd\_s\_%';
SELECT count(*) AS models_left_behind FROM ecgdl.models WHERE name IN ('hd_y', 'hd_x1') OR name LIKE 'hd\_s\_%' OR length(name) > 255;

-- clean up
DELETE FROM ecgdl.models WHERE name LIKE 'hd\_%';
DROP VIEW hd_view;
DROP TABLE hd_beats, hd_staging, hd_h_row, hd_h_batch, hd_h_eval, hd_h_study, hd_c_train, hd_c_test,
    hd_one, hd_empty, hd_int_id, hd_text_label, hd_no_signal,
    hd_2d, hd_short, hd_dup, hd_from_view, hd_overflow, hd_max_id;
DROP FUNCTION hd_try(text);
