-- Training augmentation (issue 12, cross-database): ecg_train(augment => ...)
-- transforms every training minibatch's beats at random - polarity inversion,
-- amplitude relative to the window, baseline wander, noise, a shifted fiducial
-- point (src/core/nn_augment.h) - with randomness from (seed, epoch, position)
-- only.  'none' (the default) trains exactly as before.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'fixtures', 'ag_beats', ARRAY['syn1', 'syn16']) AS beats;

-- off: no augment argument and augment => 'none' give the same model, byte for byte
SELECT ecg_train('ag_default', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 7) > 0 AS trained;
SELECT ecg_train('ag_none', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 7,
                 augment => 'none') > 0 AS trained;
-- on: the preset 'lead', twice with the same seed, and once with another
SELECT ecg_train('ag_lead', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 7,
                 augment => 'lead') > 0 AS trained;
SELECT ecg_train('ag_lead2', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 7,
                 augment => 'lead') > 0 AS trained;
SELECT ecg_train('ag_lead_s8', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 8,
                 augment => 'lead') > 0 AS trained;
-- a list: later items override earlier ones; cnn_rr with features
SELECT ecg_train('ag_list', 'ag_beats', 'cnn_rr', epochs => 1, batch_size => 64, seed => 7,
                 features => ARRAY['rr_pre_local', 'rr_post_local'],
                 augment => 'lead, Noise = 0.05, shift=0') > 0 AS trained;
SELECT ecg_train('ag_polarity', 'ag_beats', 'baseline', epochs => 2, batch_size => 32, seed => 7,
                 augment => 'polarity=1') > 0 AS trained;

SELECT a.name, b.name AS other, a.weights = b.weights AS same_bytes
FROM ecgdl.models a JOIN ecgdl.models b ON (a.name, b.name) IN
    (('ag_default', 'ag_none'), ('ag_lead', 'ag_lead2'), ('ag_lead', 'ag_default'),
     ('ag_lead', 'ag_lead_s8'), ('ag_polarity', 'ag_default'))
ORDER BY a.name, b.name;
-- the hyperparameters (and the blob's metadata) name the augmentation only when it is on
SELECT name, hyperparameters ->> 'augment' AS augment FROM ecgdl.models
WHERE name LIKE 'ag\_%' ORDER BY name;
SELECT name, get_byte(ecg_model_export(name), 8) AS version,
       position('"augment"'::bytea IN ecg_model_export(name)) > 0 AS metadata_names_it
FROM ecgdl.models WHERE name IN ('ag_none', 'ag_lead') ORDER BY name;
-- augmented models classify like any other
SELECT count(*) AS rows, count(*) FILTER (WHERE predicted BETWEEN 0 AND 4) AS classified
FROM ecg_classify_table('ag_lead', 'ag_beats');
SELECT count(*) > 0 AS evaluated FROM ecg_evaluate_ec57('ag_list', 'ag_beats', by_record => false);

-- bad input: nothing is trained, every error says what and why
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => NULL)$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => '')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'lead,')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'lead,,noise=0.1')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'leads')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'colour=1')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'noise')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'noise=')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'noise=abc')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'wander=nan')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'noise=0.6')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'polarity=1.5')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'amplitude=0.95')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'wander=-0.1')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'shift=2.5')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'shift=21')$$);
SELECT regress_error($$SELECT ecg_train('ag_x', 'ag_beats', 'baseline', augment => 'noise=0.000000000000000000000000000000000000000000000000000000000000001')$$);
SELECT count(*) AS stored FROM ecgdl.models WHERE name = 'ag_x';

-- one ecg_train in the catalog: 0.2.0's signature was replaced (the C function
-- still serves the 0.1.0 and 0.2.0 definitions: test/integration/upgrade.sh)
SELECT count(*) AS ecg_train_overloads FROM pg_proc WHERE proname = 'ecg_train';
SELECT pg_get_function_identity_arguments('ecg_train'::regproc) LIKE '%augment text' AS has_augment;

DROP TABLE ag_beats;
SELECT count(*) AS dropped FROM (SELECT ecg_model_drop(name) FROM ecgdl.models WHERE name LIKE 'ag\_%') d;
