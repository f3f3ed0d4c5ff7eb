-- ecg_cross_validate (issue 12): patient-wise folds, a model per fold, the
-- mean and spread of every figure.  Tiny epochs: the figures' values are not
-- the point, their bookkeeping is.
SET client_min_messages = warning;

-- eight records of 30 to 100 synthetic beats of the five classes
CREATE TABLE cv_beats AS
SELECT n::bigint AS id, 'p' || rec AS record, n::bigint AS sample, NULL::text AS symbol,
       c::smallint AS label,
       ARRAY(SELECT (0.2 + 0.6 * exp(-((s - 25 - 30 * c) ^ 2) / 60.0)
                     + 0.15 * sin(s * n * 0.013) + 0.1 * cos(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, rec, CASE WHEN n % 20 < 8 THEN 0 WHEN n % 20 < 12 THEN 1 WHEN n % 20 < 15 THEN 2
                          WHEN n % 20 < 18 THEN 3 ELSE 4 END AS c
      FROM (SELECT n, 1 + (n * 7 % 8) AS rec FROM generate_series(1, 480) n) g
      WHERE n % 8 < 7 OR n % 40 < 10) t;
ALTER TABLE cv_beats ADD PRIMARY KEY (id);
SELECT record, count(*) AS beats FROM cv_beats GROUP BY record ORDER BY record;

-- three folds, the tables and models kept to look at
-- (mean and SD over the folds where the figure is defined: +P of a class a
-- fold's model never predicts is NULL)
SELECT figure, cardinality(per_fold) AS folds,
       (SELECT coalesce(abs(mean - avg(x)) < 1e-12, mean IS NULL AND count(x) = 0)
        FROM unnest(per_fold) x) AS mean_ok,
       (SELECT coalesce(abs(sd - stddev_samp(x)) < 1e-12, sd IS NULL AND count(x) < 2)
        FROM unnest(per_fold) x) AS sd_ok,
       (SELECT coalesce(bool_and(x BETWEEN 0 AND 1), true) FROM unnest(per_fold) x) AS in_unit_range
FROM ecg_cross_validate('cv_beats', 3, 'baseline', 'cvk', epochs => 1, batch_size => 32, keep => true);
-- whole records: every record in exactly one test fold, never on both sides
-- of a fold; validation records apart from training records; folds balanced
-- by beats (the records in a seed-shuffled order, each to the lightest fold)
CREATE VIEW cv_union AS
SELECT 1 AS fold, 'train' AS part, record FROM cvk_fold1_train UNION ALL SELECT 1, 'val', record FROM cvk_fold1_val
UNION ALL SELECT 1, 'test', record FROM cvk_fold1_test UNION ALL SELECT 2, 'train', record FROM cvk_fold2_train
UNION ALL SELECT 2, 'val', record FROM cvk_fold2_val UNION ALL SELECT 2, 'test', record FROM cvk_fold2_test
UNION ALL SELECT 3, 'train', record FROM cvk_fold3_train UNION ALL SELECT 3, 'val', record FROM cvk_fold3_val
UNION ALL SELECT 3, 'test', record FROM cvk_fold3_test;
SELECT f.k,
       (SELECT string_agg(DISTINCT record, ',' ORDER BY record) FROM cv_union WHERE part = 'test' AND fold = f.k) AS test,
       (SELECT string_agg(DISTINCT record, ',' ORDER BY record) FROM cv_union WHERE part = 'val' AND fold = f.k) AS val,
       (SELECT string_agg(DISTINCT record, ',' ORDER BY record) FROM cv_union WHERE part = 'train' AND fold = f.k) AS train,
       (SELECT count(*) FROM cv_union WHERE part = 'test' AND fold = f.k) AS test_beats
FROM generate_series(1, 3) f(k);
SELECT (SELECT count(*) FROM cv_union WHERE part = 'test') = (SELECT count(*) FROM cv_beats) AS every_beat_tested_once,
       (SELECT count(*) FROM (SELECT record FROM cv_union WHERE part = 'test' GROUP BY record HAVING count(DISTINCT fold) > 1) d) AS records_in_two_folds,
       (SELECT count(*) FROM cv_union a JOIN cv_union b ON a.fold = b.fold AND a.record = b.record AND a.part < b.part) AS records_on_two_sides;
SELECT name, architecture, training_table FROM ecgdl.models WHERE name LIKE 'cvk\_%' ORDER BY name;
SELECT model, split_part(test_table, '.', 2) AS test_table, per_record FROM ecgdl.report_ec57 WHERE model LIKE 'cvk\_%' ORDER BY model;
-- the same seed gives the same folds and models, and figures
SELECT count(*) AS same_figures FROM
  ecg_cross_validate('cv_beats', 3, 'baseline', 'cva', epochs => 1, batch_size => 32) a
  JOIN ecg_cross_validate('cv_beats', 3, 'baseline', 'cvb', epochs => 1, batch_size => 32) b USING (figure)
WHERE a.per_fold IS NOT DISTINCT FROM b.per_fold;
-- without keep nothing is left behind
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^cv[ab]_fold';
SELECT count(*) AS models_left FROM ecgdl.models WHERE name ~ '^cv[ab]_fold';

-- bad input: clear errors, nothing made
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 1, 'baseline')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 9, 'baseline')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', NULL, 'baseline')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 3, 'baseline', 'Bad-Prefix')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 3, 'baseline', validation_fraction => 1)$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 3, 'baseline', 'cvk')$$);
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_beats', 3, 'no_such_arch', 'cvx', epochs => 1)$$);
CREATE TABLE cv_norecord AS SELECT id, label, signal FROM cv_beats;
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_norecord', 3, 'baseline')$$);
CREATE TABLE cv_nullrecord AS SELECT id, CASE WHEN id = 5 THEN NULL ELSE record END AS record, label, signal FROM cv_beats;
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_nullrecord', 3, 'baseline')$$);
-- F beats in one record only: the fold that tests it has none to train on
CREATE TABLE cv_onef AS SELECT * FROM cv_beats WHERE label <> 3 OR record = 'p8';
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_onef', 3, 'baseline', 'cvx')$$);
-- two records, two folds: one record to train on leaves none for validation
CREATE TABLE cv_two AS SELECT * FROM cv_beats WHERE record IN ('p1', 'p2');
SELECT regress_error($$SELECT * FROM ecg_cross_validate('cv_two', 2, 'baseline', 'cvx')$$);
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^cvx_';
