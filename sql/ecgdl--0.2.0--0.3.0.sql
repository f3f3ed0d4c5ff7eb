-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit

-- == explain ==
-- Why a model gives a beat its class (README "Why this class?"): integrated
-- gradients of the predicted class's logit from the beat flattened to its
-- median, 64 midpoint steps through the model's own backward pass.  STABLE and
-- PARALLEL SAFE like ecg_classify: they read a stored model by name.  The
-- _beat forms take a beat row (its signal and, for a model with R-R
-- features, its rr_* columns), like ecg_classify_beat; they are named apart
-- for the same reason (an overload on record would make calls with an
-- untyped literal ambiguous).

CREATE FUNCTION ecg_explain(model text, signal real[])
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_explain'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain(text, real[]) IS
'Per-sample attribution of the class a stored model predicts for a beat (integrated gradients of the class logit from the beat flattened to its median, 64 steps): one value per sample, adding up to the logit''s rise from that flat beat; show it with ecg_plot_beat(signal, shading => ...)';

CREATE FUNCTION ecg_explain_beat(model text, beat record)
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_explain'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_beat(text, record) IS
'ecg_explain for a beat row: its signal column and, for a model with R-R features, its rr_* columns (held fixed: only the samples are attributed)';

CREATE FUNCTION ecg_explain_details(model text, signal real[], OUT class smallint, OUT score real,
                                    OUT baseline_score real, OUT attributions real[])
RETURNS record
AS 'MODULE_PATHNAME', 'ecg_explain_details'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_details(text, real[]) IS
'ecg_explain with what it explains: the class (as ecg_classify returns it), its logit at the beat (score) and at the beat flattened to its median (baseline_score); sum(attributions) approximates score - baseline_score';

CREATE FUNCTION ecg_explain_beat_details(model text, beat record, OUT class smallint, OUT score real,
                                         OUT baseline_score real, OUT attributions real[])
RETURNS record
AS 'MODULE_PATHNAME', 'ecg_explain_details'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_explain_beat_details(text, record) IS
'ecg_explain_details for a beat row (signal and, for a model with R-R features, the rr_* columns)';
-- == report ==

-- The published figures of the study ecgdl reproduces, as data the charts and
-- the report put beside ecgdl's: test-set accuracy, macro F1 and F1 per AAMI
-- class of the oversampling study on Kaggle's "ECG Heartbeat Categorization"
-- set (MIT-BIH part, built by Kachuee, Fazeli and Sarrafzadeh 2018, arXiv
-- 1805.00794): 87,554 training and 21,892 test beats; baseline dense network
-- and a reduced deep residual CNN (after Rajpurkar et al. 2017, arXiv
-- 1707.01836); batch 2048, at most 100 epochs, early stopping with patience
-- 15.  README.md, "The study", gives the whole protocol.  Not user data:
-- CREATE EXTENSION writes these rows, and pg_dump leaves them to it.
CREATE TABLE ecgdl.published_results (
    architecture text NOT NULL,
    oversampling text NOT NULL,
    accuracy     numeric NOT NULL,
    macro_f1     numeric NOT NULL,
    f1_n         numeric NOT NULL,
    f1_s         numeric NOT NULL,
    f1_v         numeric NOT NULL,
    f1_f         numeric NOT NULL,
    f1_q         numeric NOT NULL,
    epochs       integer NOT NULL,
    PRIMARY KEY (architecture, oversampling)
);
COMMENT ON TABLE ecgdl.published_results IS
'Test-set figures of the published oversampling study (Kaggle MIT-BIH heartbeat set, 21,892 test beats; architecture as ecgdl names it: deep CNN = cnn), put beside ecgdl''s by ecg_plot_study and ecg_report_html';
INSERT INTO ecgdl.published_results VALUES
    ('baseline', 'random', 0.9526, 0.8146, 0.973, 0.614, 0.901, 0.615, 0.970, 77),
    ('baseline', 'smote',  0.9079, 0.7099, 0.946, 0.486, 0.865, 0.341, 0.911, 100),
    ('baseline', 'adasyn', 0.8349, 0.6282, 0.896, 0.336, 0.775, 0.291, 0.843, 100),
    ('cnn',      'random', 0.9581, 0.8053, 0.977, 0.729, 0.921, 0.418, 0.982, 39),
    ('cnn',      'smote',  0.9108, 0.7277, 0.946, 0.459, 0.890, 0.370, 0.974, 100),
    ('cnn',      'adasyn', 0.8790, 0.6885, 0.925, 0.380, 0.844, 0.332, 0.961, 86);
-- as ecgdl's other shared tables: row-level security, everyone reads, and
-- no one but the extension's owner writes (no policy for it)
ALTER TABLE ecgdl.published_results ENABLE ROW LEVEL SECURITY;
CREATE POLICY published_results_read ON ecgdl.published_results FOR SELECT USING (true);
GRANT SELECT ON ecgdl.published_results TO PUBLIC;

CREATE FUNCTION ecg_plot_study(prefix text, metric text DEFAULT 'f1', published boolean DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_plot_study'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_plot_study(text, text, boolean) IS
'SVG of a study''s per-class F1 (or recall = Se, precision = +P) by configuration as grouped bars: the models ecg_study named <prefix>_<arch>_<method>, latest evaluation on <prefix>_test, the published F1 (ecgdl.published_results) beside each bar';

CREATE FUNCTION ecg_plot_recording(recordings regclass, record text, lead text DEFAULT 'MLII',
                                   start_s float8 DEFAULT 0, seconds float8 DEFAULT 10,
                                   beats regclass DEFAULT NULL, model text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_plot_recording'
LANGUAGE C STABLE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_plot_recording(regclass, text, text, float8, float8, regclass, text) IS
'SVG of seconds (at most 60) of one lead of a record of a signal table on ECG paper (25 mm/s, 10 mm/mV) from start_s, each beat of an annotation or beat table marked with its class letter (the table''s label, or the model''s class of the beat row)';

-- Text for HTML: the five special characters as entities.
CREATE FUNCTION ecgdl.html_escape(t text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           t, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
COMMENT ON FUNCTION ecgdl.html_escape(text) IS 'Internal to ecg_report_html: text with & < > " and '' written as entities';

-- An SVG document as an inline figure: the XML declaration left out, a
-- caption under it.
CREATE FUNCTION ecgdl.html_figure(svg text, caption text, cls text DEFAULT 'chart')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.format(E'<figure class="%s">\n%s<figcaption>%s</figcaption>\n</figure>\n',
                         cls, pg_catalog.regexp_replace(svg, '^<\?xml[^>]*\?>\s*', ''), caption);
COMMENT ON FUNCTION ecgdl.html_figure(text, text, text) IS 'Internal to ecg_report_html: an SVG document inline in a figure with its caption (HTML)';

-- The HTML report of a study: one self-contained document (style and every
-- chart inline, no script, no outside file), well-formed XML as well as
-- HTML (XHTML polyglot), so that it can be checked as XML.  Sections: the
-- study's table beside the published figures and its bars (F1, Se, +P); each
-- model's confusion matrix and training history; with a signal table, a
-- strip of a record with its beats, one beat of each class found in it and,
-- where ecg_explain exists, an explanation of each beat's class.  signals =>
-- false leaves out every chart drawn from a recording's samples (strip,
-- beats, explanations) - e.g. for a report to be published without the data.
CREATE FUNCTION ecg_report_html(prefix text DEFAULT 'study', recordings regclass DEFAULT NULL,
                                record text DEFAULT NULL, beats regclass DEFAULT NULL,
                                model text DEFAULT NULL, signals boolean DEFAULT true,
                                title text DEFAULT NULL, lead text DEFAULT 'MLII',
                                start_s float8 DEFAULT 0, seconds float8 DEFAULT 10)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $report$
DECLARE
    html text;
    r record;
    bars_f1 text;
    bars_se text;
    bars_ppv text;
    fig int := 0;
    n_models int;
    test_rows bigint;
    strip_lead text;
    beat_sql text;
    explain_fn regprocedure := to_regprocedure('@extschema@.ecg_explain(text, real[])');
    explain_model text;
    shading real[];
    version text := (SELECT extversion FROM pg_extension WHERE extname = 'ecgdl');
    cls text[] := ARRAY['N', 'S', 'V', 'F', 'Q'];
    cls_name text[] := ARRAY['normal', 'supraventricular ectopic', 'ventricular ectopic', 'fusion', 'unknown / paced'];
    beats_drawn int := 0;
    note text;
    best text;
    explained int;
BEGIN
    IF prefix IS NULL OR signals IS NULL OR lead IS NULL OR start_s IS NULL OR seconds IS NULL THEN
        RAISE EXCEPTION 'prefix, signals, lead, start_s and seconds must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF (record IS NOT NULL OR beats IS NOT NULL) AND recordings IS NULL THEN
        RAISE EXCEPTION 'a record or a beat table needs the signal table they come from'
            USING ERRCODE = '22023', HINT = 'Pass recordings => the signal table (ecg_import_wfdb_signals makes one).';
    END IF;
    -- the columns of the caller's tables read below have built-in types: a
    -- type some role defined would bring its owner's casts (as the C
    -- functions refuse them, 42809)
    SELECT format('column "%s" of %s', a.attname, a.attrelid::regclass) INTO note
    FROM pg_attribute a
    WHERE a.attrelid IN (recordings, beats) AND NOT a.attisdropped
      AND a.attname IN ('record', 'lead', 'sample', 'label', 'signal', 'fs', 'start_sample', 'samples', 'symbol')
      AND a.atttypid >= 16384
    ORDER BY a.attrelid, a.attnum LIMIT 1;
    IF note IS NOT NULL THEN
        RAISE EXCEPTION '% has a type that is not built in', note USING ERRCODE = '42809',
            HINT = 'ecgdl reads only columns of built-in types: a type some role defined brings its owner''s casts.';
    END IF;
    note := NULL;
    -- the study's bars first: they raise the errors of an unknown prefix or
    -- a study without evaluations
    bars_f1 := @extschema@.ecg_plot_study(prefix);
    bars_se := @extschema@.ecg_plot_study(prefix, 'recall');
    bars_ppv := @extschema@.ecg_plot_study(prefix, 'precision');
    SELECT count(*), max(rep.test_rows) INTO n_models, test_rows FROM ecgdl.report rep
    WHERE starts_with(rep.model, prefix || '_') AND split_part(rep.test_table, '.', -1) = prefix || '_test';
    SELECT format('Best by macro F1: <b>%s</b> (%s + %s oversampling): macro F1 %s, accuracy %s.',
                  ecgdl.html_escape(rep.model), ecgdl.html_escape(rep.architecture), ecgdl.html_escape(rep.oversampling),
                  rep.macro_f1, rep.accuracy)
    INTO best FROM ecgdl.report rep
    WHERE starts_with(rep.model, prefix || '_') AND split_part(rep.test_table, '.', -1) = prefix || '_test'
    ORDER BY rep.macro_f1 DESC NULLS LAST, rep.model COLLATE "C" LIMIT 1;

    html := format(E'<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n'
        '<meta charset="utf-8"/>\n<title>%s</title>\n<style>\n'
        'body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 0 auto; max-width: 1080px; padding: 24px 32px; background: #fff; }\n'
        'header { border-bottom: 3px solid #3a6fb0; margin-bottom: 18px; }\n'
        'h1 { font-size: 26px; margin: 0 0 6px 0; } h2 { font-size: 19px; margin: 28px 0 8px 0; border-bottom: 1px solid #ccc; padding-bottom: 3px; }\n'
        'h3 { font-size: 15px; margin: 18px 0 4px 0; } p { font-size: 13px; line-height: 1.45; margin: 6px 0; }\n'
        '.meta { color: #555; font-size: 13px; margin-bottom: 4px; } .summary { font-size: 14px; margin-bottom: 10px; }\n'
        'table { border-collapse: collapse; font-size: 12px; margin: 8px 0; }\n'
        'th, td { border-bottom: 1px solid #ddd; padding: 3px 7px; text-align: right; }\n'
        'th { background: #eef2f8; } td.l, th.l { text-align: left; } td.pub { color: #777; }\n'
        'figure { margin: 10px 0 16px 0; } figure svg { display: block; max-width: 100%%; height: auto; }\n'
        'figcaption { font-size: 12px; color: #444; margin-top: 4px; }\n'
        '.pair { display: flex; gap: 18px; align-items: flex-start; } .pair figure.confusion { flex: 0 0 34%%; } .pair figure.history { flex: 1 1 auto; } .pair figure.half { flex: 1 1 50%%; }\n'
        '.beats { display: flex; flex-wrap: wrap; gap: 12px; } .beats figure { flex: 0 0 31%%; } .beats figure svg, figure.strip svg { width: 100%%; }\n'
        'footer { border-top: 1px solid #ccc; margin-top: 28px; padding-top: 8px; color: #666; font-size: 11px; }\n'
        '</style>\n</head>\n<body>\n<header>\n<h1>%s</h1>\n'
        '<p class="meta">Study <b>%s</b>: %s models evaluated on %s (%s beats). Generated %s by ecgdl %s on %s.</p>\n'
        '<p class="summary">%s</p>\n</header>\n',
        ecgdl.html_escape(coalesce(title, format('ECG beat classification: study %s', prefix))),
        ecgdl.html_escape(coalesce(title, format('ECG beat classification: study %s', prefix))),
        ecgdl.html_escape(prefix), n_models, ecgdl.html_escape(prefix || '_test'), test_rows,
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), ecgdl.html_escape(version),
        ecgdl.html_escape(split_part(version(), ' on ', 1)), best);

    -- 1. the study's table, the published figures beside
    html := html || E'<section id="study">\n<h2>1. The study: every configuration on the test table</h2>\n'
        '<p>Latest evaluation of each model of the study on its test table (ecgdl.report). Published: the '
        'oversampling study ecgdl reproduces, on Kaggle''s MIT-BIH heartbeat set (21,892 test beats; '
        'ecgdl.published_results) - comparable only for a stratified split of the same beats.</p>\n'
        '<table>\n<tr><th class="l">model</th><th class="l">architecture</th><th class="l">oversampling</th>'
        '<th>accuracy</th><th>macro F1</th><th>F1 N</th><th>F1 S</th><th>F1 V</th><th>F1 F</th><th>F1 Q</th>'
        '<th>epochs (best)</th><th>training s</th><th>published accuracy</th><th>published macro F1</th></tr>\n';
    FOR r IN
        SELECT rep.*, p.accuracy AS pub_accuracy, p.macro_f1 AS pub_macro_f1
        FROM ecgdl.report rep LEFT JOIN ecgdl.published_results p USING (architecture, oversampling)
        WHERE starts_with(rep.model, prefix || '_') AND split_part(rep.test_table, '.', -1) = prefix || '_test'
        ORDER BY rep.architecture COLLATE "C", array_position(ARRAY['none', 'random', 'smote', 'adasyn'], rep.oversampling),
                 rep.model COLLATE "C"
    LOOP
        html := html || format(E'<tr><td class="l">%s</td><td class="l">%s</td><td class="l">%s</td>'
            '<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="pub">%s</td><td class="pub">%s</td></tr>\n',
            ecgdl.html_escape(r.model), ecgdl.html_escape(r.architecture), ecgdl.html_escape(r.oversampling),
            r.accuracy, r.macro_f1, coalesce(r.f1_n::text, '-'), coalesce(r.f1_s::text, '-'), coalesce(r.f1_v::text, '-'),
            coalesce(r.f1_f::text, '-'), coalesce(r.f1_q::text, '-'),
            coalesce(r.epochs || coalesce(' (' || r.best_epoch || ')', ''), '-'), coalesce(r.training_seconds::text, '-'),
            coalesce(r.pub_accuracy::text, '-'), coalesce(r.pub_macro_f1::text, '-'));
    END LOOP;
    html := html || E'</table>\n';
    fig := fig + 1;
    html := html || ecgdl.html_figure(bars_f1, format('Figure %s. F1 per AAMI class of every configuration (solid); the published '
        'study''s F1 of the same configuration pale beside it, where it reported one.', fig));
    html := html || E'<div class="pair">\n';
    fig := fig + 1;
    html := html || ecgdl.html_figure(bars_se, format('Figure %s. Sensitivity (Se, recall) per class: the share of each '
        'class''s beats the model finds.', fig), 'half');
    fig := fig + 1;
    html := html || ecgdl.html_figure(bars_ppv, format('Figure %s. Positive predictivity (+P, precision) per class: the share '
        'of the beats called a class that are of it.', fig), 'half');
    html := html || E'</div>\n';
    html := html || E'</section>\n';

    -- 2. each model: its confusion matrix and its training history
    html := html || E'<section id="models">\n<h2>2. Each model: confusion matrix and training history</h2>\n';
    FOR r IN
        SELECT rep.model, rep.test_table, to_regclass(rep.test_table) AS test FROM ecgdl.report rep
        WHERE starts_with(rep.model, prefix || '_') AND split_part(rep.test_table, '.', -1) = prefix || '_test'
        ORDER BY rep.architecture COLLATE "C", array_position(ARRAY['none', 'random', 'smote', 'adasyn'], rep.oversampling),
                 rep.model COLLATE "C"
    LOOP
        html := html || format(E'<h3>%s</h3>\n<div class="pair">\n', ecgdl.html_escape(r.model));
        fig := fig + 1;
        IF r.test IS NULL THEN
            html := html || format(E'<p>Figure %s: no confusion matrix - the test table %s no longer exists.</p>\n',
                                   fig, ecgdl.html_escape(r.test_table));
        ELSE
            html := html || ecgdl.html_figure(@extschema@.ecg_plot_confusion(r.model, r.test),
                format('Figure %s. Confusion matrix of %s on %s: rows the true class, columns the predicted one; '
                       'colour and percentage: the share of the row.', fig, ecgdl.html_escape(r.model),
                       ecgdl.html_escape(r.test_table)), 'confusion');
        END IF;
        fig := fig + 1;
        BEGIN
            html := html || ecgdl.html_figure(@extschema@.ecg_plot_history(r.model),
                format('Figure %s. Training history of %s: loss and accuracy per epoch, training solid, validation dashed.',
                       fig, ecgdl.html_escape(r.model)), 'history');
        EXCEPTION WHEN object_not_in_prerequisite_state THEN
            html := html || format(E'<p>Figure %s: %s has no training history (an imported model).</p>\n',
                                   fig, ecgdl.html_escape(r.model));
        END;
        html := html || E'</div>\n';
    END LOOP;
    html := html || E'</section>\n';

    -- 3. a recording: a strip with its beats, a beat of each class, explanations
    IF recordings IS NOT NULL AND NOT signals THEN
        html := html || E'<section id="recording">\n<h2>3. A recording</h2>\n<p>Left out of this report '
            '(signals =&gt; false): no chart of a recording''s samples.</p>\n</section>\n';
    ELSIF recordings IS NOT NULL THEN
        IF record IS NULL THEN
            EXECUTE format('SELECT min(record::text COLLATE "C") FROM %s', recordings) INTO record;
        END IF;
        EXECUTE format('SELECT coalesce(max(lead::text) FILTER (WHERE lead::text = $2), min(lead::text COLLATE "C")) '
                       'FROM %s WHERE record::text = $1', recordings) INTO strip_lead USING record, lead;
        fig := fig + 1;
        html := html || format(E'<section id="recording">\n<h2>3. Record %s</h2>\n', ecgdl.html_escape(coalesce(record, '?')))
            || ecgdl.html_figure(@extschema@.ecg_plot_recording(recordings, record, coalesce(strip_lead, lead), start_s,
                                                                seconds, beats, model),
                format('Figure %s. Record %s, lead %s of %s on ECG paper (25 mm/s, 10 mm/mV); above each beat of %s '
                       'its class: %s.', fig, ecgdl.html_escape(record), ecgdl.html_escape(coalesce(strip_lead, lead)),
                       ecgdl.html_escape(recordings::text), ecgdl.html_escape(coalesce(beats::text, 'no beat table')),
                       CASE WHEN model IS NOT NULL THEN 'the class model ' || ecgdl.html_escape(model) || ' gives it'
                            ELSE 'its label in the table' END), 'strip');
        -- the first beat of each class among the record's beats (a beat table: signal column)
        IF beats IS NOT NULL AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = beats AND attname = 'signal'
                                         AND NOT attisdropped) THEN
            explain_model := coalesce(model, (SELECT rep.model FROM ecgdl.report rep
                WHERE starts_with(rep.model, prefix || '_') AND split_part(rep.test_table, '.', -1) = prefix || '_test'
                ORDER BY rep.macro_f1 DESC NULLS LAST, rep.model COLLATE "C" LIMIT 1));
            beat_sql := format('SELECT DISTINCT ON (c.cls) c.cls, c.sample, c.signal FROM ('
                '  SELECT b.sample::int8 AS sample, b.signal::real[] AS signal, %s AS cls FROM %s b'
                '  WHERE b.record::text = $1 ORDER BY b.sample LIMIT 2000) c '
                'WHERE c.cls IS NOT NULL ORDER BY c.cls, c.sample',
                CASE WHEN model IS NOT NULL THEN '@extschema@.ecg_classify_beat($2, b)::int'
                     ELSE 'b.label::int' END, beats);
            html := html || format(E'<h3>Beats of record %s: the first of each class (of its first 2,000 beats)</h3>\n<div class="beats">\n',
                                   ecgdl.html_escape(record));
            FOR r IN EXECUTE beat_sql USING record, model LOOP
                fig := fig + 1;
                beats_drawn := beats_drawn + 1;
                html := html || ecgdl.html_figure(@extschema@.ecg_plot_beat(r.signal,
                        title => format('%s at sample %s: %s', record, r.sample, cls[r.cls + 1])),
                    format('Figure %s. A beat %s %s (%s), as the classifier sees it: 187 samples at 125 Hz, min-max normalised.',
                           fig, CASE WHEN model IS NOT NULL THEN ecgdl.html_escape(model) || ' calls' ELSE 'labelled' END,
                           cls[r.cls + 1], cls_name[r.cls + 1]), 'beat');
            END LOOP;
            IF beats_drawn = 0 THEN
                html := html || E'<p>No classified beat of this record in the beat table.</p>\n';
            END IF;
            html := html || E'</div>\n';
            -- explanations: where the installed ecgdl has ecg_explain(model, signal)
            IF explain_fn IS NOT NULL AND explain_model IS NOT NULL AND beats_drawn > 0 THEN
                html := html || format(E'<h3>Why: the samples behind each beat''s class (%s)</h3>\n<div class="beats">\n',
                                       ecgdl.html_escape(explain_model));
                FOR r IN EXECUTE beat_sql USING record, model LOOP
                    fig := fig + 1;
                    BEGIN
                        EXECUTE 'SELECT @extschema@.ecg_explain($1, $2)' INTO shading USING explain_model, r.signal;
                        explained := @extschema@.ecg_classify(explain_model, r.signal);
                        html := html || ecgdl.html_figure(@extschema@.ecg_plot_beat(r.signal, shading => shading,
                                title => format('%s at sample %s: why %s', record, r.sample, cls[explained + 1])),
                            format('Figure %s. The %s beat above (figure %s), each sample shaded by its attribution to '
                                   '%s, the class model %s gives it (ecg_explain): red raises that class''s score, blue '
                                   'lowers it.', fig, cls[r.cls + 1], fig - beats_drawn, cls[explained + 1],
                                   ecgdl.html_escape(explain_model)), 'beat');
                    EXCEPTION WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS note = MESSAGE_TEXT;
                        html := html || format(E'<p>Figure %s: no explanation: %s</p>\n', fig, ecgdl.html_escape(note));
                    END;
                END LOOP;
                html := html || E'</div>\n';
            END IF;
        END IF;
        html := html || E'</section>\n';
    END IF;

    html := html || format(E'<footer>ecgdl %s - a PostgreSQL extension for ECG beat classification. '
        'Every chart is an SVG drawn inside the database (ecg_plot_study, ecg_plot_confusion, ecg_plot_history, '
        'ecg_plot_recording, ecg_plot_beat); AAMI classes N normal, S supraventricular ectopic, V ventricular ectopic, '
        'F fusion, Q unknown. Not a medical device.</footer>\n</body>\n</html>\n', ecgdl.html_escape(version));
    RETURN html;
END
$report$;
COMMENT ON FUNCTION ecg_report_html(text, regclass, text, regclass, text, boolean, text, text, float8, float8) IS
'A self-contained HTML report (XHTML, every chart inline SVG) of a study: its table beside the published figures, its bars, each model''s confusion matrix and history, and with a signal table a strip of a record, a beat of each class and (where ecg_explain exists) explanations; signals => false leaves out every chart of a recording''s samples';

-- == interpatient ==
-- Beat shape relative to the patient's own beats (issue 12): a copy of a beat
-- table whose signals are each beat minus the median beat of its record.

CREATE FUNCTION ecg_subtract_record_median(source regclass, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_subtract_record_median'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_subtract_record_median(regclass, text) IS
'Copies a beat table into a new table whose signals are each beat minus the median beat (sample by sample) of its own record: shape relative to the patient''s usual beat, for models of patients never seen; returns the rows written';
