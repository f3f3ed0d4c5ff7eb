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
-- == jobs: long trainings and studies in background workers (issue 14) ==

-- One row per background job.  Written only by ecgdl's functions (as the
-- table's owner); everyone reads the jobs through the view ecgdl.jobs.
-- Not registered with pg_extension_config_dump: a job is the state of a
-- running server (its checkpoint is a file of that server's data directory,
-- its tables are named by OID), which a dump restored elsewhere could not
-- resume; the models a job made are in ecgdl.models, which is dumped.
CREATE TABLE ecgdl.jobs_table (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('train', 'study')),
    owner        regrole NOT NULL,
    login_role   regrole NOT NULL,
    args         jsonb NOT NULL,
    settings     jsonb NOT NULL,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    steps_done   integer NOT NULL DEFAULT 0,
    steps        integer,
    model        text,
    epoch        integer,
    epochs       integer,
    loss         float8,
    accuracy     float8,
    val_loss     float8,
    val_accuracy float8,
    lr           float8,
    pid          integer,
    model_id     bigint,
    error        text,
    error_code   text,
    submitted_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    queued_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    started_at   timestamptz,
    updated_at   timestamptz,
    finished_at  timestamptz
);
REVOKE ALL ON ecgdl.jobs_table FROM PUBLIC;
COMMENT ON TABLE ecgdl.jobs_table IS
'Background jobs of ecgdl (ecg_train_async, ecg_study_async): arguments, owner, state, steps done, last progress, error; read them through ecgdl.jobs';

CREATE FUNCTION ecgdl.job_progress()
RETURNS TABLE (job bigint, pid integer, kind text, owner oid, model text, step integer,
               steps integer, epoch integer, epochs integer, loss float8, accuracy float8,
               val_loss float8, val_accuracy float8, lr float8, seconds_left float8,
               started timestamptz, updated timestamptz)
AS 'MODULE_PATHNAME', 'ecg_job_progress'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecgdl.job_progress() IS
'Internal to ecgdl.jobs: the live progress of the jobs and synchronous trainings of this database (shared memory; no rows without shared_preload_libraries)';

-- The jobs and the synchronous trainings running in sessions (id NULL), with
-- their live progress.  A job whose row says running but whose worker is gone
-- (a crash, a server restart) shows as failed; ecg_job_resume continues it.
CREATE VIEW ecgdl.jobs AS
SELECT j.id, j.kind, j.owner,
       CASE WHEN j.state OPERATOR(pg_catalog.=) 'running' AND p.job IS NULL THEN 'failed'
            ELSE j.state END AS state,
       CASE WHEN p.job IS NULL THEN j.model ELSE p.model END AS model,
       CASE WHEN j.kind OPERATOR(pg_catalog.<>) 'study' THEN NULL
            WHEN p.job IS NULL THEN j.steps_done ELSE p.step END AS step,
       CASE WHEN p.job IS NULL THEN j.steps ELSE p.steps END AS steps,
       CASE WHEN p.job IS NULL THEN j.epoch ELSE p.epoch END AS epoch,
       CASE WHEN p.job IS NULL THEN j.epochs ELSE p.epochs END AS epochs,
       CASE WHEN p.job IS NULL THEN j.loss ELSE p.loss END AS loss,
       CASE WHEN p.job IS NULL THEN j.accuracy ELSE p.accuracy END AS accuracy,
       CASE WHEN p.job IS NULL THEN j.val_loss ELSE p.val_loss END AS val_loss,
       CASE WHEN p.job IS NULL THEN j.val_accuracy ELSE p.val_accuracy END AS val_accuracy,
       CASE WHEN p.job IS NULL THEN j.lr ELSE p.lr END AS lr,
       p.seconds_left OPERATOR(pg_catalog.*) '1 second'::pg_catalog.interval AS time_left,
       j.submitted_at, j.started_at,
       GREATEST(j.updated_at, p.updated) AS updated_at,
       j.finished_at,
       CASE WHEN j.state OPERATOR(pg_catalog.=) 'running' AND p.job IS NULL
            THEN 'interrupted: the worker ended before the job (a crash or a server restart); ecg_job_resume continues it'
            ELSE j.error END AS error,
       j.error_code, j.model_id, p.pid
FROM ecgdl.jobs_table j
LEFT JOIN ecgdl.job_progress() p ON p.job OPERATOR(pg_catalog.=) j.id
UNION ALL
SELECT NULL::pg_catalog.int8, p.kind, p.owner::pg_catalog.regrole, 'running', p.model, p.step, p.steps,
       p.epoch, p.epochs, p.loss, p.accuracy, p.val_loss, p.val_accuracy, p.lr,
       p.seconds_left OPERATOR(pg_catalog.*) '1 second'::pg_catalog.interval,
       NULL, p.started, p.updated, NULL, NULL, NULL, NULL, p.pid
FROM ecgdl.job_progress() p
WHERE p.job OPERATOR(pg_catalog.=) 0;
GRANT SELECT ON ecgdl.jobs TO PUBLIC;
COMMENT ON VIEW ecgdl.jobs IS
'Background jobs and synchronous trainings: state, current model, epoch k of n, latest loss and validation figures, learning rate, estimated time left, times and error';

CREATE FUNCTION ecg_train_async(name text, train regclass, arch text DEFAULT 'cnn',
                                validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                                batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                                patience int DEFAULT 15, seed int DEFAULT 42,
                                class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                                validation_fraction float8 DEFAULT 0.3,
                                operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL,
                                augment text DEFAULT 'none')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train_async'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_train_async(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[], text) IS
'ecg_train in a background worker: checks the arguments as ecg_train does, queues the training and returns the job id (see ecgdl.jobs, ecg_job_cancel, ecg_job_resume)';

CREATE FUNCTION ecg_job_cancel(id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_job_cancel'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_cancel(bigint) IS
'Stops a queued or running job (its owner, or pg_signal_backend for a job of a role that is not a superuser); its checkpoint stays for ecg_job_resume';

CREATE FUNCTION ecg_job_resume(id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_job_resume'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_resume(bigint) IS
'Queues again a cancelled, failed or interrupted job: it goes on from its last finished study step and epoch, ending with the bytes of an uninterrupted run';

CREATE FUNCTION ecg_job_forget(id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecg_job_forget'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_forget(bigint) IS
'Removes an ended job (done, failed, cancelled or interrupted) that will not be resumed: its row and its checkpoint file';

-- ecg_study in steps, so that a background study commits each step and a
-- resumed one skips the steps done.  ecgdl.study_prepare makes every check
-- ecg_study makes before its first step (as in 0.2.0) and says whether the
-- split is reused; ecgdl.study_step runs step `step`: 1 checks again and
-- splits (or reuses the split), then per method an oversampling (but for
-- none) followed by a training and evaluation per architecture; it returns
-- what it did, or NULL past the last step.  ecg_study runs the steps in turn.
CREATE FUNCTION ecgdl.study_prepare(source regclass, prefix text, epochs int, batch_size int,
                                    patience int, seed int, split text, methods text[],
                                    archs text[], replace boolean, class_weight text,
                                    reuse_split boolean)
RETURNS boolean
LANGUAGE plpgsql
AS $prepare$
-- Every type, operator, function and catalog below is qualified with
-- pg_catalog: the body runs with the caller's search_path.
DECLARE
    target_schema pg_catalog.text := pg_catalog.current_schema();
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    study_tables pg_catalog.text[];
    method pg_catalog.text;
    arch pg_catalog.text;
    t pg_catalog.text;
    models pg_catalog.text[] := '{}';
    longest pg_catalog.int4;
    reusing pg_catalog.bool;
BEGIN
    IF source IS NULL OR prefix IS NULL OR epochs IS NULL OR batch_size IS NULL OR patience IS NULL
       OR seed IS NULL OR split IS NULL OR methods IS NULL OR archs IS NULL OR replace IS NULL
       OR class_weight IS NULL OR reuse_split IS NULL OR pg_catalog.array_position(methods, NULL) IS NOT NULL
       OR pg_catalog.array_position(archs, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ecg_study arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF prefix OPERATOR(pg_catalog.!~) '^[a-z_][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid study prefix "%"', prefix USING ERRCODE = '22023',
            HINT = 'Use lower-case letters, digits and underscores; tables and models are named after it.';
    END IF;
    IF NOT split OPERATOR(pg_catalog.=) ANY (ARRAY['stratified', 'random', 'inter-patient']) THEN
        RAISE EXCEPTION 'unknown split method "%"', split USING ERRCODE = '22023',
            HINT = 'Use ''stratified'', ''random'' or ''inter-patient''.';
    END IF;
    IF pg_catalog.cardinality(methods) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(archs) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'ecg_study needs at least one method and one architecture' USING ERRCODE = '22023';
    END IF;
    FOREACH method IN ARRAY methods LOOP
        IF NOT method OPERATOR(pg_catalog.=) ANY (ARRAY['none', 'random', 'smote', 'adasyn']) THEN
            RAISE EXCEPTION 'unknown oversampling method "%"', method USING ERRCODE = '22023',
                HINT = 'Use ''none'', ''random'', ''smote'' or ''adasyn''.';
        END IF;
        IF pg_catalog.array_position(methods, method, pg_catalog.array_position(methods, method) OPERATOR(pg_catalog.+) 1)
           IS NOT NULL THEN
            RAISE EXCEPTION 'oversampling method "%" is named twice', method USING ERRCODE = '22023';
        END IF;
    END LOOP;
    FOREACH arch IN ARRAY archs LOOP
        IF pg_catalog.array_position(archs, arch, pg_catalog.array_position(archs, arch) OPERATOR(pg_catalog.+) 1)
           IS NOT NULL THEN
            RAISE EXCEPTION 'architecture "%" is named twice', arch USING ERRCODE = '22023';
        END IF;
        FOREACH method IN ARRAY methods LOOP
            models := pg_catalog.array_append(models, pg_catalog.format('%s_%s_%s', prefix, arch, method));
        END LOOP;
    END LOOP;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create the study''s tables in' USING ERRCODE = '3F000',
            HINT = 'Set search_path to a schema you may create tables in.';
    END IF;

    -- every table name the study may make fits in 63 bytes
    study_tables := ARRAY[t_trainval, t_test, t_train, t_val];
    longest := 9;   -- _trainval
    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.<>) 'none' THEN
            study_tables := pg_catalog.array_append(study_tables, pg_catalog.format('%s_train_%s', prefix, method));
            longest := GREATEST(longest, pg_catalog.octet_length(method) OPERATOR(pg_catalog.+) 7);
        END IF;
    END LOOP;
    FOREACH t IN ARRAY study_tables LOOP
        IF pg_catalog.octet_length(t) OPERATOR(pg_catalog.>) 63 THEN
            RAISE EXCEPTION 'study table name "%" is too long', t USING ERRCODE = '42622',
                DETAIL = pg_catalog.format('It has %s bytes; PostgreSQL names have at most 63.', pg_catalog.octet_length(t)),
                HINT = pg_catalog.format('Use a prefix of at most %s characters for these methods.', 63 OPERATOR(pg_catalog.-) longest);
        END IF;
    END LOOP;

    -- tables that would be made and exist already (a kept split keeps its
    -- tables and the oversampled ones that exist)
    reusing := reuse_split
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_train)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_val)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_test)) IS NOT NULL;
    IF NOT replace AND NOT reusing THEN
        FOREACH t IN ARRAY study_tables LOOP
            IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t)) IS NOT NULL THEN
                RAISE EXCEPTION 'relation "%" already exists', t USING ERRCODE = '42P07',
                    HINT = 'Pass replace => true to replace the study''s tables and models, reuse_split => true to keep its split, or choose another prefix.';
            END IF;
        END LOOP;
    END IF;

    -- the training arguments and model names, with ecg_train's own checks
    PERFORM ecgdl.study_check(archs, epochs, batch_size, patience, seed, class_weight, models, replace);
    RETURN reusing;
END
$prepare$;
COMMENT ON FUNCTION ecgdl.study_prepare(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean) IS
'Internal to ecg_study and ecg_study_async: every check of the arguments, names and tables before the first step; whether the split is reused';

CREATE FUNCTION ecgdl.study_step(source regclass, prefix text, epochs int, batch_size int,
                                 patience int, seed int, split text, methods text[],
                                 archs text[], replace boolean, class_weight text,
                                 reuse_split boolean, step int)
RETURNS text
LANGUAGE plpgsql
AS $step$
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    target_schema pg_catalog.text := pg_catalog.current_schema();
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    method pg_catalog.text;
    arch pg_catalog.text;
    train_table pg_catalog.text;
    model_name pg_catalog.text;
    k pg_catalog.int4 := 1;
    t0 pg_catalog.timestamptz;
    reusing pg_catalog.bool;
BEGIN
    IF step OPERATOR(pg_catalog.=) 1 THEN
        reusing := ecgdl.study_prepare(source, prefix, epochs, batch_size, patience, seed, split,
                                       methods, archs, replace, class_weight, reuse_split);
        IF replace AND NOT reusing THEN
            EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I',
                                      target_schema, t_trainval, t_test, t_train, t_val);
        END IF;
        IF replace THEN
            FOREACH method IN ARRAY methods LOOP
                EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I.%I', target_schema,
                                          pg_catalog.format('%s_train_%s', prefix, method));
            END LOOP;
        END IF;
        IF reusing THEN
            RAISE NOTICE 'study %: reusing the split tables %, %, %', prefix, t_train, t_val, t_test;
            RETURN 'reuse the split';
        END IF;
        RAISE NOTICE 'study %: splitting %', prefix, source;
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_split($1::pg_catalog.regclass, '
                                  '$2::pg_catalog.text, $3::pg_catalog.text, $4::pg_catalog.float8, '
                                  '$5::pg_catalog.int4, $6::pg_catalog.text)', ext_schema)
            USING source, pg_catalog.format('%I.%I', target_schema, t_trainval),
                  pg_catalog.format('%I.%I', target_schema, t_test), 0.2::pg_catalog.float8, seed, split;
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_split($1::pg_catalog.regclass, '
                                  '$2::pg_catalog.text, $3::pg_catalog.text, $4::pg_catalog.float8, '
                                  '$5::pg_catalog.int4, $6::pg_catalog.text)', ext_schema)
            USING pg_catalog.format('%I.%I', target_schema, t_trainval)::pg_catalog.regclass,
                  pg_catalog.format('%I.%I', target_schema, t_train),
                  pg_catalog.format('%I.%I', target_schema, t_val), 0.3::pg_catalog.float8, seed,
                  'stratified'::pg_catalog.text;
        RETURN 'split';
    END IF;

    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.=) 'none' THEN
            train_table := pg_catalog.format('%I.%I', target_schema, t_train);
        ELSE
            train_table := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_train_%s', prefix, method));
            k := k OPERATOR(pg_catalog.+) 1;
            IF k OPERATOR(pg_catalog.=) step THEN
                -- step 1 dropped it unless the split is reused: an existing one is kept
                IF pg_catalog.to_regclass(train_table) IS NOT NULL THEN
                    RAISE NOTICE 'study %: reusing the oversampled table %', prefix, train_table;
                    RETURN pg_catalog.format('reuse %s', train_table);
                END IF;
                t0 := pg_catalog.clock_timestamp();
                EXECUTE pg_catalog.format('SELECT %I.ecg_oversample($1::pg_catalog.regclass, $2::pg_catalog.text, '
                                          '$3::pg_catalog.text, $4::pg_catalog.int4, $5::pg_catalog.int4, '
                                          '$6::pg_catalog.text)', ext_schema)
                    USING pg_catalog.format('%I.%I', target_schema, t_train)::pg_catalog.regclass, train_table,
                          method, 5::pg_catalog.int4, seed, 'auto'::pg_catalog.text;
                RAISE NOTICE 'study %: % oversampling took % s', prefix, method,
                    pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0), 1);
                RETURN pg_catalog.format('oversample %s', train_table);
            END IF;
        END IF;
        FOREACH arch IN ARRAY archs LOOP
            k := k OPERATOR(pg_catalog.+) 1;
            CONTINUE WHEN k OPERATOR(pg_catalog.<>) step;
            model_name := pg_catalog.format('%s_%s_%s', prefix, arch, method);
            RAISE NOTICE 'study %: training % on %', prefix, model_name, train_table;
            EXECUTE pg_catalog.format('SELECT %I.ecg_train($1::pg_catalog.text, $2::pg_catalog.regclass, '
                                      '$3::pg_catalog.text, $4::pg_catalog.regclass, $5::pg_catalog.int4, '
                                      '$6::pg_catalog.int4, $7::pg_catalog.float8, $8::pg_catalog.int4, '
                                      '$9::pg_catalog.int4, $10::pg_catalog.text, $11::pg_catalog.bool, '
                                      '$12::pg_catalog.float8)', ext_schema)
                USING model_name, train_table::pg_catalog.regclass, arch,
                      pg_catalog.format('%I.%I', target_schema, t_val)::pg_catalog.regclass, epochs, batch_size,
                      1e-3::pg_catalog.float8, patience, seed, class_weight, replace, 0.3::pg_catalog.float8;
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_evaluate($1::pg_catalog.text, '
                                      '$2::pg_catalog.regclass)', ext_schema)
                USING model_name, pg_catalog.format('%I.%I', target_schema, t_test)::pg_catalog.regclass;
            RETURN pg_catalog.format('train and evaluate %s', model_name);
        END LOOP;
    END LOOP;
    RETURN NULL;
END
$step$;
COMMENT ON FUNCTION ecgdl.study_step(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean, int) IS
'Internal to ecg_study and ecg_study_async: runs one step of a study (1: checks and split; then per method an oversampling and per architecture a training and evaluation); NULL past the last step';

CREATE FUNCTION ecgdl.session_step(step int, steps int)
RETURNS void
AS 'MODULE_PATHNAME', 'ecg_job_session_step'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecgdl.session_step(int, int) IS
'Internal to ecg_study: shows in ecgdl.jobs which step a synchronous study runs (0: done)';

-- ecg_study as in 0.2.0, run as its steps (the same work in the same order),
-- showing its step in ecgdl.jobs.
CREATE OR REPLACE FUNCTION ecg_study(source regclass, prefix text DEFAULT 'study',
                                     epochs int DEFAULT 100, batch_size int DEFAULT 2048,
                                     patience int DEFAULT 15, seed int DEFAULT 42,
                                     split text DEFAULT 'stratified',
                                     methods text[] DEFAULT ARRAY['none', 'random', 'smote', 'adasyn'],
                                     archs text[] DEFAULT ARRAY['baseline', 'cnn'],
                                     replace boolean DEFAULT false,
                                     class_weight text DEFAULT 'none',
                                     reuse_split boolean DEFAULT false)
RETURNS SETOF ecgdl.report
LANGUAGE plpgsql
AS $study$
DECLARE
    step pg_catalog.int4 := 1;
    steps pg_catalog.int4 := 1 OPERATOR(pg_catalog.+)
        (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM pg_catalog.unnest(methods) m
         WHERE m OPERATOR(pg_catalog.<>) 'none') OPERATOR(pg_catalog.+)
        pg_catalog.cardinality(methods) OPERATOR(pg_catalog.*) pg_catalog.cardinality(archs);
BEGIN
    LOOP
        PERFORM ecgdl.session_step(step, steps);
        EXIT WHEN ecgdl.study_step(source, prefix, epochs, batch_size, patience, seed, split, methods,
                                   archs, replace, class_weight, reuse_split, step) IS NULL;
        step := step OPERATOR(pg_catalog.+) 1;
    END LOOP;
    PERFORM ecgdl.session_step(0, 0);
    -- the report rows of this study: models <prefix>_<arch>_<method>
    -- evaluated on <prefix>_test
    RETURN QUERY SELECT r.* FROM ecgdl.report r
        WHERE pg_catalog.starts_with(r.model, pg_catalog.format('%s_', prefix))
          AND pg_catalog.split_part(r.test_table, '.', -1) OPERATOR(pg_catalog.=) pg_catalog.format('%s_test', prefix)
        ORDER BY r.architecture, pg_catalog.array_position(ARRAY['none', 'random', 'smote', 'adasyn'], r.oversampling);
END
$study$;

CREATE FUNCTION ecg_study_async(source regclass, prefix text DEFAULT 'study',
                                epochs int DEFAULT 100, batch_size int DEFAULT 2048,
                                patience int DEFAULT 15, seed int DEFAULT 42,
                                split text DEFAULT 'stratified',
                                methods text[] DEFAULT ARRAY['none', 'random', 'smote', 'adasyn'],
                                archs text[] DEFAULT ARRAY['baseline', 'cnn'],
                                replace boolean DEFAULT false,
                                class_weight text DEFAULT 'none',
                                reuse_split boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_study_async'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_study_async(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean) IS
'ecg_study in a background worker: checks everything ecg_study checks before its first step, queues the study and returns the job id; each step commits on its own (the report: ecgdl.report)';
-- == augment ==

-- ecg_train gains augment: random lead-like transformations of the training
-- beats (polarity inversion, amplitude relative to the window, baseline
-- wander, noise, a shifted fiducial point; src/core/nn_augment.h).  The 0.2.0
-- signature is replaced; the C function reads the new argument only when it is
-- there, so the 0.1.0 and 0.2.0 definitions keep working.
DROP FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[]);
CREATE FUNCTION ecg_train(name text, train regclass, arch text DEFAULT 'cnn',
                          validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                          batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                          patience int DEFAULT 15, seed int DEFAULT 42,
                          class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                          validation_fraction float8 DEFAULT 0.3,
                          operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL,
                          augment text DEFAULT 'none')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[], text) IS
'Trains a model (baseline, cnn, cnn_wide, or baseline_rr / cnn_rr with the R-R feature columns of the tables) inside the database, optionally on randomly transformed beats (augment: none, lead, or polarity/amplitude/wander/noise/shift strengths), chooses its operating point (argmax, prior, or validation: tuned for macro F1 on the validation table) and stores it in ecgdl.models; returns its id';

-- == interpatient ==
-- Beat shape relative to the patient's own beats (issue 12): a copy of a beat
-- table whose signals are each beat minus the median beat of its record.

CREATE FUNCTION ecg_subtract_record_median(source regclass, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_subtract_record_median'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_subtract_record_median(regclass, text) IS
'Copies a beat table into a new table whose signals are each beat minus the median beat (sample by sample) of its own record: shape relative to the patient''s usual beat, for models of patients never seen; returns the rows written';

-- == qrs2 ==
-- ecg_detect_beats on two leads at once: the fourth argument second_lead
-- (NULL: the one-lead detector, as before).  The C function also serves the
-- 0.2.0 definition with three arguments.
DROP FUNCTION ecg_detect_beats(regclass, text, text);

CREATE FUNCTION ecg_detect_beats(recordings regclass, target text, lead text DEFAULT 'MLII',
                                 second_lead text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_detect_beats'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_detect_beats(regclass, text, text, text) IS
'Detects the beats of one lead (or of it and second_lead together, each lead''s detector trusted by its noise level) of every record of a signal table into a new annotation table (symbol and label NULL); returns the number of beats';
-- == crossval2: ecg_cross_validate with features, operating point and augmentation (issue 12) ==

-- The checks of ecg_train's arguments, ecg_train's own code, with a
-- cross-validation's source table standing in for the folds' tables (copies
-- of its rows): ecg_cross_validate calls it before its first fold.
CREATE FUNCTION ecgdl.cross_validate_check(name text, train regclass, arch text, validation regclass,
                                           epochs int, batch_size int, learning_rate float8,
                                           patience int, seed int, class_weight text, replace boolean,
                                           validation_fraction float8, operating_point text,
                                           features text[], augment text)
RETURNS void
AS 'MODULE_PATHNAME', 'ecg_cross_validate_check'
LANGUAGE C STABLE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecgdl.cross_validate_check(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[], text) IS
'Internal to ecg_cross_validate: errors as ecg_train would on its arguments, the source table standing in for the folds'' training and validation tables';

-- ecg_cross_validate passes ecg_train's operating_point, features and
-- augment to every fold's training (appended, so positional calls of the
-- 0.2.0 function keep their meaning; without them every figure is the same as
-- 0.2.0's).  operating_point 'validation' tunes each fold's model on that
-- fold's validation records, drawn from its training records, never on the
-- fold it is tested on.  The 0.2.0 definition is replaced; the body is 0.2.0's
-- with the three arguments passed on and checked before the first fold.
DROP FUNCTION ecg_cross_validate(regclass, int, text, text, int, int, float8, int, int, text, float8, boolean);
CREATE FUNCTION ecg_cross_validate(source regclass, folds int DEFAULT 5, arch text DEFAULT 'cnn',
                                   prefix text DEFAULT 'cv', epochs int DEFAULT 100,
                                   batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                                   patience int DEFAULT 15, seed int DEFAULT 42,
                                   class_weight text DEFAULT 'none',
                                   validation_fraction float8 DEFAULT 0.2, keep boolean DEFAULT false,
                                   operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL,
                                   augment text DEFAULT 'none')
RETURNS TABLE (figure text, mean float8, sd float8, per_fold float8[])
LANGUAGE plpgsql
AS $cv$
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    target_schema pg_catalog.text := pg_catalog.current_schema();
    class_names pg_catalog.text[] := ARRAY['N', 'S', 'V', 'F', 'Q'];
    figures pg_catalog.text[] := ARRAY['accuracy', 'macro_f1',
        'se_N', 'ppv_N', 'f1_N', 'se_S', 'ppv_S', 'f1_S', 'se_V', 'ppv_V', 'f1_V', 'se_F', 'ppv_F', 'f1_F'];
    recs pg_catalog.text[];
    rec_beats pg_catalog.int8[];
    rec_fold pg_catalog.int4[];
    fold_beats pg_catalog.int8[];
    source_classes pg_catalog.int2[];
    train_classes pg_catalog.int2[];
    plan pg_catalog.jsonb := '[]';
    test_recs pg_catalog.text[];
    train_recs pg_catalog.text[];
    val_recs pg_catalog.text[];
    val_beats pg_catalog.int8;
    total_beats pg_catalog.int8;
    vals pg_catalog.float8[];
    best pg_catalog.int4;
    c pg_catalog.int2;
    k pg_catalog.int4;
    i pg_catalog.int4;
    r pg_catalog.text;
    t pg_catalog.text;
    m_name pg_catalog.text;
    t_train pg_catalog.text;
    t_val pg_catalog.text;
    t_test pg_catalog.text;
    row_ pg_catalog.record;
    n_null pg_catalog.int8;
BEGIN
    IF source IS NULL OR folds IS NULL OR arch IS NULL OR prefix IS NULL OR epochs IS NULL
       OR batch_size IS NULL OR learning_rate IS NULL OR patience IS NULL OR seed IS NULL
       OR class_weight IS NULL OR validation_fraction IS NULL OR keep IS NULL
       OR operating_point IS NULL OR augment IS NULL THEN
        RAISE EXCEPTION 'ecg_cross_validate arguments must not be NULL' USING ERRCODE = '22004',
            HINT = 'Only features may be NULL (all eight R-R features of a model that takes them).';
    END IF;
    IF folds OPERATOR(pg_catalog.<) 2 THEN
        RAISE EXCEPTION 'cross-validation needs at least 2 folds' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('%s folds were asked for.', folds);
    END IF;
    IF prefix OPERATOR(pg_catalog.!~) '^[a-z_][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid cross-validation prefix "%"', prefix USING ERRCODE = '22023',
            HINT = 'Use lower-case letters, digits and underscores; tables and models are named after it.';
    END IF;
    IF NOT (validation_fraction OPERATOR(pg_catalog.>) 0 AND validation_fraction OPERATOR(pg_catalog.<) 1) THEN
        RAISE EXCEPTION 'validation_fraction must be between 0 and 1 (exclusive)' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('The value given was %s.', validation_fraction);
    END IF;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create the cross-validation''s tables in' USING ERRCODE = '3F000',
            HINT = 'Set search_path to a schema you may create tables in.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attname OPERATOR(pg_catalog.=) 'record'
                     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'source table "%" has no record column', source USING ERRCODE = '42809',
            HINT = 'Patient-wise folds need the record of every beat; ecg_import_wfdb''s tables have it.';
    END IF;
    -- the folds' tables are copies of the source's rows (CREATE TABLE AS): a
    -- column of a type some role defined could bring that role's casts, run
    -- with the caller's rights, so only built-in types are read
    IF EXISTS (SELECT FROM pg_catalog.pg_attribute a
               WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attnum OPERATOR(pg_catalog.>) 0
                 AND NOT a.attisdropped AND a.atttypid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid) THEN
        RAISE EXCEPTION 'source table "%" has a column of a type that is not built in', source USING ERRCODE = '42809',
            DETAIL = 'ecgdl reads only columns of built-in types: the casts and operators of a type a role defined would run with the rights of ecgdl''s caller.',
            HINT = 'Copy the data into a table whose columns have built-in types.';
    END IF;

    -- the records, shuffled by the seed, and their beats
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.array_agg(s.r ORDER BY pg_catalog.md5($1 OPERATOR(pg_catalog.||) s.r), s.r), '
        '       pg_catalog.array_agg(s.n ORDER BY pg_catalog.md5($1 OPERATOR(pg_catalog.||) s.r), s.r), '
        '       pg_catalog.count(*) FILTER (WHERE s.r IS NULL) '
        'FROM (SELECT t.record::pg_catalog.text AS r, pg_catalog.count(*) AS n FROM %s t GROUP BY 1) s', source)
        INTO recs, rec_beats, n_null USING pg_catalog.format('%s:', seed);
    IF n_null OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'source table "%" has beats without a record', source USING ERRCODE = '22023',
            DETAIL = 'Every beat must belong to a record (a patient) to put whole records into folds.';
    END IF;
    IF COALESCE(pg_catalog.cardinality(recs), 0) OPERATOR(pg_catalog.<) folds THEN
        RAISE EXCEPTION 'source table "%" has fewer records than folds', source USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('It has %s records; %s folds were asked for.',
                                       COALESCE(pg_catalog.cardinality(recs), 0), folds),
            HINT = 'Ask for at most as many folds as there are records.';
    END IF;
    EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(DISTINCT t.label ORDER BY t.label) FROM %s t', source)
        INTO source_classes;

    -- whole records into folds, each to the lightest fold so far
    fold_beats := pg_catalog.array_fill(0::pg_catalog.int8, ARRAY[folds]);
    rec_fold := '{}';
    FOR i IN 1 .. pg_catalog.cardinality(recs) LOOP
        best := 1;
        FOR k IN 2 .. folds LOOP
            IF fold_beats[k] OPERATOR(pg_catalog.<) fold_beats[best] THEN
                best := k;
            END IF;
        END LOOP;
        rec_fold := pg_catalog.array_append(rec_fold, best);
        fold_beats[best] := fold_beats[best] OPERATOR(pg_catalog.+) rec_beats[i];
    END LOOP;

    -- each fold's test, validation and training records, checked
    FOR k IN 1 .. folds LOOP
        test_recs := '{}';
        train_recs := '{}';
        total_beats := 0;
        FOR i IN 1 .. pg_catalog.cardinality(recs) LOOP
            IF rec_fold[i] OPERATOR(pg_catalog.=) k THEN
                test_recs := pg_catalog.array_append(test_recs, recs[i]);
            ELSE
                train_recs := pg_catalog.array_append(train_recs, recs[i]);
                total_beats := total_beats OPERATOR(pg_catalog.+) rec_beats[i];
            END IF;
        END LOOP;
        IF pg_catalog.cardinality(train_recs) OPERATOR(pg_catalog.<) 2 THEN
            RAISE EXCEPTION 'fold % has only one training record', k USING ERRCODE = '22023',
                DETAIL = 'Validation records are drawn from the training records, and at least one must be left to train on.',
                HINT = 'Use fewer folds, or a source with more records.';
        END IF;
        -- validation records: the training records shuffled again by the seed
        -- and the fold
        val_recs := '{}';
        val_beats := 0;
        FOR r IN SELECT u.r FROM pg_catalog.unnest(train_recs) u(r)
                 ORDER BY pg_catalog.md5(pg_catalog.format('%s:val%s:%s', seed, k, u.r)), u.r LOOP
            EXIT WHEN pg_catalog.cardinality(val_recs) OPERATOR(pg_catalog.>) 0
                 AND val_beats OPERATOR(pg_catalog.>=) (validation_fraction OPERATOR(pg_catalog.*) total_beats);
            EXIT WHEN pg_catalog.cardinality(val_recs) OPERATOR(pg_catalog.=)
                      (pg_catalog.cardinality(train_recs) OPERATOR(pg_catalog.-) 1);
            val_recs := pg_catalog.array_append(val_recs, r);
            val_beats := val_beats OPERATOR(pg_catalog.+) rec_beats[pg_catalog.array_position(recs, r)];
        END LOOP;
        SELECT pg_catalog.array_agg(u.r ORDER BY u.r) INTO train_recs
        FROM pg_catalog.unnest(train_recs) u(r) WHERE u.r OPERATOR(pg_catalog.<>) ALL (val_recs);
        EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(DISTINCT t.label ORDER BY t.label) FROM %s t '
                                  'WHERE t.record::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)', source)
            INTO train_classes USING train_recs;
        FOREACH c IN ARRAY source_classes LOOP
            IF NOT c OPERATOR(pg_catalog.=) ANY (COALESCE(train_classes, '{}')) THEN
                RAISE EXCEPTION 'fold % has no % beat to train on', k,
                    COALESCE(class_names[c OPERATOR(pg_catalog.+) 1], c::pg_catalog.text)
                    USING ERRCODE = '22023',
                    DETAIL = pg_catalog.format('Its training records are %s; the source has the class in other records.',
                                               pg_catalog.array_to_string(train_recs, ', ')),
                    HINT = 'Use fewer folds or another seed, or leave the class out of the source.';
            END IF;
        END LOOP;
        plan := plan OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
            'test', pg_catalog.to_jsonb(test_recs), 'val', pg_catalog.to_jsonb(val_recs),
            'train', pg_catalog.to_jsonb(train_recs)));
    END LOOP;

    -- names that fit and are free
    FOR k IN 1 .. folds LOOP
        FOREACH t IN ARRAY ARRAY[pg_catalog.format('%s_fold%s_train', prefix, k),
                                 pg_catalog.format('%s_fold%s_val', prefix, k),
                                 pg_catalog.format('%s_fold%s_test', prefix, k)] LOOP
            IF pg_catalog.octet_length(t) OPERATOR(pg_catalog.>) 63 THEN
                RAISE EXCEPTION 'cross-validation table name "%" is too long', t USING ERRCODE = '42622',
                    HINT = 'Use a shorter prefix.';
            END IF;
            IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t)) IS NOT NULL THEN
                RAISE EXCEPTION 'relation "%" already exists', t USING ERRCODE = '42P07',
                    HINT = 'Drop it, or choose another prefix.';
            END IF;
        END LOOP;
        m_name := pg_catalog.format('%s_fold%s', prefix, k);
        IF EXISTS (SELECT FROM ecgdl.models m WHERE m.name OPERATOR(pg_catalog.=) m_name) THEN
            RAISE EXCEPTION 'model "%" already exists', m_name USING ERRCODE = '42710',
                HINT = 'Drop it with ecg_model_drop, or choose another prefix.';
        END IF;
    END LOOP;

    -- the architecture and training arguments, with ecg_train's own checks
    PERFORM ecgdl.study_check(ARRAY[arch], epochs, batch_size, patience, seed, class_weight,
                              ARRAY(SELECT pg_catalog.format('%s_fold%s', prefix, g.k)
                                    FROM pg_catalog.generate_series(1, folds) g(k)), false);
    -- and the rest of ecg_train's checks (the learning rate, operating point,
    -- augmentation, features, the R-R columns a model needs), the source
    -- standing in for every fold's training and validation table
    PERFORM ecgdl.cross_validate_check(pg_catalog.format('%s_fold1', prefix), source, arch, source, epochs,
                                       batch_size, learning_rate, patience, seed, class_weight, false,
                                       0.3::pg_catalog.float8, operating_point, features, augment);

    -- the work: per fold, train on the training records, evaluate on the fold
    vals := pg_catalog.array_fill(NULL::pg_catalog.float8, ARRAY[folds, pg_catalog.cardinality(figures)]);
    FOR k IN 1 .. folds LOOP
        m_name := pg_catalog.format('%s_fold%s', prefix, k);
        t_train := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_train', prefix, k));
        t_val := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_val', prefix, k));
        t_test := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_test', prefix, k));
        FOREACH t IN ARRAY ARRAY['train', 'val', 'test'] LOOP
            EXECUTE pg_catalog.format('CREATE TABLE %s AS SELECT t.* FROM %s t '
                                      'WHERE t.record::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1) ORDER BY t.id',
                                      CASE t WHEN 'train' THEN t_train WHEN 'val' THEN t_val ELSE t_test END, source)
                USING ARRAY(SELECT pg_catalog.jsonb_array_elements_text(plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1)
                                                                         OPERATOR(pg_catalog.->) t));
        END LOOP;
        RAISE NOTICE 'cross-validation %: fold % of %: training % on records %, validating on %, testing on %',
            prefix, k, folds, m_name,
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'train') e),
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'val') e),
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'test') e);
        EXECUTE pg_catalog.format('SELECT %I.ecg_train($1::pg_catalog.text, $2::pg_catalog.regclass, '
                                  '$3::pg_catalog.text, $4::pg_catalog.regclass, $5::pg_catalog.int4, '
                                  '$6::pg_catalog.int4, $7::pg_catalog.float8, $8::pg_catalog.int4, '
                                  '$9::pg_catalog.int4, $10::pg_catalog.text, $11::pg_catalog.bool, '
                                  '$12::pg_catalog.float8, $13::pg_catalog.text, $14::pg_catalog.text[], '
                                  '$15::pg_catalog.text)', ext_schema)
            USING m_name, t_train::pg_catalog.regclass, arch, t_val::pg_catalog.regclass, epochs, batch_size,
                  learning_rate, patience, seed, class_weight, false, 0.3::pg_catalog.float8,
                  operating_point, features, augment;
        FOR row_ IN EXECUTE pg_catalog.format('SELECT e.class, e.se, e.ppv, e.f1 FROM %I.ecg_evaluate_ec57('
                                              '$1::pg_catalog.text, $2::pg_catalog.regclass, $3::pg_catalog.bool) e',
                                              ext_schema)
                USING m_name, t_test::pg_catalog.regclass, false LOOP
            IF row_.class OPERATOR(pg_catalog.=) 'macro' THEN
                vals[k][2] := row_.f1;
            ELSE
                i := pg_catalog.array_position(figures, pg_catalog.format('se_%s', row_.class));
                vals[k][i] := row_.se;
                vals[k][i OPERATOR(pg_catalog.+) 1] := row_.ppv;
                vals[k][i OPERATOR(pg_catalog.+) 2] := row_.f1;
            END IF;
        END LOOP;
        -- accuracy over all five classes, as ecg_evaluate reports it
        vals[k][1] := (SELECT e.accuracy FROM ecgdl.evaluations e
                       WHERE e.model_name OPERATOR(pg_catalog.=) m_name
                       ORDER BY e.id DESC LIMIT 1);
        IF NOT keep THEN
            EXECUTE pg_catalog.format('SELECT %I.ecg_model_drop($1::pg_catalog.text, $2::pg_catalog.bool)', ext_schema)
                USING m_name, false;
            EXECUTE pg_catalog.format('DROP TABLE %s, %s, %s', t_train, t_val, t_test);
        END IF;
    END LOOP;

    RETURN QUERY
        SELECT f.name, pg_catalog.avg(v.x), pg_catalog.stddev_samp(v.x),
               pg_catalog.array_agg(v.x ORDER BY v.k)
        FROM pg_catalog.unnest(figures) WITH ORDINALITY f(name, j)
        CROSS JOIN LATERAL (SELECT g.k, vals[g.k][f.j] AS x
                            FROM pg_catalog.generate_series(1, folds) g(k)) v
        GROUP BY f.name, f.j ORDER BY f.j;
END
$cv$;
COMMENT ON FUNCTION ecg_cross_validate(regclass, int, text, text, int, int, float8, int, int, text, float8, boolean, text, text[], text) IS
'Patient-wise k-fold cross-validation: whole records into folds balanced by beats, a model per fold trained on the other folds (validation records drawn from them; operating point, R-R features and augmentation as ecg_train takes them) and evaluated on its records as EC57 does; mean, sample SD and per-fold value of accuracy, macro F1 (N, S, V, F) and Se, +P, F1 per class';
