-- ecg_train, ecgdl.models, export and import of model blobs.
SET client_min_messages = warning;

-- 600 synthetic beats of 5 classes, each class a bump at its own place plus a
-- row-dependent wobble: learnable, but not in one epoch
CREATE TABLE tr_beats AS
SELECT n::bigint AS id, NULL::text AS record, NULL::bigint AS sample, NULL::text AS symbol,
       c::smallint AS label,
       ARRAY(SELECT (0.2 + 0.6 * exp(-((s - 25 - 30 * c) ^ 2) / 60.0)
                     + 0.1 * sin(s * n * 0.013) + 0.05 * cos(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, CASE WHEN n % 20 < 8 THEN 0 WHEN n % 20 < 12 THEN 1 WHEN n % 20 < 15 THEN 2
                     WHEN n % 20 < 18 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, 600) n) t;
ALTER TABLE tr_beats ADD PRIMARY KEY (id);
SELECT count(*) FROM ecg_split('tr_beats', 'tr_trainval', 'tr_test', 0.2, 1);
SELECT count(*) FROM ecg_split('tr_trainval', 'tr_train', 'tr_val', 0.3, 1);

-- baseline: validation loss falls, accuracy beats the majority-class rate (0.4)
SELECT ecg_train('tr_baseline', 'tr_train', 'baseline', 'tr_val', epochs => 8, batch_size => 32) > 0 AS trained;
SELECT name, architecture, training_table, class_counts, oversampling, epochs_run,
       jsonb_array_length(history) AS history_rows, best_epoch BETWEEN 1 AND 8 AS best_epoch_ok,
       training_seconds > 0 AS timed, owner = current_user::regrole AS owned,
       hyperparameters ->> 'batch_size' AS batch_size, hyperparameters ->> 'validation' AS validation
FROM ecgdl.models WHERE name = 'tr_baseline';
SELECT (history -> 0 ->> 'val_loss')::float8 > (history -> -1 ->> 'val_loss')::float8 AS val_loss_fell,
       (history -> -1 ->> 'val_accuracy')::float8 > 0.4 AS beats_majority_rate,
       (SELECT bool_and(e ? 'loss' AND e ? 'accuracy' AND e ? 'val_loss' AND e ? 'val_accuracy'
                        AND e ? 'lr' AND e ? 'seconds') FROM jsonb_array_elements(history) e) AS history_complete
FROM ecgdl.models WHERE name = 'tr_baseline';

-- cnn, a few epochs
SELECT ecg_train('tr_cnn', 'tr_train', 'cnn', 'tr_val', epochs => 6, batch_size => 32) > 0 AS trained;
SELECT architecture, epochs_run,
       (history -> 0 ->> 'val_loss')::float8 > (history -> -1 ->> 'val_loss')::float8 AS val_loss_fell,
       (history -> -1 ->> 'val_accuracy')::float8 > 0.4 AS beats_majority_rate
FROM ecgdl.models WHERE name = 'tr_cnn';

-- cnn_wide: the same network with 32 filters per conv
SELECT ecg_train('tr_cnn_wide', 'tr_train', 'cnn_wide', 'tr_val', epochs => 6, batch_size => 32) > 0 AS trained;
SELECT architecture, epochs_run,
       (history -> 0 ->> 'loss')::float8 > (history -> -1 ->> 'loss')::float8 AS loss_fell,
       (history -> -1 ->> 'val_accuracy')::float8 > 0.4 AS beats_majority_rate,
       octet_length(weights) > 2 * (SELECT octet_length(weights) FROM ecgdl.models WHERE name = 'tr_cnn') AS larger_blob
FROM ecgdl.models WHERE name = 'tr_cnn_wide';
SELECT count(*) AS rows, bool_and(ecg_classify('tr_cnn_wide', signal) = c.predicted) AS per_row_equals_batch
FROM tr_test t JOIN ecg_classify_table('tr_cnn_wide', 'tr_test') c USING (id);

-- the same seed gives the same model bytes; another seed other bytes
SELECT ecg_train('tr_baseline_again', 'tr_train', 'baseline', 'tr_val', epochs => 8, batch_size => 32) > 0 AS trained;
SELECT ecg_train('tr_baseline_seed7', 'tr_train', 'baseline', 'tr_val', epochs => 8, batch_size => 32, seed => 7) > 0 AS trained;
SELECT (SELECT weights FROM ecgdl.models WHERE name = 'tr_baseline') =
       (SELECT weights FROM ecgdl.models WHERE name = 'tr_baseline_again') AS same_bytes,
       (SELECT weights FROM ecgdl.models WHERE name = 'tr_baseline') =
       (SELECT weights FROM ecgdl.models WHERE name = 'tr_baseline_seed7') AS same_as_other_seed;

-- without a validation table a stratified 30 % is held out (a NOTICE says
-- so, and the model row records it)
SELECT ecg_train('tr_holdout', 'tr_trainval', 'baseline', epochs => 2, batch_size => 64) > 0 AS trained;
SELECT hyperparameters ->> 'validation' AS validation, (hyperparameters ->> 'validation_rows')::int AS validation_rows
FROM ecgdl.models WHERE name = 'tr_holdout';

-- class weights as an alternative to oversampling
SELECT ecg_train('tr_balanced', 'tr_train', 'baseline', 'tr_val', epochs => 2, class_weight => 'balanced') > 0 AS trained;
SELECT ecg_train('tr_weighted', 'tr_train', 'baseline', 'tr_val', epochs => 2, class_weight => 'S=3, F=5') > 0 AS trained;
SELECT name, hyperparameters ->> 'class_weight' FROM ecgdl.models WHERE name IN ('tr_balanced', 'tr_weighted') ORDER BY name;

-- an existing name is an error unless replace => true, which keeps the id
SELECT regress_error($$SELECT ecg_train('tr_baseline', 'tr_train', 'baseline', 'tr_val', epochs => 1)$$);
SELECT id AS old_id FROM ecgdl.models WHERE name = 'tr_holdout' \gset
SELECT ecg_train('tr_holdout', 'tr_train', 'baseline', 'tr_val', epochs => 1, replace => true) = :old_id AS same_id;
SELECT epochs_run, training_table FROM ecgdl.models WHERE name = 'tr_holdout';

-- export and import: the blob moves between servers
SELECT ecg_model_import('tr_copy', ecg_model_export('tr_cnn')) > 0 AS imported;
SELECT m.architecture, m.weights = c.weights AS same_weights, c.hyperparameters ->> 'imported' AS imported
FROM ecgdl.models m, ecgdl.models c WHERE m.name = 'tr_cnn' AND c.name = 'tr_copy';
SELECT substr(ecg_model_export('tr_cnn'), 1, 8) AS magic;

-- a truncated, altered or foreign blob is a clear error
SELECT regress_error($$SELECT ecg_model_import('bad_model', substr(ecg_model_export('tr_cnn'), 1, 100))$$);
-- (the stored and computed checksums depend on the weights: cut before them)
SELECT split_part(regress_error($$SELECT ecg_model_import('bad_model', overlay(ecg_model_export('tr_cnn') placing '\xff'::bytea from 2000 for 1))$$), ': stored', 1);
SELECT regress_error($$SELECT ecg_model_import('bad_model', '\x89504e470d0a1a0a0000000d49484452'::bytea)$$);
SELECT regress_error($$SELECT ecg_model_import('bad_model', ''::bytea)$$);
SELECT regress_error($$SELECT ecg_model_import('bad_model', NULL)$$);
SELECT regress_error($$SELECT ecg_model_export('no_such_model')$$);

-- bad input
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', 'transformer')$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', epochs => 0)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', epochs => 1000000)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', batch_size => 0)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', batch_size => 100000000)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', learning_rate => 0)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', learning_rate => 'NaN')$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', patience => -1)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', class_weight => 'heavy')$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', class_weight => 'S=-1')$$);
SELECT regress_error($$SELECT ecg_train('', 'tr_train')$$);
SELECT regress_error($$SELECT ecg_train(NULL, 'tr_train')$$);
SELECT regress_error($$SELECT ecg_train('bad_model', NULL)$$);
SELECT regress_error($$SELECT ecg_train('bad_model', 'no_such_table')$$);
CREATE TABLE tr_empty (LIKE tr_beats);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_empty')$$);
CREATE TABLE tr_one_class AS SELECT * FROM tr_beats WHERE label = 0;
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_one_class')$$);
CREATE TABLE tr_bad AS SELECT * FROM tr_train;
UPDATE tr_bad SET signal[3] = 'Infinity' WHERE id = (SELECT min(id) FROM tr_bad);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_bad')$$);
UPDATE tr_bad SET signal = signal[1:186] WHERE id = (SELECT min(id) FROM tr_bad);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_bad')$$);
UPDATE tr_bad SET signal = NULL WHERE id = (SELECT min(id) FROM tr_bad);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_bad')$$);
UPDATE tr_bad SET signal = (SELECT signal FROM tr_beats LIMIT 1), label = 9 WHERE id = (SELECT min(id) FROM tr_bad);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_bad')$$);
CREATE TABLE tr_wrong_layout (id bigint, label smallint, signal float8[]);
SELECT regress_error($$SELECT ecg_train('bad_model', 'tr_train', validation => 'tr_wrong_layout')$$);
SELECT count(*) AS models_left_behind FROM ecgdl.models WHERE name = 'bad_model';
