-- Models with R-R features (issue 12): baseline_rr and cnn_rr read the rr_*
-- columns of the tables, standardise them with the training table's mean and
-- sd, and decide at an operating point chosen when training ends; the
-- classify functions read the columns from the table, or from a beat row.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'fixtures', 'm2_beats', ARRAY['syn1', 'syn16']) AS beats;
SELECT label, count(*) FROM m2_beats GROUP BY label ORDER BY label;
-- no rr columns (like a CSV import), and a lone beat that nothing imputes
CREATE TABLE m2_plain AS SELECT id, record, sample, symbol, label, signal FROM m2_beats;
CREATE TABLE m2_holes AS SELECT * FROM m2_beats;
UPDATE m2_holes SET rr_pre = NULL, rr_post = NULL WHERE id = 3;

-- baseline_rr, all eight features, the prior operating point
SELECT ecg_train('m2_base', 'm2_beats', 'baseline_rr', epochs => 2, batch_size => 32, seed => 7,
                 operating_point => 'prior') > 0 AS trained;
-- cnn_rr, three features, offsets tuned on a validation table
SELECT ecg_train('m2_cnn', 'm2_beats', 'cnn_rr', validation => 'm2_beats', epochs => 1,
                 batch_size => 64, seed => 7, operating_point => 'validation',
                 features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_local']) > 0 AS trained;
-- a plain model stays of 0.1.0's kind: no features, arg-max, a version 1 blob
SELECT ecg_train('m2_plain', 'm2_plain', 'baseline', epochs => 1, batch_size => 64, seed => 7) > 0 AS trained;
SELECT model, architecture, operating_point, jsonb_typeof(class_offsets) AS offsets, features,
       validation IS NOT NULL AS has_validation
FROM ecgdl.operating_points WHERE model LIKE 'm2\_%' ORDER BY model;
-- the prior offsets are log(n_max / n_c) of the training table's class counts
WITH counts AS (SELECT label, count(*)::numeric AS n FROM m2_beats GROUP BY label)
SELECT (ARRAY['N', 'S', 'V', 'F', 'Q'])[label + 1] AS class,
       round((SELECT (hyperparameters -> 'class_offsets' ->> (ARRAY['N', 'S', 'V', 'F', 'Q'])[label + 1])::numeric
              FROM ecgdl.models WHERE name = 'm2_base'), 3) AS stored,
       round(ln((SELECT max(n) FROM counts) / n), 3) AS expected
FROM counts ORDER BY label;
-- format version: 2 with features or an operating point, 1 otherwise
SELECT name, get_byte(ecg_model_export(name), 8) AS version FROM ecgdl.models
WHERE name LIKE 'm2\_%' ORDER BY name;
-- a version 2 blob survives export and import, and classifies alike
SELECT ecg_model_import('m2_cnn_copy', ecg_model_export('m2_cnn')) > 0 AS imported;

-- the table functions read the rr columns; ecg_classify_beat reads them from the row
SELECT count(*) AS rows,
       count(*) FILTER (WHERE t.predicted = ecg_classify_beat('m2_base', b)) AS same_class,
       count(*) FILTER (WHERE abs((SELECT sum(p) FROM unnest(ecg_predict_proba_beat('m2_base', b)) p) - 1) < 1e-5) AS sums_to_1,
       -- one row and a block go through BLAS differently: equal to rounding
       count(*) FILTER (WHERE (SELECT max(abs(x - y)) FROM unnest(t.probabilities, ecg_predict_proba_beat('m2_base', b)) u(x, y)) < 1e-6) AS same_probs
FROM ecg_classify_table('m2_base', 'm2_beats') t JOIN m2_beats b USING (id);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE a.predicted = c.predicted AND a.probabilities = c.probabilities) AS same
FROM ecg_classify_table('m2_cnn', 'm2_beats') a JOIN ecg_classify_table('m2_cnn_copy', 'm2_beats') c USING (id);
-- the class is the arg-max of the probabilities at the operating point
SELECT count(*) FILTER (WHERE probabilities[predicted + 1] < (SELECT max(p) FROM unnest(probabilities) p)) AS not_argmax
FROM ecg_classify_table('m2_cnn', 'm2_beats');
-- the beat-row functions work for every model: a plain one reads just the signal
SELECT count(*) FILTER (WHERE ecg_classify_beat('m2_plain', b) = ecg_classify('m2_plain', b.signal)) AS same
FROM m2_plain b;
-- a lone beat imputed the documented way: rr_pre from rr_post, the ratios recomputed
SELECT ecg_classify_beat('m2_base', b) = ecg_classify_beat('m2_base', c) AS imputed_like_filled
FROM (SELECT * FROM m2_beats WHERE id = 1) b,
     (SELECT id, record, sample, symbol, label, signal, rr_post AS rr_pre, rr_post, rr_local, rr_record,
             rr_post_local AS rr_pre_local, rr_post_local, rr_post_record AS rr_pre_record, rr_post_record
      FROM m2_beats WHERE id = 1) c;
SELECT class, support FROM ecg_evaluate('m2_cnn', 'm2_beats') WHERE class IN ('N', 'V', 'accuracy');

-- ecg_study takes the rr architectures (its split and oversampled tables carry the columns)
SELECT model, architecture, oversampling, test_rows
FROM ecg_study('m2_beats', 'm2s', epochs => 1, batch_size => 64, seed => 3,
               methods => ARRAY['none', 'random'], archs => ARRAY['baseline_rr', 'cnn_rr'])
ORDER BY model;
SELECT regress_error($$SELECT * FROM ecg_study('m2_plain', 'm2p', epochs => 1, methods => ARRAY['none'], archs => ARRAY['cnn_rr'])$$);

-- errors
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_plain', 'cnn_rr', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn_rr', validation => 'm2_plain', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_holes', 'baseline_rr', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'baseline_rr', epochs => 1, operating_point => 'best')$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'baseline_rr', epochs => 1, operating_point => NULL)$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'baseline_rr', epochs => 1, operating_point => 'validation')$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn', epochs => 1, features => ARRAY['rr_pre'])$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn_rr', epochs => 1, features => ARRAY['rr_pre', 'qrs_width'])$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn_rr', epochs => 1, features => ARRAY['rr_pre', 'rr_pre'])$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn_rr', epochs => 1, features => ARRAY[]::text[])$$);
SELECT regress_error($$SELECT ecg_train('m2_x', 'm2_beats', 'cnn_nope', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_classify_table('m2_base', 'm2_plain')$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate('m2_base', 'm2_holes')$$);
SELECT regress_error($$SELECT ecg_classify('m2_base', signal) FROM m2_beats LIMIT 1$$);
SELECT regress_error($$SELECT ecg_classify_beat('m2_base', b) FROM m2_plain b LIMIT 1$$);
SELECT regress_error($$SELECT ecg_predict_proba_beat('m2_base', b) FROM m2_holes b WHERE id = 3$$);
SELECT regress_error($$SELECT ecg_classify_beat('m2_base', r) FROM (SELECT 1 AS id) r$$);
SELECT regress_error($$SELECT ecg_classify_beat('m2_base', r) FROM (SELECT id, signal::float8[] AS signal FROM m2_beats LIMIT 1) r$$);
SELECT regress_error($$SELECT ecg_classify_beat('m2_base', NULL::m2_beats)$$);
SELECT regress_error($$SELECT ecg_predict_proba_beat('m2_base', NULL)$$);
SELECT regress_error($$SELECT ecg_classify_beat('m2_plain', r) FROM (SELECT signal[1:100] AS signal FROM m2_plain LIMIT 1) r$$);
-- nothing half-written: no model of a failed training
SELECT count(*) AS failed_models FROM ecgdl.models WHERE name = 'm2_x';

SELECT ecg_model_drop(name) FROM ecgdl.models WHERE name LIKE 'm2\_%' OR name LIKE 'm2s\_%' ORDER BY name;
DROP TABLE m2_beats, m2_plain, m2_holes, m2s_train, m2s_test, m2s_train_random;
SELECT relname FROM pg_class WHERE relname LIKE 'm2p\_%' ORDER BY 1;
