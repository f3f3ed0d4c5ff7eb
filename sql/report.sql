-- The report: ecg_plot_study (a study's per-class figures as grouped bars,
-- the published figures beside), ecg_plot_recording (a strip of a signal
-- table with its beats and their classes) and ecg_report_html (the whole
-- study as one XHTML document).  Each document is checked as XML, for xpath
-- counts of its parts and for the same bytes on a second call; each bad input
-- for its SQLSTATE.  Uses the study "mini" (study), the signal table sg_sig
-- and the annotation tables sg_det and sg_ref (signals).
SET client_min_messages = warning;

CREATE FUNCTION rp_count(doc text, path text) RETURNS int
LANGUAGE sql AS $$
SELECT (xpath('count(' || path || ')', doc::xml,
              ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg'], ARRAY['h', 'http://www.w3.org/1999/xhtml']]))[1]::text::int
$$;
CREATE FUNCTION rp_texts(doc text, path text) RETURNS text
LANGUAGE sql AS $$
SELECT string_agg(t::text, '' ORDER BY o)
FROM unnest(xpath(path, doc::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']])) WITH ORDINALITY u(t, o)
$$;

-- the published figures the charts put beside ecgdl's
SELECT architecture, oversampling, accuracy, macro_f1, f1_n, f1_s, f1_v, f1_f, f1_q, epochs
FROM ecgdl.published_results ORDER BY architecture, oversampling;

-- 1. ecg_plot_study ------------------------------------------------------------
-- the study's configurations, and how many of their figures exist
SELECT model, architecture, oversampling FROM ecgdl.report
WHERE model LIKE 'mini\_%' AND test_table = 'public.mini_test' ORDER BY 1;
-- a bar per F1 that is not NULL, a pale bar per published F1 of the same
-- configuration (random and SMOTE: 4 configurations x 5 classes), a label
-- per configuration
SELECT xml_is_well_formed_document(s) AS well_formed,
       rp_count(s, '/s:svg') AS svg_root,
       rp_count(s, '//s:g[@class="bars"]/s:rect') =
         (SELECT count(f1_n) + count(f1_s) + count(f1_v) + count(f1_f) + count(f1_q) FROM ecgdl.report
          WHERE model LIKE 'mini\_%' AND test_table = 'public.mini_test') AS a_bar_per_figure,
       rp_count(s, '//s:g[@class="reference"]/s:rect') AS published_bars,
       rp_texts(s, '//s:g[@class="groups"]/s:text/text()') AS group_labels,
       s = ecg_plot_study('mini') AS same_again
FROM (SELECT ecg_plot_study('mini') AS s) t;
-- Se and +P: no published figures; published => false leaves them out of F1 too
SELECT m AS metric, xml_is_well_formed_document(s) AS well_formed,
       rp_count(s, '//s:g[@class="reference"]/s:rect') AS published_bars,
       (xpath('/s:svg/s:title/text()', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS title
FROM unnest(ARRAY['recall', 'precision']) m, LATERAL (SELECT ecg_plot_study('mini', m) AS s) t;
SELECT rp_count(ecg_plot_study('mini', published => false), '//s:g[@class="reference"]/s:rect') AS published_bars;
-- a bar's height is its F1: the bars of mini_baseline_none from the report's figures
SELECT rp_texts(ecg_plot_study('mini'), '(//s:g[@class="bars"]/s:rect)[position() <= 5]/@height') =
       (SELECT string_agg(CASE WHEN v IS NULL THEN '' ELSE trim(to_char(round(v * 260, 2), 'FM9990.99'), '.') END, '' ORDER BY o)
        FROM ecgdl.report, unnest(ARRAY[f1_n, f1_s, f1_v, f1_f, f1_q]) WITH ORDINALITY u(v, o)
        WHERE model = 'mini_baseline_none' AND test_table = 'public.mini_test') AS heights_are_f1;

-- bad input: NULLs, a prefix ecg_study would refuse, an unknown metric, a
-- prefix without models (42704), models without an evaluation on the
-- study's test table (55000)
SELECT regress_error($$SELECT ecg_plot_study(NULL)$$);
SELECT regress_error($$SELECT ecg_plot_study('mini', NULL)$$);
SELECT regress_error($$SELECT ecg_plot_study('mini', published => NULL)$$);
SELECT regress_error($$SELECT ecg_plot_study('Mini Study')$$);
SELECT regress_error($$SELECT ecg_plot_study('')$$);
SELECT regress_error($$SELECT ecg_plot_study('1mini')$$);
SELECT regress_error($$SELECT ecg_plot_study('mini', 'auc')$$);
SELECT regress_error($$SELECT ecg_plot_study('nosuchstudy')$$);
SELECT ecg_model_import('rpq_cnn_none', ecg_model_export('mini_cnn_none')) > 0 AS imported;
SELECT regress_error($$SELECT ecg_plot_study('rpq')$$);
-- evaluated, but not on rpq_test: still no evaluation of the study
SELECT count(*) FROM ecg_evaluate('rpq_cnn_none', 'mini_test');
SELECT regress_error($$SELECT ecg_plot_study('rpq')$$);

-- 2. ecg_plot_recording --------------------------------------------------------
-- beats cut from sg_sig at the reference positions (labelled N), for a model
SELECT ecg_beats_from_signals('sg_sig', 'sg_ref', 'rp_cut') AS cut;
-- record a (360 Hz, R peaks at 90 + 288 k): the first 10 s hold 13 beats;
-- sg_ref's '+' rows are not beats and are left out
SELECT xml_is_well_formed_document(s) AS well_formed,
       (xpath('/s:svg/@width', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS width,
       rp_count(s, '//s:g[@class="paper"]') AS paper,
       rp_count(s, '//s:g[@class="signal"]/s:polyline') AS trace_pieces,
       rp_texts(s, '//s:g[@class="beats"]/s:text/text()') AS letters,
       rp_texts(s, '//s:g[@class="seconds"]/s:text/text()') AS seconds,
       (xpath('/s:svg/s:title/text()', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS title,
       s = ecg_plot_recording('sg_sig', 'a', beats => 'sg_ref') AS same_again
FROM (SELECT ecg_plot_recording('sg_sig', 'a', beats => 'sg_ref') AS s) t;
-- detected beats have no class ("?"); a model classifies the beat rows
SELECT rp_texts(ecg_plot_recording('sg_sig', 'a', beats => 'sg_det'), '//s:g[@class="beats"]/s:text/text()') AS detected,
       rp_count(ecg_plot_recording('sg_sig', 'a', beats => 'rp_cut', model => 'mini_cnn_none'),
                '//s:g[@class="beats"]/s:text[contains("NSVFQ", text())]') AS classified_by_model,
       rp_count(ecg_plot_recording('sg_sig', 'a'), '//s:g[@class="beats"]/s:text') AS no_beat_table;
-- the model's letters are its classes of the same rows
SELECT rp_texts(ecg_plot_recording('sg_sig', 'a', beats => 'rp_cut', model => 'mini_cnn_none'),
                '//s:g[@class="beats"]/s:text/text()') =
       (SELECT string_agg((ARRAY['N', 'S', 'V', 'F', 'Q'])[ecg_classify_beat('mini_cnn_none', b) + 1], '' ORDER BY sample)
        FROM rp_cut b WHERE record = 'a' AND sample < 3600) AS letters_are_classes;
-- another lead, another record and rate, a window past the end (drawn to it),
-- a window inside: 2.5 s from 20 s
SELECT l AS lead, r AS record, st AS start_s, sec AS seconds,
       (xpath('/s:svg/s:title/text()', s::xml, ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text AS title,
       rp_count(s, '//s:g[@class="beats"]/s:text') AS beats
FROM (VALUES ('V1', 'a', 0, 3), ('II', 'b', 0, 10), ('MLII', 'a', 55, 10), ('MLII', 'a', 20, 2.5)) v(l, r, st, sec),
     LATERAL (SELECT ecg_plot_recording('sg_sig', r, l, st, sec, 'sg_det') AS s) t;

-- bad input
SELECT regress_error($$SELECT ecg_plot_recording(NULL, 'a')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', NULL)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', NULL)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', start_s => NULL)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => NULL)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'zz')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', 'V5')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', start_s => -1)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', start_s => 'NaN')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', start_s => 'Infinity')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => 0)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => -5)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => 'NaN')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => 61)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', seconds => 0.001)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', start_s => 60)$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', model => 'mini_cnn_none')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', beats => 'rp_cut', model => 'no_such_model')$$);
SELECT regress_error($$SELECT ecg_plot_recording('pg_class', 'a')$$);
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'a', beats => 'sg_sig')$$);
-- beats at another rate than the signal's
CREATE TABLE rp_wrong_fs AS SELECT record, sample, 360::float8 AS fs FROM sg_det WHERE record = 'b';
SELECT regress_error($$SELECT ecg_plot_recording('sg_sig', 'b', 'II', beats => 'rp_wrong_fs')$$);
-- 35 s at 2 kHz: more samples than a strip takes
CREATE TABLE rp_fast AS SELECT 'f'::text AS record, 'MLII'::text AS lead, 2000::float8 AS fs, 0::bigint AS start_sample,
                               array_fill(0::real, ARRAY[80000]) AS samples;
SELECT regress_error($$SELECT ecg_plot_recording('rp_fast', 'f', seconds => 35)$$);
SELECT rp_count(ecg_plot_recording('rp_fast', 'f', seconds => 30), '//s:g[@class="signal"]') AS thirty_s_at_2khz;
-- samples that cannot be millivolts (raw ADC units): paper 10 m high
CREATE TABLE rp_adc AS SELECT 'r'::text AS record, 'MLII'::text AS lead, 360::float8 AS fs, 0::bigint AS start_sample,
                              '{0,1024,512,0}'::real[] AS samples;
SELECT regress_error($$SELECT ecg_plot_recording('rp_adc', 'r')$$);
-- a NaN sample, and an empty signal table
CREATE TABLE rp_nan AS SELECT 'n'::text AS record, 'MLII'::text AS lead, 360::float8 AS fs, 0::bigint AS start_sample,
                              '{0.1,0.2,NaN,0.3}'::real[] AS samples;
SELECT regress_error($$SELECT ecg_plot_recording('rp_nan', 'n')$$);
CREATE TABLE rp_empty (LIKE rp_nan);
SELECT regress_error($$SELECT ecg_plot_recording('rp_empty', 'n')$$);

-- 3. ecg_report_html -----------------------------------------------------------
-- ecg_explain (another part of the extension) may not be installed: a
-- stand-in of its signature lets the report's explanations be drawn either way
DO $$
BEGIN
    IF to_regprocedure('ecg_explain(text, real[])') IS NULL THEN
        CREATE FUNCTION public.ecg_explain(model text, signal real[]) RETURNS real[]
        LANGUAGE sql AS 'SELECT array_agg(v - 0.5::real ORDER BY o) FROM unnest(signal) WITH ORDINALITY u(v, o)';
        CREATE TABLE rp_stand_in ();
    END IF;
END $$;
-- the whole report of mini: a table row per model, the study's three bar
-- charts, a confusion matrix and a history per model, the strip, the first
-- beat of each class the model finds among record a's beats, an explanation
-- of each; the same bytes again in the same statement (the date is the
-- transaction's)
SELECT xml_is_well_formed_document(h) AS well_formed,
       rp_count(h, '/h:html/h:body//h:table/h:tr') AS table_rows,
       rp_count(h, '//h:figure/s:svg') AS charts,
       rp_count(h, '//h:figure[@class="chart" or @class="half"]') AS study_charts,
       rp_count(h, '//h:figure[@class="confusion"]') AS confusion_matrices,
       rp_count(h, '//h:figure[@class="history"]') AS histories,
       rp_count(h, '//h:figure[@class="strip"]') AS strips,
       rp_count(h, '//h:figure[@class="beat"]') = 2 * (SELECT count(DISTINCT ecg_classify_beat('mini_cnn_none', b))
                                                      FROM rp_cut b WHERE record = 'a') AS a_beat_and_its_explanation_per_class,
       rp_count(h, '//h:figcaption') = rp_count(h, '//h:figure') AS every_figure_captioned,
       (xpath('/h:html/h:head/h:title/text()', h::xml, ARRAY[ARRAY['h', 'http://www.w3.org/1999/xhtml']]))[1]::text AS title,
       h = ecg_report_html('mini', 'sg_sig', 'a', 'rp_cut', 'mini_cnn_none') AS same_again
FROM (SELECT ecg_report_html('mini', 'sg_sig', 'a', 'rp_cut', 'mini_cnn_none') AS h) t;
-- without a signal table, and with signals => false: no chart of a
-- recording's samples; the title escaped (xpath shows a text node escaped again)
SELECT s AS signals, xml_is_well_formed_document(h) AS well_formed,
       rp_count(h, '//h:figure/s:svg') AS charts,
       rp_count(h, '//h:figure[@class="strip" or @class="beat"]') AS signal_charts,
       rp_count(h, '//h:section[@id="recording"]') AS recording_section,
       (xpath('/h:html/h:body/h:header/h:h1/text()', h::xml, ARRAY[ARRAY['h', 'http://www.w3.org/1999/xhtml']]))[1]::text AS heading
FROM unnest(ARRAY[true, false]) s,
     LATERAL (SELECT ecg_report_html('mini', CASE WHEN s THEN NULL ELSE 'sg_sig' END, signals => s,
                                     title => 'mini <study> & "report"') AS h) t;
-- labels instead of a model: sg_ref's beats, all N, are not a beat table
-- (no signal column): the strip only
SELECT rp_count(h, '//h:figure[@class="strip"]') AS strips, rp_count(h, '//h:figure[@class="beat"]') AS beats
FROM (SELECT ecg_report_html('mini', 'sg_sig', 'b', 'sg_ref', lead => 'II') AS h) t;
-- bad input
SELECT regress_error($$SELECT ecg_report_html(NULL)$$);
SELECT regress_error($$SELECT ecg_report_html('mini', signals => NULL)$$);
SELECT regress_error($$SELECT ecg_report_html('mini', record => 'a')$$);
SELECT regress_error($$SELECT ecg_report_html('mini', beats => 'rp_cut')$$);
SELECT regress_error($$SELECT ecg_report_html('nosuchstudy')$$);
SELECT regress_error($$SELECT ecg_report_html('Mini')$$);
SELECT regress_error($$SELECT ecg_report_html('mini', 'sg_sig', 'zz')$$);
SELECT regress_error($$SELECT ecg_report_html('mini', 'sg_sig', seconds => 100)$$);
-- a column of a type some role defined is read by no one
CREATE DOMAIN rp_text AS text;
CREATE TABLE rp_sig_domain AS SELECT record::rp_text AS record, lead, fs, start_sample, samples FROM sg_sig;
SELECT regress_error($$SELECT ecg_report_html('mini', 'rp_sig_domain')$$);
SELECT regress_error($$SELECT ecg_report_html('mini', 'sg_sig', beats => 'rp_sig_domain')$$);
SELECT regress_error($$SELECT ecg_plot_recording('rp_sig_domain', 'a')$$);
DROP TABLE rp_sig_domain;
DROP DOMAIN rp_text;

DO $$
BEGIN
    IF to_regclass('rp_stand_in') IS NOT NULL THEN
        DROP FUNCTION public.ecg_explain(text, real[]);
        DROP TABLE rp_stand_in;
    END IF;
END $$;
SELECT ecg_model_drop('rpq_cnn_none');
DROP TABLE rp_cut, rp_wrong_fs, rp_fast, rp_adc, rp_nan, rp_empty;
DROP FUNCTION rp_count(text, text), rp_texts(text, text);
