-- Patients never seen (issue 12, inter-patient part): ecg_subtract_record_median
-- (each beat minus the median beat of its record; 0.5.0: also of beats cut at
-- detections, unlabelled) and the rr_net architecture.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;

-- Record a: three beats c + k/1024 (c = 1, 2, 9): median beat 2 + k/1024, so
-- the beats become the constants -1, 0, 7.  Record b: two beats (c = 4, 10):
-- the median of an even count is the mean of the middle two, 7 + k/1024.
-- Every value is a multiple of 1/1024: exact in float4.
CREATE TABLE ip_beats (id bigint PRIMARY KEY, record text, sample bigint, symbol text,
                       label smallint NOT NULL, signal real[] NOT NULL);
INSERT INTO ip_beats
SELECT id, record, id * 100, 'N', label,
       ARRAY(SELECT (c + k / 1024.0)::real FROM generate_series(1, 187) k)
FROM (VALUES (1, 'a', 0, 1), (2, 'b', 1, 4), (3, 'a', 0, 2), (4, 'a', 2, 9), (5, 'b', 0, 10))
     AS v(id, record, label, c);
SELECT ecg_subtract_record_median('ip_beats', 'ip_rel') AS rows_written;
SELECT t.id, t.record, t.sample, t.symbol, t.label, cardinality(t.signal) AS samples,
       min(x) AS min, max(x) AS max
FROM ip_rel t, unnest(t.signal) x GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY t.id;
-- the new table has ecgdl's beat layout and a primary key
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
FROM pg_attribute a WHERE a.attrelid = 'ip_rel'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'ip_rel'::regclass ORDER BY 1;

-- On an imported table: every column but the signal is copied as it was
-- (R-R features included), and the result equals the SQL median
-- (percentile_cont, which also averages the middle two) subtracted sample by
-- sample.
SELECT ecg_import_wfdb(:'fixtures', 'ip_imp', ARRAY['syn1', 'syn16']) AS beats;
SELECT ecg_subtract_record_median('ip_imp', 'ip_imp_rel') AS rows_written;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (a.record, a.sample, a.symbol, a.label) IS DISTINCT FROM
                              (b.record, b.sample, b.symbol, b.label)) AS other_columns_differ,
       count(*) FILTER (WHERE (a.rr_pre, a.rr_post, a.rr_local, a.rr_record, a.rr_pre_local,
                               a.rr_post_local, a.rr_pre_record, a.rr_post_record) IS DISTINCT FROM
                              (b.rr_pre, b.rr_post, b.rr_local, b.rr_record, b.rr_pre_local,
                               b.rr_post_local, b.rr_pre_record, b.rr_post_record)) AS rr_differ
FROM ip_imp a JOIN ip_imp_rel b USING (id);
WITH med AS (
    SELECT t.record, k, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.signal[k])::real AS m
    FROM ip_imp t, generate_series(1, 187) k GROUP BY 1, 2)
SELECT count(*) AS samples,
       count(*) FILTER (WHERE b.signal[med.k] <> a.signal[med.k] - med.m) AS differ
FROM ip_imp a JOIN ip_imp_rel b USING (id) JOIN med ON med.record = a.record;

-- Beats cut from signals at detected positions (0.5.0: a new patient's raw
-- ECG, no annotations): their labels are NULL and copied as they are, the
-- median beat is taken all the same, and the new table keeps the layout of
-- ecg_beats_from_signals (a nullable label, fs)
SELECT ecg_import_wfdb_signals(:'fixtures', 'ip_sig', ARRAY['syn1', 'syn16']) > 0 AS imported;
SELECT ecg_detect_beats('ip_sig', 'ip_det') > 0 AS detected;
SELECT ecg_beats_from_signals('ip_sig', 'ip_det', 'ip_det_beats') > 0 AS cut;
SELECT ecg_subtract_record_median('ip_det_beats', 'ip_det_rel') = (SELECT count(*) FROM ip_det_beats)
       AS all_written;
SELECT count(*) > 100 AS many, count(b.label) AS labelled, count(DISTINCT b.record) AS records,
       count(*) FILTER (WHERE (a.record, a.sample, a.fs, a.rr_pre, a.rr_pre_window) IS DISTINCT FROM
                              (b.record, b.sample, b.fs, b.rr_pre, b.rr_pre_window)) AS other_columns_differ
FROM ip_det_beats a JOIN ip_det_rel b USING (id);
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
FROM pg_attribute a WHERE a.attrelid = 'ip_det_rel'::regclass AND a.attname IN ('label', 'signal', 'fs')
ORDER BY a.attnum;
WITH med AS (
    SELECT t.record, k, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.signal[k])::real AS m
    FROM ip_det_beats t, generate_series(1, 187) k GROUP BY 1, 2)
SELECT count(*) > 0 AS some, count(*) FILTER (WHERE b.signal[med.k] <> a.signal[med.k] - med.m) AS differ
FROM ip_det_beats a JOIN ip_det_rel b USING (id) JOIN med ON med.record = a.record;
-- a table cut at the reference annotations (labelled) keeps its labels
SELECT ecg_import_annotations(:'fixtures', 'ip_ann', ARRAY['syn1', 'syn16']) > 0 AS annotations;
SELECT ecg_beats_from_signals('ip_sig', 'ip_ann', 'ip_ann_beats') > 0 AS cut;
SELECT ecg_subtract_record_median('ip_ann_beats', 'ip_ann_rel') > 0 AS written;
SELECT count(*) FILTER (WHERE a.label IS DISTINCT FROM b.label) AS labels_differ, count(b.label) > 0 AS labelled
FROM ip_ann_beats a JOIN ip_ann_rel b USING (id);

-- rr_net: trains on the R-R features and the (record-relative) beat, and is
-- listed among the architectures
SELECT ecg_train('ip_rr_net', 'ip_imp_rel', 'rr_net', validation => 'ip_imp_rel', epochs => 1,
                 batch_size => 64, seed => 7, operating_point => 'validation',
                 features => ARRAY['rr_pre_local', 'rr_post_local', 'rr_pre_record', 'rr_post_record']) > 0
       AS trained;
SELECT model, architecture, operating_point, features FROM ecgdl.operating_points
WHERE model = 'ip_rr_net';
SELECT count(*) AS classified FROM ecg_classify_table('ip_rr_net', 'ip_imp_rel');
SELECT get_byte(ecg_model_export('ip_rr_net'), 8) AS blob_version;
-- and classifies the centred beats of the detections
SELECT count(*) = (SELECT count(*) FROM ip_det_rel) AS all_classified
FROM ecg_classify_table('ip_rr_net', 'ip_det_rel');

-- Bad input
SELECT regress_error($$SELECT ecg_subtract_record_median(NULL, 'ip_x')$$);
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_beats', NULL)$$);
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_beats', 'ip_rel')$$);
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_beats', repeat('x', 64))$$);
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_beats', 'no_such_schema.ip_x')$$);
SELECT regress_error($$SELECT ecg_subtract_record_median('no_such_table', 'ip_x')$$);
-- no record column (a CSV import's layout)
CREATE TABLE ip_norec AS SELECT id, label, signal FROM ip_beats;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_norec', 'ip_x')$$);
-- a beat without a record
CREATE TABLE ip_nullrec AS SELECT * FROM ip_beats;
UPDATE ip_nullrec SET record = NULL WHERE id = 4;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_nullrec', 'ip_x')$$);
-- duplicate ids, an empty table, a short signal, a NaN sample, a NULL label,
-- a record column of another type
CREATE TABLE ip_dup AS SELECT * FROM ip_beats UNION ALL SELECT * FROM ip_beats WHERE id = 2;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_dup', 'ip_x')$$);
CREATE TABLE ip_empty AS SELECT * FROM ip_beats WHERE false;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_empty', 'ip_x')$$);
CREATE TABLE ip_short AS SELECT * FROM ip_beats;
UPDATE ip_short SET signal = signal[1:100] WHERE id = 3;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_short', 'ip_x')$$);
CREATE TABLE ip_nan AS SELECT * FROM ip_beats;
UPDATE ip_nan SET signal[5] = 'NaN' WHERE id = 5;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_nan', 'ip_x')$$);
CREATE TABLE ip_nolabel (id bigint, record text, label smallint, signal real[]);
INSERT INTO ip_nolabel SELECT id, record, CASE WHEN id = 2 THEN NULL ELSE label END, signal FROM ip_beats;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_nolabel', 'ip_x')$$);
CREATE TABLE ip_intrec (id bigint, record int, label smallint, signal real[]);
INSERT INTO ip_intrec SELECT id, 1, label, signal FROM ip_beats;
SELECT regress_error($$SELECT ecg_subtract_record_median('ip_intrec', 'ip_x')$$);
-- nothing was left behind by the failures
SELECT count(*) AS left_behind FROM pg_class WHERE relname = 'ip_x';
-- rr_net needs R-R features: not on a table without them, and only R-R names
SELECT regress_error($$SELECT ecg_train('ip_x', 'ip_rel', 'rr_net', epochs => 1)$$);
SELECT regress_error($$SELECT ecg_train('ip_x', 'ip_imp', 'rr_net', epochs => 1, features => ARRAY['qrs_width'])$$);
SELECT regress_error($$SELECT ecg_train('ip_x', 'ip_imp', 'cnn', epochs => 1, features => ARRAY['rr_pre'])$$);
SELECT regress_error($$SELECT ecg_train('ip_x', 'ip_imp', 'RR_NET', epochs => 1)$$);

SELECT ecg_model_drop('ip_rr_net');
DROP TABLE ip_sig, ip_det, ip_det_beats, ip_det_rel, ip_ann, ip_ann_beats, ip_ann_rel;
DROP TABLE ip_beats, ip_rel, ip_imp, ip_imp_rel, ip_norec, ip_nullrec, ip_dup, ip_empty, ip_short, ip_nan,
           ip_nolabel, ip_intrec;
