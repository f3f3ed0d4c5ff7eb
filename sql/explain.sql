-- Why this class? ecg_explain / ecg_explain_beat (per-sample attributions)
-- and ecg_explain_details / ecg_explain_beat_details (with the class, its
-- logit at the beat and at the baseline, the beat flattened to its median).
-- Uses tr_cnn, tr_baseline and tr_test of train / classify; trains a small
-- baseline_rr model for the beat-row forms.  The numerics (PyTorch agreement,
-- completeness on every architecture) are checked in test/core/test_nn_explain.c.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

CREATE TABLE ex_beats AS SELECT id, signal FROM tr_test ORDER BY id LIMIT 12;

-- the hint of an error (regress_error shows SQLSTATE, message and detail)
CREATE FUNCTION ex_hint(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN hint;
END $$;

-- 1. One attribution per sample, the same on every call, and per model
SELECT count(*) AS beats,
       bool_and(array_length(ecg_explain('tr_cnn', signal), 1) = 187) AS cnn_187,
       bool_and(array_length(ecg_explain('tr_baseline', signal), 1) = 187) AS baseline_187,
       bool_and(ecg_explain('tr_cnn', signal) = ecg_explain('tr_cnn', signal)) AS deterministic,
       bool_and(ecg_explain('tr_cnn', signal) <> ecg_explain('tr_baseline', signal)) AS per_model,
       bool_and((SELECT bool_and(a IS NOT NULL AND a <> 'NaN') AND count(*) FILTER (WHERE a <> 0) > 100
                 FROM unnest(ecg_explain('tr_cnn', signal)) a)) AS finite_and_informative
FROM ex_beats;

-- a beat zero-padded to the model input (200 samples): 200 attributions, the
-- padding's are 0 (the baseline keeps the padding's 0), the others those of
-- the 187
SELECT array_length(p, 1) AS padded_length,
       p[188:200] = array_fill(0::real, ARRAY[13]) AS padding_zero,
       p[1:187] = ecg_explain('tr_cnn', signal) AS same_as_unpadded
FROM (SELECT signal, ecg_explain('tr_cnn', signal || array_fill(0::real, ARRAY[13])) AS p
      FROM ex_beats ORDER BY id LIMIT 1) t;

-- the baseline is the beat flattened to its median: a flat beat, at any
-- level, is its own baseline and has nothing to attribute; a sample at the
-- median gets nothing
SELECT ecg_explain('tr_cnn', array_fill(0::real, ARRAY[187])) = array_fill(0::real, ARRAY[187]) AS zero_beat,
       ecg_explain('tr_cnn', array_fill(0.4::real, ARRAY[187])) = array_fill(0::real, ARRAY[187]) AS flat_beat,
       (SELECT bool_and(a = 0) FROM unnest(signal, ecg_explain('tr_cnn', signal)) u(v, a)
        WHERE v = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY w) FROM unnest(signal) w)) AS median_samples
FROM ex_beats ORDER BY id LIMIT 1;

-- 2. The class explained is the class predicted, and completeness: the
-- attributions add up to the logit's rise from the baseline, within 1 % of it
-- (64 midpoint steps; relative, with a floor of 0.1 logits)
SELECT m.model,
       bool_and(d.class = ecg_classify(m.model, b.signal)) AS predicted_class_explained,
       bool_and(d.attributions = ecg_explain(m.model, b.signal)) AS same_attributions,
       bool_and(d.score IS NOT NULL AND d.baseline_score IS NOT NULL) AS scores,
       max(abs(s.total - (d.score - d.baseline_score)) / greatest(abs(d.score - d.baseline_score), 0.1)) < 0.01
         AS complete_within_1pct
FROM (VALUES ('tr_cnn'), ('tr_baseline')) m(model)
CROSS JOIN ex_beats b
CROSS JOIN LATERAL ecg_explain_details(m.model, b.signal) d
CROSS JOIN LATERAL (SELECT sum(a::float8) AS total FROM unnest(d.attributions) a) s
GROUP BY m.model ORDER BY m.model;

-- 3. The picture: ecg_plot_beat shades the samples by their attribution
SELECT xml_is_well_formed_document(s) AS well_formed,
       (xpath('count(//s:g[@class="shading"]/s:rect)', s::xml,
              ARRAY[ARRAY['s', 'http://www.w3.org/2000/svg']]))[1]::text::int > 100 AS shaded_samples
FROM (SELECT ecg_plot_beat(signal, shading => ecg_explain('tr_cnn', signal)) AS s
      FROM ex_beats ORDER BY id LIMIT 1) t;

-- 4. Beat rows: a model with R-R features explains a row (its rr_* columns
-- held fixed); a plain model explains a row as its signal
SELECT ecg_import_wfdb(:'fixtures', 'ex_rr_beats', ARRAY['syn1']) > 0 AS imported;
SELECT ecg_train('ex_rr', 'ex_rr_beats', 'baseline_rr', epochs => 1, batch_size => 32, seed => 3) > 0 AS trained;
SELECT count(*) > 0 AS rows,
       bool_and(array_length(ecg_explain_beat('ex_rr', b), 1) = 187) AS rr_187,
       bool_and(d.class = ecg_classify_beat('ex_rr', b)) AS predicted_class_explained,
       bool_and(d.attributions = ecg_explain_beat('ex_rr', b)) AS same_attributions,
       max(abs(s.total - (d.score - d.baseline_score)) / greatest(abs(d.score - d.baseline_score), 0.1)) < 0.01
         AS complete_within_1pct,
       bool_and(ecg_explain_beat('tr_cnn', b) = ecg_explain('tr_cnn', b.signal)) AS plain_model_row
FROM (SELECT * FROM ex_rr_beats ORDER BY id LIMIT 8) b
CROSS JOIN LATERAL ecg_explain_beat_details('ex_rr', b) d
CROSS JOIN LATERAL (SELECT sum(a::float8) AS total FROM unnest(d.attributions) a) s;
-- other R-R features, another explanation (the features take part)
SELECT ecg_explain_beat('ex_rr', b) <> ecg_explain_beat('ex_rr', c) AS features_matter
FROM (SELECT * FROM ex_rr_beats ORDER BY id LIMIT 1) b,
     LATERAL (SELECT b.signal, b.rr_pre, (b.rr_post * 2)::real AS rr_post, b.rr_local, b.rr_record,
                     b.rr_pre_local, b.rr_post_local, b.rr_pre_record, b.rr_post_record) c;

-- 5. Bad input, each with its SQLSTATE
SELECT regress_error($$SELECT ecg_explain(NULL, signal) FROM ex_beats LIMIT 1$$) AS null_model;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', NULL)$$) AS null_signal;
SELECT regress_error($$SELECT ecg_explain_beat('tr_cnn', NULL::ex_beats)$$) AS null_row;
SELECT regress_error($$SELECT ecg_explain_details('tr_cnn', NULL)$$) AS null_signal_details;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', ARRAY[]::real[])$$) AS empty;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', array_fill(0.5::real, ARRAY[186]))$$) AS wrong_length;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', array_fill(0.5::real, ARRAY[201]))$$) AS too_long;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', array_fill(0.5::real, ARRAY[2, 187]))$$) AS two_dimensions;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', array_fill(0.5::real, ARRAY[186]) || 'NaN'::real)$$) AS nan;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', 'Infinity'::real || array_fill(0.5::real, ARRAY[186]))$$) AS inf;
SELECT regress_error($$SELECT ecg_explain('tr_cnn', array_fill(0.5::real, ARRAY[186]) || NULL::real)$$) AS null_sample;
SELECT regress_error($$SELECT ecg_explain('no_such_model', signal) FROM ex_beats LIMIT 1$$) AS unknown_model;
SELECT regress_error($$SELECT ecg_explain_details('no_such_model', signal) FROM ex_beats LIMIT 1$$) AS unknown_model_details;
SELECT regress_error($$SELECT ecg_explain(repeat('m', 256), signal) FROM ex_beats LIMIT 1$$) AS long_name;
-- a model with R-R features given a bare signal: refused, the hint names the row forms
SELECT regress_error($$SELECT ecg_explain('ex_rr', signal) FROM ex_beats LIMIT 1$$) AS rr_bare_signal,
       ex_hint($$SELECT ecg_explain('ex_rr', signal) FROM ex_beats LIMIT 1$$) AS hint;
SELECT regress_error($$SELECT ecg_explain_details('ex_rr', signal) FROM ex_beats LIMIT 1$$) AS rr_bare_signal_details;
-- ... or a row without the rr_* columns
SELECT regress_error($$SELECT ecg_explain_beat('ex_rr', b) FROM ex_beats b LIMIT 1$$) AS rr_row_without_rr;
SELECT regress_error($$SELECT ecg_explain_beat('tr_cnn', r) FROM (SELECT 1 AS id) r$$) AS row_without_signal;

-- 6. Another role: explains as it classifies (the functions are PUBLIC and
-- read the model store as ecg_classify does)
CREATE ROLE regress_ex_other;
GRANT SELECT ON ex_beats TO regress_ex_other;
SET ROLE regress_ex_other;
SELECT (SELECT ecg_classify('tr_cnn', signal) FROM ex_beats ORDER BY id LIMIT 1) =
       (SELECT (ecg_explain_details('tr_cnn', signal)).class FROM ex_beats ORDER BY id LIMIT 1) AS other_role_explains,
       regress_error($$SELECT ecg_explain('no_such_model', signal) FROM ex_beats LIMIT 1$$) AS other_role_unknown;
RESET ROLE;
REVOKE SELECT ON ex_beats FROM regress_ex_other;
DROP ROLE regress_ex_other;

SELECT ecg_model_drop('ex_rr') AS dropped;
DROP TABLE ex_beats, ex_rr_beats;
DROP FUNCTION ex_hint(text);
