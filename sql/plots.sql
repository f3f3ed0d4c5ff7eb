-- Charts as SVG text: ecg_plot_beat, ecg_plot_confusion, ecg_plot_history.
-- Each document is checked as XML (xml_is_well_formed_document, xpath
-- counts of its parts), for the same bytes on a second call, and each bad
-- input for its SQLSTATE.  Uses the models and tables of train / classify.

-- a beat of the test table, and a made-up one with a second trace and shading
CREATE TABLE pl_beat AS
SELECT signal,
       (SELECT array_agg(v * 0.5::real ORDER BY i) FROM unnest(signal) WITH ORDINALITY u(v, i)) AS half,
       (SELECT array_agg(CASE WHEN i BETWEEN 20 AND 29 THEN (i - 25)::real ELSE 0::real END ORDER BY i)
        FROM generate_series(1, 187) i) AS shade
FROM tr_test ORDER BY id LIMIT 1;

CREATE FUNCTION pl_count(svg text, path text) RETURNS int
LANGUAGE sql AS $$
SELECT (xpath('count(' || path || ')', svg::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text::int
$$;

SELECT xml_is_well_formed_document(s) AS well_formed,
       pl_count(s, '/s:svg') AS svg_root,
       (xpath('/s:svg/@width', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS width,
       pl_count(s, '//s:g[@class="paper"]/s:line') AS grid_lines,
       pl_count(s, '//s:g[@class="signal"]/s:polyline') AS signal_pieces,
       pl_count(s, '//s:g[@class="second"]') AS second,
       pl_count(s, '//s:g[@class="shading"]') AS shading,
       s = ecg_plot_beat(signal) AS same_again
FROM (SELECT signal, ecg_plot_beat(signal) AS s FROM pl_beat) t;

-- everything: second trace, shading (9 samples not 0), a title to escape
SELECT xml_is_well_formed_document(s) AS well_formed,
       pl_count(s, '//s:g[@class="second"]/s:polyline') AS second_pieces,
       pl_count(s, '//s:g[@class="shading"]/s:rect') AS shaded_samples,
       (xpath('/s:svg/s:title/text()', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS title,
       s = ecg_plot_beat(signal, half, shade, 125, 'beat <1> & "2"') AS same_again
FROM (SELECT signal, half, shade, ecg_plot_beat(signal, half, shade, 125, 'beat <1> & "2"') AS s FROM pl_beat) t;

-- 360 Hz: the same samples on narrower paper
SELECT (xpath('/s:svg/@width', ecg_plot_beat(signal, fs => 360)::xml,
              ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS width_360hz
FROM pl_beat;

-- bad input
SELECT regress_error($$SELECT ecg_plot_beat(NULL)$$);
SELECT regress_error($$SELECT ecg_plot_beat('{}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{{1,2},{3,4}}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,NaN,3}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,Infinity}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,NULL,3}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], second => '{1,2}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], shading => '{1,2,3,4}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], shading => '{1,-Infinity,3}'::real[])$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], fs => 0)$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], fs => -125)$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], fs => 'NaN')$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], fs => NULL)$$);
SELECT regress_error($$SELECT ecg_plot_beat('{1,2,3}'::real[], fs => 0.001)$$);
SELECT regress_error($$SELECT ecg_plot_beat('{0,1000}'::real[])$$);

-- the confusion matrix of the latest evaluation of tr_baseline on tr_test:
-- 25 cells, the counts add up to the evaluation's rows
SELECT ecg_evaluate('tr_baseline', 'tr_test') IS NOT NULL AS evaluated LIMIT 1;
SELECT xml_is_well_formed_document(s) AS well_formed,
       pl_count(s, '//s:g[@class="cells"]/s:rect') AS cells,
       (SELECT sum(t::text::int) FROM unnest(xpath('//s:g[@class="cells"]/s:text[@font-size="13"]/text()', s::xml,
                                                   ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])) t)
         = (SELECT rows FROM ecgdl.evaluations WHERE model_name = 'tr_baseline' AND test_table = 'public.tr_test'
            ORDER BY id DESC LIMIT 1) AS counts_add_up,
       s = ecg_plot_confusion('tr_baseline', 'tr_test') AS same_again
FROM (SELECT ecg_plot_confusion('tr_baseline', 'tr_test') AS s) t;

SELECT regress_error($$SELECT ecg_plot_confusion(NULL, 'tr_test')$$);
SELECT regress_error($$SELECT ecg_plot_confusion('tr_baseline', NULL)$$);
SELECT regress_error($$SELECT ecg_plot_confusion('no_such_model', 'tr_test')$$);
SELECT regress_error($$SELECT ecg_plot_confusion('tr_baseline', 'pl_beat')$$);
-- stored matrices that are not 5 x 5 or hold a negative count
INSERT INTO ecgdl.evaluations (model_id, model_name, test_table, rows, accuracy, macro_f1, per_class, confusion)
SELECT id, name, 'public.pl_beat', 10, 0.5, 0.5, '{}', '{{1,2},{3,4}}' FROM ecgdl.models WHERE name = 'tr_baseline';
SELECT regress_error($$SELECT ecg_plot_confusion('tr_baseline', 'pl_beat')$$);
UPDATE ecgdl.evaluations SET confusion = array_fill(1::bigint, ARRAY[5, 5]) WHERE test_table = 'public.pl_beat';
UPDATE ecgdl.evaluations SET confusion[2][3] = -1 WHERE test_table = 'public.pl_beat';
SELECT regress_error($$SELECT ecg_plot_confusion('tr_baseline', 'pl_beat')$$);
DELETE FROM ecgdl.evaluations WHERE test_table = 'public.pl_beat';

-- a trained model's history: two panels, training and validation traces
SELECT xml_is_well_formed_document(s) AS well_formed,
       pl_count(s, '//s:g[@class="panel"]') AS panels,
       pl_count(s, '//s:g[@class="training"]/s:polyline') AS training_traces,
       pl_count(s, '//s:g[@class="validation"]/s:polyline') AS validation_traces,
       strpos(s, '>best ' || (SELECT best_epoch FROM ecgdl.models WHERE name = 'tr_baseline') || '<') > 0 AS best_marked,
       s = ecg_plot_history('tr_baseline') AS same_again
FROM (SELECT ecg_plot_history('tr_baseline') AS s) t;

-- a history written by hand: the learning rate lowered after epochs 3 and 5,
-- no validation figures in epoch 4, best epoch 5
INSERT INTO ecgdl.models (name, architecture, history, best_epoch, epochs_run, weights)
SELECT 'pl_hand', architecture,
       '[{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.45, "lr": 0.001},
         {"epoch": 2, "loss": 0.8, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.55, "lr": 0.001},
         {"epoch": 3, "loss": 0.6, "accuracy": 0.7, "val_loss": 0.8, "val_accuracy": 0.6, "lr": 0.001},
         {"epoch": 4, "loss": 0.5, "accuracy": 0.75, "val_loss": null, "val_accuracy": null, "lr": 0.0005},
         {"epoch": 5, "loss": 0.45, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7, "lr": 0.0005},
         {"epoch": 6, "loss": 0.4, "accuracy": 0.82, "val_loss": 0.75, "val_accuracy": 0.68, "lr": 0.00025}]',
       5, 6, weights
FROM ecgdl.models WHERE name = 'tr_baseline';
SELECT xml_is_well_formed_document(s) AS well_formed,
       pl_count(s, '//s:g[@class="panel"]/s:text[.="lr drop"]') AS lr_drops,
       pl_count(s, '//s:g[@class="panel"]/s:text[.="best 5"]') AS best_marks,
       pl_count(s, '//s:g[@class="training"]/s:polyline') AS training_traces,
       pl_count(s, '//s:g[@class="validation"]/s:polyline') AS validation_traces
FROM (SELECT ecg_plot_history('pl_hand') AS s) t;

-- an imported model has no history
SELECT ecg_model_import('pl_imported', ecg_model_export('tr_baseline')) > 0 AS imported;
SELECT regress_error($$SELECT ecg_plot_history('pl_imported')$$);
SELECT regress_error($$SELECT ecg_plot_history('no_such_model')$$);
SELECT regress_error($$SELECT ecg_plot_history(NULL)$$);
UPDATE ecgdl.models SET history = '[{"epoch": 2, "loss": 1}, {"epoch": 1, "loss": 2}]' WHERE name = 'pl_hand';
SELECT regress_error($$SELECT ecg_plot_history('pl_hand')$$);

DELETE FROM ecgdl.models WHERE name IN ('pl_hand', 'pl_imported');
DROP FUNCTION pl_count(text, text);
DROP TABLE pl_beat;
