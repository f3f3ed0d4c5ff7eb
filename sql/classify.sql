-- ecg_classify, ecg_predict_proba, ecg_classify_table, ecg_evaluate, the
-- model cache and the report views (models from the train test).
SET client_min_messages = warning;

-- per row and in batch give the same answers; probabilities sum to 1
SELECT count(*) AS rows,
       count(*) FILTER (WHERE ecg_classify('tr_cnn', b.signal) = t.predicted) AS same_class,
       count(*) FILTER (WHERE abs((SELECT sum(p) FROM unnest(t.probabilities) p) - 1) < 1e-5) AS sums_to_one,
       count(*) FILTER (WHERE (SELECT max(abs(x - y)) FROM unnest(ecg_predict_proba('tr_cnn', b.signal), t.probabilities) u(x, y)) < 1e-6) AS same_probabilities
FROM tr_test b JOIN ecg_classify_table('tr_cnn', 'tr_test') t USING (id);
SELECT array_length(ecg_predict_proba('tr_baseline', signal), 1) FROM tr_test LIMIT 1;
-- a signal of the model's input length (200, zero-padded) is accepted too
SELECT ecg_classify('tr_cnn', signal || array_fill(0::real, ARRAY[13])) = ecg_classify('tr_cnn', signal) AS padded_same
FROM tr_test ORDER BY id LIMIT 1;
-- the model is better than the majority rate on the test table
SELECT avg((ecg_classify('tr_cnn', signal) = label)::int) > 0.4 AS better_than_majority FROM tr_test;

-- ecg_evaluate against a confusion matrix computed by hand in SQL
SELECT class, support, round(f1::numeric, 6) IS NOT NULL AS has_f1 FROM ecg_evaluate('tr_cnn', 'tr_test');
WITH pred AS (SELECT label AS t, ecg_classify('tr_cnn', signal) AS p FROM tr_test),
cm AS (SELECT t, p, count(*) AS n FROM pred GROUP BY t, p),
per_class AS (
    SELECT c,
           coalesce((SELECT n FROM cm WHERE t = c AND p = c), 0) AS tp,
           coalesce((SELECT sum(n) FROM cm WHERE p = c), 0) AS predicted,
           coalesce((SELECT sum(n) FROM cm WHERE t = c), 0) AS actual
    FROM generate_series(0, 4) c),
hand AS (
    SELECT c, CASE WHEN predicted > 0 THEN tp::float8 / predicted ELSE 0 END AS prec,
              CASE WHEN actual > 0 THEN tp::float8 / actual ELSE 0 END AS rec, actual
    FROM per_class)
SELECT count(*) AS classes_matching
FROM hand h JOIN ecg_evaluate('tr_cnn', 'tr_test') e ON e.class = (ARRAY['N','S','V','F','Q'])[h.c + 1]
WHERE abs(e.precision - h.prec) < 1e-12 AND abs(e.recall - h.rec) < 1e-12 AND e.support = h.actual
  AND abs(e.f1 - CASE WHEN h.prec + h.rec > 0 THEN 2 * h.prec * h.rec / (h.prec + h.rec) ELSE 0 END) < 1e-12;
-- the stored confusion matrix matches the classifications
SELECT count(*) AS cells, sum(c.count) AS total,
       count(*) FILTER (WHERE c.count = (SELECT count(*) FROM tr_test b
           WHERE (ARRAY['N','S','V','F','Q'])[b.label + 1] = c.true_class
             AND (ARRAY['N','S','V','F','Q'])[ecg_classify('tr_cnn', b.signal) + 1] = c.predicted_class)) AS matching
FROM ecgdl.confusion c WHERE c.model = 'tr_cnn';
SELECT count(*) AS evaluations FROM ecgdl.evaluations WHERE model_name = 'tr_cnn';

-- the report view: one row per model and test table (the latest evaluation)
SELECT ecg_evaluate('tr_baseline', 'tr_test') IS NOT NULL AS evaluated LIMIT 1;
SELECT model, architecture, oversampling, class_weight, training_table, test_table, test_rows,
       accuracy BETWEEN 0 AND 1 AS accuracy_ok, macro_f1 BETWEEN 0 AND 1 AS macro_f1_ok, epochs
FROM ecgdl.report ORDER BY model;

-- the cache: replacing a model is seen from the next statement on
SELECT ecg_model_import('tr_swap', ecg_model_export('tr_cnn')) > 0 AS imported;
SELECT count(*) FILTER (WHERE ecg_classify('tr_swap', signal) = ecg_classify('tr_cnn', signal)) AS like_cnn FROM tr_test;
SELECT ecg_model_import('tr_swap', ecg_model_export('tr_baseline'), replace => true) > 0 AS replaced;
SELECT bool_and(ecg_predict_proba('tr_swap', signal) = ecg_predict_proba('tr_baseline', signal)) AS now_like_baseline,
       bool_and(ecg_predict_proba('tr_swap', signal) = ecg_predict_proba('tr_cnn', signal)) AS still_like_cnn FROM tr_test;
DELETE FROM ecgdl.models WHERE name = 'tr_swap';
SELECT regress_error($$SELECT ecg_classify('tr_swap', signal) FROM tr_test LIMIT 1$$);

-- parallel query spreads a large per-row scan over workers
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT count(*) FROM tr_beats WHERE ecg_classify('tr_cnn', signal) = 0;
SELECT (SELECT count(*) FROM tr_beats WHERE ecg_classify('tr_cnn', signal) = 0) =
       (SELECT count(*) FROM ecg_classify_table('tr_cnn', 'tr_beats') WHERE predicted = 0) AS parallel_same;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- bad input
SELECT regress_error($$SELECT ecg_classify('no_such_model', signal) FROM tr_test LIMIT 1$$);
SELECT regress_error($$SELECT ecg_classify(NULL, signal) FROM tr_test LIMIT 1$$);
SELECT regress_error($$SELECT ecg_classify('tr_cnn', NULL)$$);
SELECT regress_error($$SELECT ecg_classify('tr_cnn', ARRAY[0.1, 0.2]::real[])$$);
SELECT regress_error($$SELECT ecg_classify('tr_cnn', array_fill(0.5::real, ARRAY[2, 187]))$$);
SELECT regress_error($$SELECT ecg_classify('tr_cnn', array_fill(0.5::real, ARRAY[186]) || 'NaN'::real)$$);
SELECT regress_error($$SELECT ecg_classify('tr_cnn', array_fill(0.5::real, ARRAY[186]) || NULL::real)$$);
SELECT regress_error($$SELECT ecg_predict_proba('tr_cnn', ARRAY[]::real[])$$);
SELECT regress_error($$SELECT * FROM ecg_classify_table('tr_cnn', 'no_such_table')$$);
SELECT regress_error($$SELECT * FROM ecg_classify_table('tr_cnn', NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_classify_table('tr_cnn', 'tr_wrong_layout')$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate('no_such_model', 'tr_test')$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate('tr_cnn', 'tr_empty')$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate('tr_cnn', 'tr_bad')$$);
-- a corrupt blob stored behind the extension's back is refused, not used
INSERT INTO ecgdl.models (name, architecture, weights) VALUES ('tr_corrupt', 'cnn', '\x00'::bytea);
SELECT regress_error($$SELECT ecg_classify('tr_corrupt', signal) FROM tr_test LIMIT 1$$);
