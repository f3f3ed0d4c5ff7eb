-- ecgdl 0.4.0 (issue 12): rr_linear, a linear model of the R-R features;
-- ecg_model_combine, stored models as one model whose class scores are the
-- sums of theirs (a product of experts); the R-R window columns.  0.5.0:
-- the members' weights.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

SELECT ecg_import_wfdb(:'fixtures', 'ex_beats', ARRAY['syn1', 'syn16']) AS beats;
SELECT label, count(*) FROM ex_beats GROUP BY label ORDER BY label;

-- the members: a shape network (baseline: fast) at a tuned operating point,
-- and the rhythm model, weighted by class, Q left out of its loss
SELECT ecg_train('ex_shape', 'ex_beats', 'baseline', validation => 'ex_beats', epochs => 2,
                 batch_size => 64, seed => 3, operating_point => 'validation') > 0 AS trained;
SELECT ecg_train('ex_rhythm', 'ex_beats', 'rr_linear', validation => 'ex_beats', epochs => 3,
                 batch_size => 64, learning_rate => 1e-2, seed => 4,
                 class_weight => 'N=1, S=20, V=5, F=50, Q=0',
                 features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre_record', 'rr_post_record']) > 0
       AS trained;
SELECT model, architecture, operating_point, features FROM ecgdl.operating_points
WHERE model LIKE 'ex\_%' ORDER BY model;
-- rr_linear reads only the features: the same rows with other beats give
-- the same probabilities
CREATE TABLE ex_flat AS SELECT * FROM ex_beats;
UPDATE ex_flat SET signal = array_fill(0.5::real, ARRAY[187]);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.probabilities <> b.probabilities) AS differ
FROM ecg_classify_table('ex_rhythm', 'ex_beats') a JOIN ecg_classify_table('ex_rhythm', 'ex_flat') b USING (id);

-- The combination at the members' own operating points: its probabilities
-- are the normalised products of theirs, row by row
SELECT ecg_model_combine('ex_both', ARRAY['ex_shape', 'ex_rhythm']) > 0 AS combined;
SELECT name, architecture, training_table, hyperparameters -> 'models' AS models,
       hyperparameters ->> 'operating_point' AS operating_point,
       hyperparameters -> 'features' AS features
FROM ecgdl.models WHERE name = 'ex_both';
WITH a AS (SELECT id, probabilities p FROM ecg_classify_table('ex_shape', 'ex_beats')),
     b AS (SELECT id, probabilities p FROM ecg_classify_table('ex_rhythm', 'ex_beats')),
     s AS (SELECT id, probabilities p, predicted FROM ecg_classify_table('ex_both', 'ex_beats')),
     prod AS (SELECT a.id, k, a.p[k]::float8 * b.p[k] AS q FROM a JOIN b USING (id), generate_series(1, 5) k),
     norm AS (SELECT id, k, q / sum(q) OVER (PARTITION BY id) AS q FROM prod)
SELECT count(DISTINCT s.id) AS rows,
       max(abs(s.p[norm.k] - norm.q)) < 1e-5 AS products_match
FROM s JOIN norm USING (id);
-- the single-beat functions take it like any model
SELECT count(*) AS rows,
       count(*) FILTER (WHERE ecg_classify_beat('ex_both', t) <> c.predicted) AS differ
FROM ex_beats t JOIN ecg_classify_table('ex_both', 'ex_beats') c USING (id);
-- the order of the members does not change the classes
SELECT ecg_model_combine('ex_both_swapped', ARRAY['ex_rhythm', 'ex_shape']) > 0 AS combined;
SELECT count(*) FILTER (WHERE a.predicted <> b.predicted) AS classes_differ,
       max((SELECT max(abs(x - y)) FROM unnest(a.probabilities, b.probabilities) u(x, y))) < 1e-5
         AS probabilities_match
FROM ecg_classify_table('ex_both', 'ex_beats') a JOIN ecg_classify_table('ex_both_swapped', 'ex_beats') b USING (id);

-- The operating point tuned on a validation table: stored, reported, used
SELECT ecg_model_combine('ex_both_v', ARRAY['ex_shape', 'ex_rhythm'], validation => 'ex_beats',
                         operating_point => 'validation') > 0 AS combined;
SELECT model, architecture, operating_point, class_offsets ->> 'N' AS n_offset, features, validation
FROM ecgdl.operating_points WHERE model = 'ex_both_v';
SELECT class FROM ecg_evaluate_ec57('ex_both_v', 'ex_beats', by_record => false) ORDER BY 1;
-- a blob like any other: exported, imported under another name, the same classes
SELECT get_byte(ecg_model_export('ex_both_v'), 8) AS blob_version;
SELECT ecg_model_import('ex_both_v_copy', ecg_model_export('ex_both_v')) > 0 AS imported;
SELECT count(*) FILTER (WHERE a.predicted <> b.predicted) AS classes_differ
FROM ecg_classify_table('ex_both_v', 'ex_beats') a JOIN ecg_classify_table('ex_both_v_copy', 'ex_beats') b USING (id);
-- replace => true replaces it (same id)
SELECT ecg_model_combine('ex_both_v', ARRAY['ex_shape', 'ex_rhythm'], replace => true)
       = (SELECT id FROM ecgdl.models WHERE name = 'ex_both_v') AS same_id;
SELECT operating_point FROM ecgdl.operating_points WHERE model = 'ex_both_v';
-- a combination is a member like any other model
SELECT ecg_train('ex_shape2', 'ex_beats', 'baseline', epochs => 1, batch_size => 64, seed => 5,
                 validation => 'ex_beats') > 0 AS trained;
SELECT ecg_model_combine('ex_three', ARRAY['ex_both', 'ex_shape2']) > 0 AS combined;
SELECT count(*) AS classified FROM ecg_classify_table('ex_three', 'ex_beats');

-- 0.5.0: weighted members.  The probabilities are the normalised products of
-- the members' raised to their weights (two networks weighted 1/2 each, as
-- an ensemble, beside the rhythm model weighted 2)
SELECT ecg_model_combine('ex_weighted', ARRAY['ex_shape', 'ex_shape2', 'ex_rhythm'],
                         weights => ARRAY[0.5, 0.5, 2]) > 0 AS combined;
SELECT hyperparameters -> 'models' AS models FROM ecgdl.models WHERE name = 'ex_weighted';
WITH a AS (SELECT id, probabilities p FROM ecg_classify_table('ex_shape', 'ex_beats')),
     b AS (SELECT id, probabilities p FROM ecg_classify_table('ex_shape2', 'ex_beats')),
     c AS (SELECT id, probabilities p FROM ecg_classify_table('ex_rhythm', 'ex_beats')),
     s AS (SELECT id, probabilities p FROM ecg_classify_table('ex_weighted', 'ex_beats')),
     l AS (SELECT a.id, k, 0.5 * ln(greatest(a.p[k], 1e-30)) + 0.5 * ln(greatest(b.p[k], 1e-30))
                           + 2 * ln(greatest(c.p[k], 1e-30)) AS l
           FROM a JOIN b USING (id) JOIN c USING (id), generate_series(1, 5) k),
     e AS (SELECT id, k, exp(l - max(l) OVER (PARTITION BY id)) AS e FROM l),
     norm AS (SELECT id, k, e / sum(e) OVER (PARTITION BY id) AS q FROM e)
SELECT count(DISTINCT s.id) AS rows,
       max(abs(s.p[norm.k] - norm.q)) < 1e-4 AS weighted_products_match,
       count(*) FILTER (WHERE abs(s.p[norm.k] - norm.q) > 0.01) AS far
FROM s JOIN norm USING (id);
-- weights all 1 are the unweighted sum
SELECT ecg_model_combine('ex_both_w1', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, 1.0]) > 0 AS combined;
SELECT count(*) FILTER (WHERE a.probabilities <> b.probabilities) AS differ
FROM ecg_classify_table('ex_both', 'ex_beats') a JOIN ecg_classify_table('ex_both_w1', 'ex_beats') b USING (id);
-- a weighted combination at a tuned operating point, by position too
SELECT ecg_model_combine('ex_weighted_v', ARRAY['ex_shape', 'ex_rhythm'], 'ex_beats', 'validation', false,
                         ARRAY[0.25, 1]) > 0 AS combined;
SELECT operating_point, validation FROM ecgdl.operating_points WHERE model = 'ex_weighted_v';

-- Bad input
SELECT regress_error($$SELECT ecg_model_combine(NULL, ARRAY['ex_shape', 'ex_rhythm'])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', NULL)$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape'])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_shape2', 'ex_rhythm', 'ex_both', 'ex_both_v', 'ex_three', 'ex_weighted', 'ex_both_w1', 'ex_weighted_v'])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_shape'])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', NULL])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY[['ex_shape', 'ex_rhythm']])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'no_such_model'])$$);
-- two members that read the R-R features
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_both', 'ex_rhythm'])$$);
-- weights: one per model, each above 0 and at most 100
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1.0])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, 1, 1.0])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[[1, 1.0]])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, NULL])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[0, 1.0])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, -0.5])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, 101.0])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1, 'NaN'::float8])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY['Infinity'::float8, 1])$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], weights => ARRAY[1e-300, 1])$$);
SELECT count(*) AS none_stored FROM ecgdl.models WHERE name = 'ex_x';
-- cnns: an ensemble of two fits (0.5.0: up to 256 nodes, a cnn has 42);
-- beyond, more nodes than a model may have
SELECT ecg_train('ex_cnn', 'ex_beats', 'cnn', epochs => 1, batch_size => 64, seed => 6,
                 validation => 'ex_beats') > 0 AS trained;
SELECT ecg_train('ex_cnn2', 'ex_beats', 'cnn', epochs => 1, batch_size => 64, seed => 7,
                 validation => 'ex_beats') > 0 AS trained;
SELECT ecg_model_combine('ex_cnns', ARRAY['ex_cnn', 'ex_cnn2'], weights => ARRAY[0.5, 0.5]) > 0 AS combined;
SELECT ecg_model_combine('ex_cnns_rhythm', ARRAY['ex_cnns', 'ex_rhythm']) > 0 AS combined;
SELECT count(*) AS classified FROM ecg_classify_table('ex_cnns_rhythm', 'ex_beats');
SELECT ecg_model_combine('ex_big', ARRAY['ex_cnns', 'ex_cnn', 'ex_cnn2']) > 0 AS combined;
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_big', 'ex_cnns', 'ex_cnn'])$$);
SELECT ecg_model_combine('ex_cnn_rhythm', ARRAY['ex_cnn', 'ex_rhythm']) > 0 AS combined;
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], operating_point => 'prior')$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], operating_point => 'best')$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], operating_point => NULL)$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], operating_point => 'validation')$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], validation => 'ex_beats')$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_both', ARRAY['ex_shape', 'ex_rhythm'])$$);
SELECT regress_error($$SELECT ecg_model_combine(repeat('x', 1000), ARRAY['ex_shape', 'ex_rhythm'])$$);
SELECT regress_error($$SELECT ecg_model_combine('', ARRAY['ex_shape', 'ex_rhythm'])$$);
-- a validation table without the R-R columns the combination reads (a CSV
-- import's layout), an empty one, one that is not a table
CREATE TABLE ex_csv AS SELECT id, label, signal FROM ex_beats;
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], validation => 'ex_csv', operating_point => 'validation')$$);
CREATE TABLE ex_empty AS SELECT * FROM ex_beats WHERE false;
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], validation => 'ex_empty', operating_point => 'validation')$$);
SELECT regress_error($$SELECT ecg_model_combine('ex_x', ARRAY['ex_shape', 'ex_rhythm'], validation => 'no_such_table', operating_point => 'validation')$$);
-- rr_linear without features to read
SELECT regress_error($$SELECT ecg_train('ex_x', 'ex_csv', 'rr_linear', epochs => 1)$$);
-- nothing was stored by the failed calls
SELECT count(*) AS stray_models FROM ecgdl.models WHERE name = 'ex_x';

-- The window columns (0.4.0): rr_window, the mean R-R of the +-150 s around a
-- beat (the fixtures' records are shorter, so it is the record's mean of
-- its intervals, and the ratios are rr_pre and rr_post over it)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE rr_window IS NULL OR rr_pre_window IS NULL AND rr_pre IS NOT NULL
                        OR rr_post_window IS NULL AND rr_post IS NOT NULL) AS undefined,
       max(abs(rr_window - rr_record)) < 1e-6 AS window_is_record_mean,
       max(abs(rr_pre_window - rr_pre / rr_window)) < 1e-6 AS pre_ratio,
       max(abs(rr_post_window - rr_post / rr_window)) < 1e-6 AS post_ratio
FROM ex_beats;
-- a model reads them like the other eight; its blob names them
SELECT ecg_train('ex_win', 'ex_beats', 'rr_linear', epochs => 1, batch_size => 64, seed => 8,
                 validation => 'ex_beats', class_weight => 'N=1, S=20, V=5, F=50, Q=0',
                 features => ARRAY['rr_pre_window', 'rr_post_window', 'rr_pre_local']) > 0 AS trained;
SELECT features FROM ecgdl.operating_points WHERE model = 'ex_win';
SELECT ecg_model_import('ex_win_copy', ecg_model_export('ex_win')) > 0 AS imported;
SELECT count(*) FILTER (WHERE a.probabilities <> b.probabilities) AS differ
FROM ecg_classify_table('ex_win', 'ex_beats') a JOIN ecg_classify_table('ex_win_copy', 'ex_beats') b USING (id);
SELECT count(*) FILTER (WHERE ecg_classify_beat('ex_win', t) <> c.predicted) AS beat_differs
FROM ex_beats t JOIN ecg_classify_table('ex_win', 'ex_beats') c USING (id);
-- A table made before 0.4.0 has the eight columns only: models of the eight
-- train and classify on it, models of the window refuse it (42703), and the
-- tables made from it have the window columns NULL, which such a model
-- refuses row by row (22004)
CREATE TABLE ex_old AS SELECT * FROM ex_beats;
ALTER TABLE ex_old DROP COLUMN rr_window, DROP COLUMN rr_pre_window, DROP COLUMN rr_post_window;
SELECT count(*) AS classified FROM ecg_classify_table('ex_rhythm', 'ex_old');
SELECT count(*) FILTER (WHERE ecg_classify_beat('ex_rhythm', t) IS NULL) AS unclassified FROM ex_old t;
SELECT ecg_train('ex_old_rhythm', 'ex_old', 'rr_linear', epochs => 1, batch_size => 64, seed => 9,
                 validation => 'ex_old', features => ARRAY['rr_pre_local']) > 0 AS trained;
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('ex_win', 'ex_old')$$);
SELECT regress_error($$SELECT ecg_classify_beat('ex_win', t) FROM ex_old t LIMIT 1$$);
SELECT regress_error($$SELECT ecg_train('ex_x', 'ex_old', 'rr_linear', epochs => 1, features => ARRAY['rr_window'])$$);
SELECT ecg_subtract_record_median('ex_old', 'ex_old_rel') AS rows_written;
SELECT count(*) AS rows, count(rr_window) AS window_values, count(rr_pre) AS pre_values FROM ex_old_rel;
SELECT regress_error($$SELECT count(*) FROM ecg_classify_table('ex_win', 'ex_old_rel')$$);
SELECT count(*) AS classified FROM ecg_classify_table('ex_rhythm', 'ex_old_rel');
-- some of the window columns but not all: a model of the eight reads its
-- eight, and a table made from it is refused as a layout (42809)
CREATE TABLE ex_half AS SELECT * FROM ex_beats;
ALTER TABLE ex_half DROP COLUMN rr_post_window;
SELECT count(*) AS classified FROM ecg_classify_table('ex_rhythm', 'ex_half');
SELECT regress_error($$SELECT ecg_subtract_record_median('ex_half', 'ex_x')$$);
