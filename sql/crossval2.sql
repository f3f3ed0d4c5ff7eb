-- ecg_cross_validate with ecg_train's operating_point, features and augment
-- (0.3.0, issue 12): passed to every fold's training, checked before the
-- first fold.  Six patients with R-R columns made from the synthetic WFDB
-- fixtures (test/tools/make_wfdb_fixtures); short trainings.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'fixtures', 'cv2_import') AS beats;
-- each record's N, S and V beats in two halves (alternate beats), one patient
-- each; the R-R columns as the import computed them over the whole record
CREATE TABLE cv2_beats AS
SELECT id, record || CASE WHEN row_number() OVER (PARTITION BY record ORDER BY sample) % 2 = 0
                          THEN 'a' ELSE 'b' END AS record,
       sample, symbol, label, signal, rr_pre, rr_post, rr_local, rr_record,
       rr_pre_local, rr_post_local, rr_pre_record, rr_post_record
FROM cv2_import WHERE label <= 2;
SELECT record, count(*) AS beats, count(*) FILTER (WHERE label = 1) AS s_beats,
       count(*) FILTER (WHERE label = 2) AS v_beats
FROM cv2_beats GROUP BY record ORDER BY record;

-- R-R features and the operating point tuned on validation data: each fold's
-- model is tuned on its own validation records (drawn from its training
-- records, never the fold it is tested on) and takes the features asked for
SELECT figure, cardinality(per_fold) AS folds,
       (SELECT coalesce(abs(mean - avg(x)) < 1e-12, mean IS NULL AND count(x) = 0)
        FROM unnest(per_fold) x) AS mean_ok,
       (SELECT coalesce(bool_and(x BETWEEN 0 AND 1), true) FROM unnest(per_fold) x) AS in_unit_range
FROM ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvf', epochs => 20, batch_size => 16,
                        learning_rate => 0.01, class_weight => 'balanced', keep => true,
                        operating_point => 'validation',
                        features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre'])
WHERE figure IN ('accuracy', 'macro_f1', 'se_S', 'se_V');
SELECT o.model, o.architecture, o.operating_point, o.features,
       split_part(o.validation, '.', 2) AS validation,
       m.training_table
FROM ecgdl.operating_points o JOIN ecgdl.models m ON m.name = o.model
WHERE o.model LIKE 'cvf\_%' ORDER BY o.model;
SELECT f.k,
       (SELECT string_agg(DISTINCT record, ',' ORDER BY record)
        FROM (SELECT record FROM cvf_fold1_val WHERE f.k = 1 UNION ALL SELECT record FROM cvf_fold2_val WHERE f.k = 2
              UNION ALL SELECT record FROM cvf_fold3_val WHERE f.k = 3) v) AS val,
       (SELECT string_agg(DISTINCT record, ',' ORDER BY record)
        FROM (SELECT record FROM cvf_fold1_test WHERE f.k = 1 UNION ALL SELECT record FROM cvf_fold2_test WHERE f.k = 2
              UNION ALL SELECT record FROM cvf_fold3_test WHERE f.k = 3) t) AS test
FROM generate_series(1, 3) f(k);
-- the same call twice: the same figures
SELECT count(*) AS same_figures FROM
  ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cva', epochs => 20, batch_size => 16, learning_rate => 0.01,
                     class_weight => 'balanced', operating_point => 'validation',
                     features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre']) a
  JOIN ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvb', epochs => 20, batch_size => 16, learning_rate => 0.01,
                          class_weight => 'balanced', operating_point => 'validation',
                          features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre']) b USING (figure)
WHERE a.per_fold IS NOT DISTINCT FROM b.per_fold;

-- augmentation: 'lead' trains on transformed beats, so the same seed gives
-- other figures than 'none'; 'none' spelled out is the call without it
-- (0.2.0's positional arguments keep their meaning)
CREATE TABLE cv2_runs AS
SELECT 'lead' AS run, figure, per_fold
FROM ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvl', epochs => 20, batch_size => 16, learning_rate => 0.01,
                        class_weight => 'balanced', augment => 'lead', keep => true)
UNION ALL
SELECT 'none', figure, per_fold
FROM ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvn', epochs => 20, batch_size => 16, learning_rate => 0.01,
                        class_weight => 'balanced', operating_point => 'argmax', features => NULL, augment => 'none')
UNION ALL
SELECT 'positional', figure, per_fold
FROM ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvp', 20, 16, 0.01, 15, 42, 'balanced', 0.2, false);
SELECT (SELECT count(*) FROM cv2_runs a JOIN cv2_runs b USING (figure)
        WHERE a.run = 'lead' AND b.run = 'none' AND a.per_fold IS DISTINCT FROM b.per_fold) AS figures_lead_changes,
       (SELECT count(*) FROM cv2_runs a JOIN cv2_runs b USING (figure)
        WHERE a.run = 'none' AND b.run = 'positional' AND a.per_fold IS NOT DISTINCT FROM b.per_fold) AS figures_none_as_positional;
SELECT name, hyperparameters ->> 'augment' AS augment FROM ecgdl.models WHERE name LIKE 'cvl\_%' ORDER BY name;
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^cv[abnp]_fold';
SELECT count(*) AS models_left FROM ecgdl.models WHERE name ~ '^cv[abnp]_fold';

-- bad input: ecg_train's errors, raised before the first fold (a fold that
-- started would say so in a NOTICE)
SET client_min_messages = notice;
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, operating_point => 'best')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, augment => 'sideways')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, augment => 'lead, noise=7')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, augment => NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, operating_point => NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, features => ARRAY['rr_pre'])$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline_rr', 'cvx', epochs => 1, features => ARRAY['rr_next'])$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_beats', 3, 'baseline', 'cvx', epochs => 1, learning_rate => 0)$$);
-- a CSV import has no R-R columns (its record column, NULL, given the
-- records' names to make folds of)
CREATE TABLE cv2_staging (line_no bigint GENERATED ALWAYS AS IDENTITY, line text);
INSERT INTO cv2_staging (line) SELECT array_to_string(signal, ',') || ',' || label FROM cv2_beats ORDER BY id;
SELECT ecg_import_csv_staged('cv2_staging', 'cv2_csv') AS beats;
SELECT count(*) AS rr_columns FROM pg_attribute WHERE attrelid = 'cv2_csv'::regclass AND attname LIKE 'rr\_%';
UPDATE cv2_csv c SET record = b.record
FROM (SELECT record, row_number() OVER (ORDER BY id) AS n FROM cv2_beats) b, cv2_staging s
WHERE s.line_no = b.n AND c.id = s.line_no;
SELECT count(*) FILTER (WHERE record IS NULL) AS without_record, count(DISTINCT record) AS records FROM cv2_csv;
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_csv', 3, 'baseline_rr', 'cvx', epochs => 1)$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv2_csv', 3, 'cnn_rr', 'cvx', epochs => 1, operating_point => 'validation', features => ARRAY['rr_pre_local'])$$);
SET client_min_messages = warning;
-- the same table cross-validates models without R-R features
SELECT count(*) AS figures FROM ecg_cross_validate('cv2_csv', 3, 'baseline', 'cvy', epochs => 1, batch_size => 32, augment => 'lead');
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^cv[xy]_';
SELECT count(*) AS models_left FROM ecgdl.models WHERE name ~ '^cv[xy]_';
