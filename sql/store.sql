-- store: ecgdl.models and ecgdl.evaluations (issue 10, findings 4, 5, 6, 11).
--  1. the catalog: owners are roles (regrole), only ecgdl's functions write
--     the tables, pg_dump keeps their rows and the ids' sequences
--  2. the model cache follows the model row within one statement: a DO block
--     that replaces, deletes or rolls back a model sees each change at once;
--     a parallel worker uses the model the leader sees
--  3. the report views never fail on a row, however malformed
-- Self-contained: its own table (st_*) and models, dropped at the end.
SET client_min_messages = warning;

-- 1. The catalog ---------------------------------------------------------------
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS default
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'ecgdl'::regnamespace AND c.relkind = 'r' AND a.attname = 'owner'
ORDER BY 1;
-- the rows that pg_dump writes: both tables and their id sequences
SELECT cfg::regclass AS config, coalesce(nullif(cond, ''), '(all rows)') AS dumped
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond)
WHERE e.extname = 'ecgdl' ORDER BY cfg::regclass::text;

CREATE TABLE st_beats AS
SELECT n::bigint AS id, (n % 5)::smallint AS label,
       ARRAY(SELECT (0.3 + 0.5 * exp(-((s - 30 - 30 * (n % 5)) ^ 2) / 50.0) + 0.1 * sin(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM generate_series(1, 100) n;
SELECT ecg_train('st_a', 'st_beats', 'baseline', 'st_beats', epochs => 1, batch_size => 32, seed => 1) > 0 AS a,
       ecg_train('st_b', 'st_beats', 'baseline', 'st_beats', epochs => 1, batch_size => 32, seed => 2) > 0 AS b;
-- st_fp(model): a fingerprint of the model's probabilities on every beat
CREATE FUNCTION st_fp(model text) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT md5(string_agg(ecg_predict_proba(model, signal)::text, ',' ORDER BY id)) FROM st_beats $$;
CREATE TABLE st_expect AS SELECT st_fp('st_a') AS a, st_fp('st_b') AS b;
SELECT a <> b AS models_differ FROM st_expect;
SELECT ecg_model_import('st_m', ecg_model_export('st_a')) > 0 AS imported;

-- 2. The model cache within one statement ------------------------------------------
-- replace, then classify and evaluate in the same DO block: the new weights
CREATE TABLE st_seen (step text, fp text);
DO $$
BEGIN
    INSERT INTO st_seen VALUES ('before', st_fp('st_m'));
    PERFORM ecg_model_import('st_m', ecg_model_export('st_b'), replace => true);
    INSERT INTO st_seen VALUES ('after replacing', st_fp('st_m'));
    PERFORM count(*) FROM ecg_evaluate('st_m', 'st_beats');
END $$;
SELECT s.step, CASE s.fp WHEN e.a THEN 'st_a' WHEN e.b THEN 'st_b' ELSE 'neither' END AS weights
FROM st_seen s, st_expect e ORDER BY s.step DESC;
-- the evaluation stored under the replaced model has st_b's figures
SELECT count(*) AS st_b_evaluated FROM ecg_evaluate('st_b', 'st_beats');
SELECT (SELECT row(per_class, confusion) FROM ecgdl.evaluations WHERE model_name = 'st_m')
       = (SELECT row(per_class, confusion) FROM ecgdl.evaluations WHERE model_name = 'st_b') AS figures_of_st_b;
-- two replacements in one transaction (both rows have the same xmin)
TRUNCATE st_seen;
BEGIN;
SELECT ecg_model_import('st_m', ecg_model_export('st_a'), replace => true) > 0 AS replaced;
INSERT INTO st_seen VALUES ('1 first replacement', st_fp('st_m'));
SELECT ecg_model_import('st_m', ecg_model_export('st_b'), replace => true) > 0 AS replaced;
INSERT INTO st_seen VALUES ('2 second replacement', st_fp('st_m'));
COMMIT;
-- a replacement undone by an exception handler's rollback
DO $$
DECLARE
    inside text;
BEGIN
    BEGIN
        PERFORM ecg_model_import('st_m', ecg_model_export('st_a'), replace => true);
        inside := st_fp('st_m');
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    INSERT INTO st_seen VALUES ('3 replaced in a subtransaction', inside),
                               ('4 after its rollback', st_fp('st_m'));
END $$;
-- a parallel worker sees the leader's uncommitted replacement
BEGIN;
SELECT ecg_model_import('st_m', ecg_model_export('st_a'), replace => true) > 0 AS replaced;
SELECT st_fp('st_m') IS NOT NULL AS leader_cached;
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT md5(string_agg(p::text, ',' ORDER BY id)) AS fp
FROM (SELECT id, ecg_predict_proba('st_m', signal) AS p FROM st_beats) w \gset parallel_
ROLLBACK;
INSERT INTO st_seen VALUES ('5 in a parallel worker', :'parallel_fp');
INSERT INTO st_seen VALUES ('6 after the rollback', st_fp('st_m'));
SELECT s.step, CASE s.fp WHEN e.a THEN 'st_a' WHEN e.b THEN 'st_b' ELSE 'neither' END AS weights
FROM st_seen s, st_expect e ORDER BY s.step;
-- a model deleted earlier in the same block no longer classifies (the
-- error rolls the DELETE back)
SELECT regress_error($q$
    DO $$
    BEGIN
        PERFORM ecg_classify('st_m', signal) FROM st_beats LIMIT 1;
        DELETE FROM ecgdl.models WHERE name = 'st_m';
        PERFORM ecg_classify('st_m', signal) FROM st_beats LIMIT 1;
    END $$ $q$) AS classify_after_delete;
SELECT regress_error($q$
    DO $$
    BEGIN
        PERFORM ecg_classify('st_m', signal) FROM st_beats LIMIT 1;
        DELETE FROM ecgdl.models WHERE name = 'st_m';
        PERFORM count(*) FROM ecg_evaluate('st_m', 'st_beats');
    END $$ $q$) AS evaluate_after_delete;
SELECT count(*) AS st_m_rows FROM ecgdl.models WHERE name = 'st_m';

-- 3. The report views never fail ---------------------------------------------------
-- only the tables' owner can still write rows directly; malformed ones give
-- NULL figures, not errors
INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, rows, accuracy, macro_f1, per_class, confusion)
SELECT id, name, t.test_table, 7, 'NaN', 'Infinity', t.per_class::jsonb, t.confusion::bigint[]
FROM ecgdl.models, (VALUES
    ('st_bad_1', '{"N": {"f1": "x", "precision": [1], "recall": {"a": 1}}, "S": 3, "V": null}', '{1,2,3}'),
    ('st_bad_2', '[1, 2, 3]', '{{1,2},{3,4}}'),
    ('st_bad_3', '"just a string"', '{}'),
    ('st_bad_4', '{"N": {"f1": 0.98765, "precision": -5, "recall": true}}', '{{1,2,3,4,5,6}}')) AS t(test_table, per_class, confusion)
WHERE name = 'st_a';
SELECT test_table, test_rows, accuracy, macro_f1, f1_n, precision_n, recall_n, f1_s, f1_v, f1_q
FROM ecgdl.report WHERE model = 'st_a' AND test_table LIKE 'st\_bad%' ORDER BY test_table;
SELECT test_table, count(*) AS cells, count(count) AS counted, sum(count) AS total
FROM ecgdl.confusion WHERE model = 'st_a' AND test_table LIKE 'st\_bad%' GROUP BY 1 ORDER BY 1;
SELECT count(*) > 0 AS whole_report_reads FROM ecgdl.report r WHERE r::text IS NOT NULL;
-- the views' columns are those of 0.1.0 (ecg_study returns SETOF ecgdl.report)
SELECT c.relname, string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) AS columns
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.relnamespace = 'ecgdl'::regnamespace AND c.relkind = 'v' GROUP BY 1 ORDER BY 1;

-- 4. Dropping models and evaluations: only through ecgdl's functions -----------
SELECT ecg_evaluations_drop('st_a', 'st_bad_1') AS dropped_one,
       ecg_evaluations_drop('st_a') AS dropped_rest;
SELECT count(*) AS left_of_st_a FROM ecgdl.evaluations e JOIN ecgdl.models m ON m.id = e.model_id
WHERE m.name = 'st_a';
SELECT regress_error($$SELECT ecg_evaluations_drop('st_nonesuch')$$) AS unknown_model,
       regress_error($$SELECT ecg_evaluations_drop(NULL)$$) AS null_model,
       regress_error($$SELECT ecg_model_drop(NULL)$$) AS null_name,
       regress_error($$SELECT ecg_model_drop('st_a', NULL)$$) AS null_if_exists;
CREATE ROLE regress_st_other;
SET ROLE regress_st_other;
SELECT regress_error($$SELECT ecg_model_drop('st_a')$$) AS not_the_owner,
       regress_error($$DELETE FROM ecgdl.models WHERE name = 'st_a'$$) AS direct_delete,
       regress_error($$LOCK TABLE ecgdl.models IN ACCESS EXCLUSIVE MODE$$) AS strong_lock,
       ecg_evaluations_drop('st_b') AS others_evaluations;
RESET ROLE;
DROP ROLE regress_st_other;
SELECT ecg_model_drop('st_a') AS dropped, ecg_model_drop('st_b') AS dropped_b,
       ecg_model_drop('st_a', if_exists => true) AS again_if_exists,
       regress_error($$SELECT ecg_model_drop('st_a')$$) AS again;
DELETE FROM ecgdl.models WHERE name IN ('st_m');
DROP TABLE st_beats, st_expect, st_seen;
DROP FUNCTION st_fp(text);
