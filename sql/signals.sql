-- signals: signal tables, QRS detection and its evaluation, beats cut from
-- signals (reference or detected positions), the rhythm summary; on a
-- synthetic ECG made here in SQL and on the WFDB fixtures.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = notice;

-- A synthetic ECG in mV: per beat of rr seconds a P wave, an R peak 0.25 s
-- into the beat, an S dip, a T wave, plus slow baseline wander.
CREATE FUNCTION sg_bump(t float8, centre float8, width float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$ SELECT exp(-least(((t - centre) / width) ^ 2, 500)) $$;
CREATE FUNCTION sg_ecg(i bigint, fs float8, rr float8) RETURNS real
LANGUAGE sql IMMUTABLE AS $$
    SELECT (1.4 * sg_bump(ph, 0.25, 0.012) - 0.25 * sg_bump(ph, 0.27, 0.012)
            + 0.12 * sg_bump(ph, 0.10, 0.03) + 0.30 * sg_bump(ph, 0.55, 0.06)
            + 0.10 * sin(2 * pi() * i / fs * 0.2))::real
    FROM (SELECT (i / fs) - floor(i / fs / rr) * rr AS ph) s
$$;
-- sg_chunks(record, lead, fs, rr, seconds, chunk): the rows of one lead
CREATE FUNCTION sg_chunks(record text, lead text, fs float8, rr float8, seconds int, chunk int)
RETURNS TABLE (record text, lead text, fs float8, start_sample bigint, samples real[])
LANGUAGE sql AS $$
    SELECT record, lead, fs, min(i), array_agg(sg_ecg(i, fs, rr) ORDER BY i)
    FROM generate_series(0::bigint, (seconds * fs)::bigint - 1) i
    GROUP BY i / chunk
$$;
-- record a: 60 s at 360 Hz (R peaks at 90 + 288 k), leads MLII and V1 (V1 is
-- MLII upside down); record b: 40 s at 250 Hz, lead II only (R peaks at 62.5 + 150 k)
CREATE TABLE sg_sig (record text, lead text, fs float8, start_sample bigint, samples real[],
                     PRIMARY KEY (record, lead, start_sample));
INSERT INTO sg_sig SELECT * FROM sg_chunks('a', 'MLII', 360, 0.8, 60, 3600);
INSERT INTO sg_sig SELECT record, 'V1', fs, start_sample, (SELECT array_agg(-v) FROM unnest(samples) v)
FROM sg_chunks('a', 'MLII', 360, 0.8, 60, 3600);
INSERT INTO sg_sig SELECT * FROM sg_chunks('b', 'II', 250, 0.6, 40, 2500);
SELECT record, lead, fs, count(*) AS chunks, sum(array_length(samples, 1)) AS samples
FROM sg_sig GROUP BY 1, 2, 3 ORDER BY 1, 2;

-- 1. ecg_detect_qrs on one array --------------------------------------------------
-- every R peak found within 2 samples, none extra
SELECT count(*) AS peaks, max(abs(p - (90 + 288 * (k - 1)))) AS max_error_samples
FROM unnest(ecg_detect_qrs((SELECT array_agg(sg_ecg(i, 360, 0.8) ORDER BY i)
                            FROM generate_series(0::bigint, 21599) i), 360)) WITH ORDINALITY AS d(p, k);
SELECT ecg_detect_qrs(NULL, 360) IS NULL AS strict_null, ecg_detect_qrs('{1,2,3}', NULL) IS NULL AS strict_null_fs;
SELECT ecg_detect_qrs(array_fill(0::real, ARRAY[3600]), 360) AS flat_line;
-- constant offsets give no beats at any rate (the filters' rounding residue once made one at
-- sample 0 here), nor does a minute of faint white noise (0.05 mV, under the detector's floor)
SELECT ecg_detect_qrs(array_fill(0.5::real, ARRAY[3600]), 360) AS offset_360,
       ecg_detect_qrs(array_fill(0.1::real, ARRAY[3600]), 360) AS offset_small,
       ecg_detect_qrs(array_fill(1.5::real, ARRAY[2500]), 250) AS offset_250,
       ecg_detect_qrs(array_fill(-3.7::real, ARRAY[1000]), 100) AS offset_100,
       ecg_detect_qrs(array_fill(2.0::real, ARRAY[10000]), 1000) AS offset_1000;
SELECT setseed(0.42) IS NOT NULL AS seeded;
SELECT cardinality(ecg_detect_qrs(array_agg((0.05 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::real),
                                  360)) AS beats_in_faint_noise
FROM generate_series(1, 21600);
-- bad input: rates outside 100..1000 Hz, NaN/Inf rate, NaN and NULL samples, empty and 2-D arrays
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', 0)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', -360)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', 99.9)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', 1000.5)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', 'NaN')$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,3}', 'Infinity')$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,NaN,4}', 360)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,2,-Infinity,4}', 360)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{1,NULL,3}', 360)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{}', 360)$$);
SELECT regress_error($$SELECT ecg_detect_qrs('{{1,2},{3,4}}', 360)$$);

-- 2. ecg_detect_beats: a signal table into an annotation table --------------------
SELECT ecg_detect_beats('sg_sig', 'sg_det');
\d sg_det
SELECT record, count(*) AS beats, min(sample) AS first, max(sample) AS last, min(fs) AS fs,
       bool_and(symbol IS NULL AND subtype IS NULL AND label IS NULL) AS unlabelled,
       max(abs(sample - CASE record WHEN 'a' THEN 90 + 288 * (rn - 1) ELSE round(62.5 + 150 * (rn - 1)) END)) AS max_error
FROM (SELECT *, row_number() OVER (PARTITION BY record ORDER BY sample) AS rn FROM sg_det) d
GROUP BY record ORDER BY record;
-- the same beats as the one-array function, whatever the chunk size (7 s, one row, 1 s chunks)
SELECT (SELECT array_agg(sample ORDER BY sample) FROM sg_det WHERE record = 'a') =
       ecg_detect_qrs((SELECT array_agg(sg_ecg(i, 360, 0.8) ORDER BY i) FROM generate_series(0::bigint, 21599) i), 360)
       AS same_as_array;
CREATE TABLE sg_sig_7 AS SELECT * FROM sg_chunks('a', 'MLII', 360, 0.8, 60, 2520);
CREATE TABLE sg_sig_1 AS SELECT * FROM sg_chunks('a', 'MLII', 360, 0.8, 60, 21600);
CREATE TABLE sg_sig_360 AS SELECT * FROM sg_chunks('a', 'MLII', 360, 0.8, 60, 360);
SELECT ecg_detect_beats('sg_sig_7', 'sg_det_7'), ecg_detect_beats('sg_sig_1', 'sg_det_1'),
       ecg_detect_beats('sg_sig_360', 'sg_det_360');
SELECT (SELECT array_agg(sample ORDER BY sample) FROM sg_det_7) = (SELECT array_agg(sample ORDER BY sample) FROM sg_det WHERE record = 'a')
   AND (SELECT array_agg(sample ORDER BY sample) FROM sg_det_1) = (SELECT array_agg(sample ORDER BY sample) FROM sg_det_7)
   AND (SELECT array_agg(sample ORDER BY sample) FROM sg_det_360) = (SELECT array_agg(sample ORDER BY sample) FROM sg_det_7)
   AS chunk_size_invariant;
-- another lead by name; a lead no record has: each record's first lead by name, with a NOTICE
SELECT ecg_detect_beats('sg_sig', 'sg_det_v1', 'V1');
SELECT ecg_detect_beats('sg_sig', 'sg_det_x', 'aVF');
SELECT record, count(*) FROM sg_det_x GROUP BY 1 ORDER BY 1;

-- bad signal tables: each error names the record, the lead and the sample
CREATE FUNCTION sg_bad(name text, fix text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I', name);
    EXECUTE format('CREATE TABLE %I AS SELECT * FROM sg_chunks(''a'', ''MLII'', 360, 0.8, 10, 900)', name);
    EXECUTE replace(fix, '$t', quote_ident(name));
    RETURN regress_error(format('SELECT ecg_detect_beats(%L, %L)', name, name || '_out'));
END $$;
SELECT sg_bad('sg_gap', 'DELETE FROM $t WHERE start_sample = 1800');
SELECT sg_bad('sg_late', 'DELETE FROM $t WHERE start_sample = 0');
SELECT sg_bad('sg_overlap', 'UPDATE $t SET start_sample = 1700 WHERE start_sample = 1800');
SELECT sg_bad('sg_dup', 'INSERT INTO $t SELECT * FROM $t WHERE start_sample = 900');
SELECT sg_bad('sg_mixed', 'UPDATE $t SET fs = 250 WHERE start_sample = 2700');
SELECT sg_bad('sg_nan', 'UPDATE $t SET samples[5] = ''NaN'' WHERE start_sample = 900');
SELECT sg_bad('sg_inf', 'UPDATE $t SET samples[900] = ''Infinity'' WHERE start_sample = 2700');
SELECT sg_bad('sg_empty', 'UPDATE $t SET samples = ''{}'' WHERE start_sample = 900');
SELECT sg_bad('sg_2d', 'UPDATE $t SET samples = ARRAY[samples[1:2], samples[3:4]] WHERE start_sample = 900');
SELECT sg_bad('sg_null_elem', 'UPDATE $t SET samples[3] = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_null_samples', 'UPDATE $t SET samples = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_null_fs', 'UPDATE $t SET fs = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_null_start', 'UPDATE $t SET start_sample = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_null_record', 'UPDATE $t SET record = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_null_lead', 'UPDATE $t SET lead = NULL WHERE start_sample = 900');
SELECT sg_bad('sg_neg_start', 'UPDATE $t SET start_sample = -900 WHERE start_sample = 0');
SELECT sg_bad('sg_zero_fs', 'UPDATE $t SET fs = 0');
SELECT sg_bad('sg_nan_fs', 'UPDATE $t SET fs = ''NaN''');
SELECT sg_bad('sg_slow', 'UPDATE $t SET fs = 50');
SELECT sg_bad('sg_fast', 'UPDATE $t SET fs = 2000');
SELECT sg_bad('sg_none', 'DELETE FROM $t');
SELECT sg_bad('sg_no_fs', 'ALTER TABLE $t DROP COLUMN fs');
SELECT regress_error($$SELECT ecg_detect_beats('sg_sig', 'sg_det')$$);
SELECT regress_error($$SELECT ecg_detect_beats('sg_sig', 'sg_x', NULL)$$);
SELECT regress_error($$SELECT ecg_detect_beats(NULL, 'sg_x')$$);
SELECT regress_error($$SELECT ecg_detect_beats('sg_sig', NULL)$$);
SELECT regress_error($$SELECT ecg_detect_beats('pg_class', 'sg_x')$$);
-- nothing was left behind by the failed calls
SELECT count(*) AS leftovers FROM pg_class WHERE relname LIKE 'sg\_%\_out' OR relname = 'sg_x';
-- a client's own columns may be of other numeric types: they are cast
CREATE TABLE sg_int_cols AS SELECT record, lead, fs::int AS fs, start_sample::int AS start_sample,
                                   samples::float8[] AS samples FROM sg_sig WHERE record = 'b';
SELECT ecg_detect_beats('sg_int_cols', 'sg_det_int');
SELECT (SELECT array_agg(sample ORDER BY sample) FROM sg_det_int) =
       (SELECT array_agg(sample ORDER BY sample) FROM sg_det WHERE record = 'b') AS same_beats;

-- 3. ecg_qrs_evaluate (EC57 / bxb) --------------------------------------------------
-- reference: the true R peaks, plus non-beat annotations that are not compared
CREATE TABLE sg_ref AS
SELECT 'a'::text AS record, 90 + 288 * k AS sample, 'N'::text AS symbol, NULL::smallint AS subtype,
       0::smallint AS label, 360::float8 AS fs FROM generate_series(0, 74) k
UNION ALL SELECT 'a', 100 + 288 * k, '+', NULL, NULL, 360 FROM generate_series(0, 74, 10) k
UNION ALL SELECT 'b', round(62.5 + 150 * k), 'N', NULL, 0, 250 FROM generate_series(0, 66) k;
SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref', learning_period_s => 0);
-- a missed beat and an extra detection; the first 20 s as the learning period
CREATE TABLE sg_det_bad AS SELECT record, sample, fs FROM sg_det WHERE sample <> 90 + 288 * 50
UNION ALL SELECT 'a', 90 + 288 * 60 + 144, 360;
SELECT * FROM ecg_qrs_evaluate('sg_det_bad', 'sg_ref', 150, 20);
-- a tighter window: detections 2 samples off still match at 10 ms (3.6 samples), not at 1 ms
CREATE TABLE sg_det_off AS SELECT record, sample + 2 AS sample, fs FROM sg_det;
SELECT record, tp, fn, fp FROM ecg_qrs_evaluate('sg_det_off', 'sg_ref', 10, 0);
SELECT record, tp, fn, fp FROM ecg_qrs_evaluate('sg_det_off', 'sg_ref', 1, 0);
-- a ventricular flutter episode [ ... ] in the reference excludes what lies inside
INSERT INTO sg_ref VALUES ('a', 90 + 288 * 30 - 10, '[', NULL, NULL, 360), ('a', 90 + 288 * 35 + 10, ']', NULL, NULL, 360);
SELECT record, tp, fn, fp FROM ecg_qrs_evaluate('sg_det_bad', 'sg_ref', 150, 0) WHERE record = 'a';
DELETE FROM sg_ref WHERE symbol IN ('[', ']');
-- stored, with the caller as owner
SELECT detected_table, reference_table, window_ms, learning_period_s, records, tp, fn, fp,
       round(se::numeric, 3) AS se, round(ppv::numeric, 3) AS ppv, owner, per_record -> 'a' AS a
FROM ecgdl.qrs_evaluations ORDER BY id;
SELECT has_table_privilege('public', 'ecgdl.qrs_evaluations', 'INSERT') AS public_may_insert,
       has_table_privilege('public', 'ecgdl.qrs_evaluations', 'DELETE') AS public_may_delete,
       has_table_privilege('public', 'ecgdl.qrs_evaluations', 'SELECT') AS public_may_read;
-- bad input
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref', 0)$$);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref', 'NaN')$$);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref', 150, -1)$$);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref', NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate(NULL, 'sg_ref')$$);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_sig')$$);
CREATE TABLE sg_ref_nofs AS SELECT record, sample, symbol FROM sg_ref;
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref_nofs')$$);
CREATE TABLE sg_ref_250 AS SELECT record, sample, symbol, 250::float8 AS fs FROM sg_ref;
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_ref_250')$$);
CREATE TABLE sg_empty_ref (record text, sample bigint, fs float8);
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_det', 'sg_empty_ref')$$);
CREATE TABLE sg_null_sample AS SELECT record, sample, fs FROM sg_det UNION ALL SELECT 'a', NULL, 360;
SELECT regress_error($$SELECT * FROM ecg_qrs_evaluate('sg_null_sample', 'sg_ref')$$);
SELECT count(*) AS evaluations_stored FROM ecgdl.qrs_evaluations;
-- the owner drops some of them by detected table
SELECT ecg_qrs_evaluations_drop('public.sg_det_off') AS dropped;
SELECT count(*) AS evaluations_left FROM ecgdl.qrs_evaluations;

-- 4. WFDB records: signals and annotations as tables ----------------------------------
SELECT ecg_import_wfdb_signals(:'fixtures', 'sg_wfdb', chunk_seconds => 7);
SELECT record, lead, fs, count(*) AS chunks, sum(array_length(samples, 1)) AS samples,
       min(array_length(samples, 1)) AS last_chunk
FROM sg_wfdb GROUP BY 1, 2, 3 ORDER BY 1, 2;
-- physical units: (adc - baseline) / gain of the MLII lead of syn1, here its first samples
SELECT samples[1:4] FROM sg_wfdb WHERE record = 'syn1' AND lead = 'MLII' AND start_sample = 0;
SELECT ecg_import_wfdb_signals(:'fixtures', 'sg_wfdb_v5', ARRAY['syn16', 'synv5'], ARRAY['V5']);
SELECT record, lead, count(*) FROM sg_wfdb_v5 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, ARRAY[%L], ARRAY[%L])', :'fixtures', 'sg_x', 'syn1', 'V5'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, ARRAY[%L])', :'fixtures', 'sg_x', 'nosuch'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, ARRAY[%L])', :'fixtures', 'sg_x', 'bad_trunc'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, chunk_seconds => 0)', :'fixtures', 'sg_x'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, chunk_seconds => 3601)', :'fixtures', 'sg_x'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, chunk_seconds => NULL)', :'fixtures', 'sg_x'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, leads => %L)', :'fixtures', 'sg_x', '{}'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L, leads => %L)', :'fixtures', 'sg_x', '{MLII,NULL}'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L)', :'fixtures', 'sg_wfdb'));
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(NULL, %L)', 'sg_x'));

SELECT ecg_import_annotations(:'fixtures', 'sg_ann');
\d sg_ann
SELECT record, count(*) AS annotations, count(label) AS aami_beats, min(fs) AS fs,
       string_agg(DISTINCT symbol, '' ORDER BY symbol) AS symbols
FROM sg_ann GROUP BY 1 ORDER BY 1;
SELECT symbol, subtype, label FROM sg_ann WHERE record = 'syn1' AND symbol IN ('~', '!', 'V', 'A') GROUP BY 1, 2, 3 ORDER BY 1, 2;
SELECT regress_error(format('SELECT ecg_import_annotations(%L, %L, ARRAY[%L])', :'fixtures', 'sg_x', 'noatr'));
SELECT regress_error(format('SELECT ecg_import_annotations(%L, %L, ARRAY[%L])', :'fixtures', 'sg_x', 'bad_atr'));
SELECT regress_error(format('SELECT ecg_import_annotations(%L, %L, ARRAY[%L])', :'fixtures', 'sg_x', 'nosuch'));
SELECT regress_error(format('SELECT ecg_import_annotations(%L, NULL)', :'fixtures'));

-- 5. Beats from signals -------------------------------------------------------------
-- at the reference annotations: the very beat table of ecg_import_wfdb (each
-- record's MLII, synv5's first lead V5 as there), signals equal
SELECT ecg_import_wfdb(:'fixtures', 'sg_wfdb_beats');
SELECT ecg_import_wfdb_signals(:'fixtures', 'sg_wfdb_mv', leads => ARRAY['MLII', 'V5']);
SELECT ecg_beats_from_signals('sg_wfdb_mv', 'sg_ann', 'sg_cut');
\d sg_cut
SELECT count(*) AS beats,
       count(*) FILTER (WHERE a.record IS DISTINCT FROM b.record OR a.sample IS DISTINCT FROM b.sample
                        OR a.symbol IS DISTINCT FROM b.symbol OR a.label IS DISTINCT FROM b.label) AS differing_rows,
       max((SELECT max(abs(x - y)) FROM unnest(a.signal, b.signal) u(x, y))) AS max_signal_difference
FROM sg_wfdb_beats a FULL JOIN sg_cut b USING (id);
SELECT record, min(fs), max(fs) FROM sg_cut GROUP BY 1 ORDER BY 1;
-- at detected positions: unlabelled beats
SELECT ecg_detect_beats('sg_wfdb_mv', 'sg_wfdb_det');
SELECT ecg_beats_from_signals('sg_wfdb_mv', 'sg_wfdb_det', 'sg_cut_det');
SELECT record, count(*) AS beats, count(label) AS labelled, count(symbol) AS with_symbol,
       bool_and(array_length(signal, 1) = 187) AS full_length
FROM sg_cut_det GROUP BY 1 ORDER BY 1;
-- (the beat of syn1 annotated after the end of its signal is the one false negative)
SELECT record, tp, fn, fp FROM ecg_qrs_evaluate('sg_wfdb_det', 'sg_ann', 150, 0);
-- classification accepts them; evaluation and training refuse them
SELECT count(*) AS classified, count(DISTINCT id) = count(*) AS one_row_each
FROM ecg_classify_table('tr_baseline', 'sg_cut_det');
SELECT regress_error($$SELECT * FROM ecg_evaluate('tr_baseline', 'sg_cut_det')$$);
SELECT regress_error($$SELECT ecg_train('sg_model', 'sg_cut_det', 'baseline', epochs => 1)$$);
-- the synthetic table with its own reference
SELECT ecg_beats_from_signals('sg_sig', 'sg_ref', 'sg_cut_syn');
SELECT record, count(*), min(label), max(label), min(fs) FROM sg_cut_syn GROUP BY 1 ORDER BY 1;
-- records in only one of the two tables are named
CREATE TABLE sg_ref_c AS SELECT * FROM sg_ref WHERE record = 'a' UNION ALL SELECT 'c', 100, 'N', NULL, 0, 360;
SELECT ecg_beats_from_signals('sg_sig', 'sg_ref_c', 'sg_cut_c');
-- bad input
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_sig', 'sg_ref', 'sg_cut')$$);
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_sig', 'sg_sig', 'sg_x')$$);
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_ref', 'sg_ref', 'sg_x')$$);
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_gap', 'sg_ref', 'sg_x')$$);
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_sig', 'sg_ref', 'sg_x', NULL)$$);
CREATE TABLE sg_ref_label AS SELECT record, sample, 7::smallint AS label FROM sg_ref;
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_sig', 'sg_ref_label', 'sg_x')$$);
SELECT regress_error($$SELECT ecg_beats_from_signals('sg_sig', 'sg_null_sample', 'sg_x')$$);
SELECT count(*) AS leftovers FROM pg_class WHERE relname = 'sg_x';

-- 6. The rhythm summary -----------------------------------------------------------------
-- a hand-made record at 100 Hz, one beat a second but a 2.5 s pause: V
-- isolated, a couplet, runs of 3 and 5; S a couplet and a run of 4; an
-- unlabelled beat (label NULL) ends a run; non-beat rows ('+') are left out
CREATE TABLE sg_rhythm AS
SELECT 'r'::text AS record, 100 * k + CASE WHEN k >= 20 THEN 150 ELSE 0 END AS sample,
       CASE WHEN c = '?' THEN 'Q' ELSE c END AS symbol,
       CASE c WHEN 'N' THEN 0 WHEN 'S' THEN 1 WHEN 'V' THEN 2 ELSE NULL END::smallint AS label,
       100::float8 AS fs
FROM unnest(string_to_array('NVNVVNVVVNVVVVVNSSNSSSS?SNNNNNNNNN', NULL)) WITH ORDINALITY AS u(c, k)
UNION ALL SELECT 'r', 250, '+', NULL, 100;
SELECT * FROM ecg_rhythm_summary('sg_rhythm');
-- from the synthetic reference and detections; from a beat table with a model
SELECT record, round(duration_s::numeric, 3) AS duration_s, beats, round(mean_hr::numeric, 2) AS mean_hr,
       round(min_hr::numeric, 2) AS min_hr, round(max_hr::numeric, 2) AS max_hr, pauses
FROM ecg_rhythm_summary('sg_ref') ORDER BY record;
SELECT record, beats, round(mean_hr::numeric, 2) AS mean_hr FROM ecg_rhythm_summary('sg_det') ORDER BY record;
SELECT record, beats, s_beats + v_beats <= beats AS classes_counted
FROM ecg_rhythm_summary('sg_cut_det', 'tr_baseline') ORDER BY record;
-- a beat table without fs (ecg_import_wfdb's) needs the rate
SELECT record, beats, v_beats FROM ecg_rhythm_summary('sg_wfdb_beats', fs => 360) WHERE record = 'syn1';
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_wfdb_beats')$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_rhythm', fs => 0)$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_cut_det', 'no_such_model')$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_rhythm', 'tr_baseline')$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary(NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_empty_ref')$$);
CREATE TABLE sg_rhythm_dup AS SELECT * FROM sg_rhythm UNION ALL SELECT 'r', 300, 'N', 0, 100;
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_rhythm_dup')$$);
SELECT regress_error($$SELECT * FROM ecg_rhythm_summary('sg_ref_label')$$);

-- 7. Privileges: reading server files is not for PUBLIC --------------------------------
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_call
FROM pg_proc p WHERE p.proname IN ('ecg_import_wfdb_signals', 'ecg_import_annotations', 'ecg_detect_qrs',
                                   'ecg_detect_beats', 'ecg_beats_from_signals', 'ecg_qrs_evaluate',
                                   'ecg_qrs_evaluations_drop', 'ecg_rhythm_summary')
ORDER BY 1;
CREATE ROLE regress_sg_user;
GRANT SELECT ON sg_sig, sg_det, sg_ref TO regress_sg_user;
SET ROLE regress_sg_user;
-- a user without INSERT on ecgdl.qrs_evaluations still stores evaluations, as themself
SELECT record, tp, fn, fp FROM ecg_qrs_evaluate('sg_det', 'sg_ref', 150, 0) WHERE record = 'gross';
SELECT owner, detected_table FROM ecgdl.qrs_evaluations ORDER BY id DESC LIMIT 1;
SELECT regress_error(format('SELECT ecg_import_wfdb_signals(%L, %L)', current_setting('regress.fixtures'), 'sg_x'));
SELECT regress_error(format('SELECT ecg_import_annotations(%L, %L)', current_setting('regress.fixtures'), 'sg_x'));
SELECT regress_error($$INSERT INTO ecgdl.qrs_evaluations (detected_table, reference_table, window_ms, learning_period_s,
    records, tp, fn, fp, per_record) VALUES ('x', 'y', 150, 300, 1, 1, 0, 0, '{}')$$);
SELECT count(*) AS rows_visible FROM ecgdl.qrs_evaluations;
-- no direct DELETE either; ecg_qrs_evaluations_drop deletes one's own rows only
SELECT regress_error($$DELETE FROM ecgdl.qrs_evaluations$$);
SELECT ecg_qrs_evaluations_drop('public.sg_sig') AS dropped_none, ecg_qrs_evaluations_drop() AS dropped_own;
RESET ROLE;
SELECT count(*) AS rows_left, count(*) FILTER (WHERE owner = 'regress_sg_user'::regrole) AS of_the_user
FROM ecgdl.qrs_evaluations;
REVOKE ALL ON sg_sig, sg_det, sg_ref FROM regress_sg_user;
DROP ROLE regress_sg_user;

-- 8. A hostile search_path: look-alikes ahead of pg_catalog are never used,
-- and the results equal those under a clean path
CREATE SCHEMA sg_hostile;
CREATE FUNCTION sg_hostile.trap_eqt(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike = (text) called'; END $$;
CREATE FUNCTION sg_hostile.trap_eq8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike = (bigint) called'; END $$;
CREATE FUNCTION sg_hostile.trap_ge(smallint, integer) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'look-alike >= (smallint, integer) called'; END $$;
CREATE OPERATOR sg_hostile.= (LEFTARG = text, RIGHTARG = text, FUNCTION = sg_hostile.trap_eqt);
CREATE OPERATOR sg_hostile.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = sg_hostile.trap_eq8);
CREATE OPERATOR sg_hostile.>= (LEFTARG = smallint, RIGHTARG = integer, FUNCTION = sg_hostile.trap_ge);
CREATE COLLATION sg_hostile."C" (provider = libc, locale = 'POSIX', deterministic = true);
CREATE DOMAIN sg_hostile.text AS integer;
CREATE DOMAIN sg_hostile.int8 AS text;
CREATE DOMAIN sg_hostile.int2 AS text;
CREATE DOMAIN sg_hostile.float8 AS text;
CREATE DOMAIN sg_hostile.float4 AS text;
CREATE DOMAIN sg_hostile.jsonb AS integer;
CREATE DOMAIN sg_hostile.regrole AS integer;
CREATE TABLE sg_hostile.qrs_evaluations (id bigint);
SET search_path = sg_hostile, pg_catalog, public;
SELECT regress_error(pg_catalog.format('SELECT ecg_import_wfdb_signals(%L, %L, ARRAY[%L])',
                                       pg_catalog.current_setting('regress.fixtures'), 'public.sg_h_sig', 'syn1')) AS import_signals;
SELECT regress_error(pg_catalog.format('SELECT ecg_import_annotations(%L, %L, ARRAY[%L])',
                                       pg_catalog.current_setting('regress.fixtures'), 'public.sg_h_ann', 'syn1')) AS import_annotations;
SELECT regress_error($$SELECT ecg_detect_beats('public.sg_h_sig', 'public.sg_h_det')$$) AS detect;
SELECT regress_error($$SELECT ecg_beats_from_signals('public.sg_h_sig', 'public.sg_h_ann', 'public.sg_h_cut')$$) AS cut;
SELECT regress_error($$CREATE TABLE public.sg_h_eval AS SELECT * FROM ecg_qrs_evaluate('public.sg_h_det', 'public.sg_h_ann', 150, 0)$$) AS evaluate;
SELECT regress_error($$CREATE TABLE public.sg_h_sum AS SELECT * FROM ecg_rhythm_summary('public.sg_h_cut', 'tr_baseline')$$) AS summary;
RESET search_path;
SELECT (SELECT array_agg(sample ORDER BY sample) FROM sg_h_det) =
       (SELECT array_agg(sample ORDER BY sample) FROM sg_wfdb_det WHERE record = 'syn1') AS same_detections,
       (SELECT array_agg(signal ORDER BY id) FROM sg_h_cut) =
       (SELECT array_agg(signal ORDER BY id) FROM sg_cut WHERE record = 'syn1') AS same_beats,
       (SELECT tp FROM sg_h_eval WHERE record = 'gross') AS tp,
       (SELECT beats FROM sg_h_sum) AS summarised_beats;
SET client_min_messages = warning;
DROP SCHEMA sg_hostile CASCADE;
