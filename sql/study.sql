-- ecg_study: the whole study in one call, on the small beat table of the
-- train test (baseline and cnn, no oversampling, random and SMOTE).
SET client_min_messages = warning;
SELECT model, architecture, oversampling, training_table, test_table, test_rows,
       accuracy BETWEEN 0 AND 1 AS accuracy_ok, epochs
FROM ecg_study('tr_beats', 'mini', epochs => 2, batch_size => 64, seed => 3,
               methods => ARRAY['none', 'random', 'smote']);
SELECT relname FROM pg_class WHERE relname LIKE 'mini\_%' AND relkind = 'r' ORDER BY 1;
-- the same seed gives the same numbers (replace => true redoes everything)
CREATE TABLE mini_first AS SELECT model, accuracy, macro_f1 FROM ecgdl.report WHERE model LIKE 'mini\_%';
SELECT count(*) FROM ecg_study('tr_beats', 'mini', epochs => 2, batch_size => 64, seed => 3,
                               methods => ARRAY['none', 'random', 'smote'], replace => true);
SELECT count(*) AS same_figures FROM mini_first f JOIN ecgdl.report r USING (model)
WHERE r.accuracy = f.accuracy AND r.macro_f1 = f.macro_f1;
-- one method per call on a kept split: the split tables are the same tables
-- (not made again), the method's own table and models are replaced
SELECT 'mini_test'::regclass::oid AS test_oid, 'mini_train_random'::regclass::oid AS random_oid \gset
SELECT model FROM ecg_study('tr_beats', 'mini', epochs => 1, batch_size => 64, seed => 3,
                            methods => ARRAY['random'], archs => ARRAY['baseline'],
                            replace => true, reuse_split => true);
SELECT 'mini_test'::regclass::oid = :test_oid AS same_test_table,
       'mini_train_random'::regclass::oid <> :random_oid AS new_random_table;
-- without replace, a kept split also keeps the method's table: adding an
-- architecture to a finished study trains on the very same rows
SELECT 'mini_train_random'::regclass::oid AS random_oid \gset
DELETE FROM ecgdl.models WHERE name = 'mini_cnn_random';
SELECT model FROM ecg_study('tr_beats', 'mini', epochs => 1, batch_size => 64, seed => 3,
                            methods => ARRAY['random'], archs => ARRAY['cnn'], reuse_split => true);
SELECT 'mini_train_random'::regclass::oid = :random_oid AS same_random_table,
       (SELECT training_table FROM ecgdl.models WHERE name = 'mini_cnn_random') AS cnn_trained_on;
-- and a model of that name is still an error without replace
SELECT regress_error($$SELECT * FROM ecg_study('tr_beats', 'mini', epochs => 1, batch_size => 64, seed => 3,
                     methods => ARRAY['random'], archs => ARRAY['cnn'], reuse_split => true)$$);
-- bad input
SELECT regress_error($$SELECT * FROM ecg_study('tr_beats', 'Mini Study')$$);
SELECT regress_error($$SELECT * FROM ecg_study('tr_beats', 'mini2', methods => ARRAY['mixup'])$$);
SELECT regress_error($$SELECT * FROM ecg_study('tr_beats', 'mini2', split => 'kfold')$$);
SELECT regress_error($$SELECT * FROM ecg_study(NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_study('tr_beats', 'mini')$$);
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname LIKE 'mini2%';
