-- R-R features (issue 12): the eight columns of beat tables made from
-- records, computed over all beat annotations of a record, and carried by
-- ecg_split and ecg_oversample.  Fixture records: test/tools/make_wfdb_fixtures.
\getenv fixtures ECGDL_FIXTURES
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;
SET client_min_messages = warning;
SELECT ecg_import_wfdb(:'fixtures', 'rr_beats');

-- the columns, after the beat layout, in the documented order
SELECT attname, format_type(atttypid, atttypmod) AS type
FROM pg_attribute WHERE attrelid = 'rr_beats'::regclass AND attnum > 0 ORDER BY attnum;

-- rr_pre: seconds since the previous beat of the record (NULL for the first);
-- rr_post: seconds to the next (NULL for the last, but syn1's last kept beat
-- at 21312 is followed by a beat annotated past the end of the signal, at
-- 21700: (21700 - 21312) / 360 = 1.0777778 s)
SELECT record, count(*) AS beats,
       count(*) FILTER (WHERE rr_pre IS NULL) AS pre_null,
       count(*) FILTER (WHERE rr_post IS NULL) AS post_null,
       count(*) FILTER (WHERE abs(rr_pre - (sample - prev)::float8 / fs) > 1e-6) AS pre_wrong,
       count(*) FILTER (WHERE abs(rr_post - (next - sample)::float8 / fs) > 1e-6) AS post_wrong
FROM (SELECT *, CASE record WHEN 'syn16' THEN 250 ELSE 360 END AS fs,
             lag(sample) OVER w AS prev, lead(sample) OVER w AS next
      FROM rr_beats WINDOW w AS (PARTITION BY record ORDER BY sample)) t
GROUP BY record ORDER BY record;
SELECT id, sample, rr_pre, rr_post, round(rr_post::numeric * 360) AS post_samples
FROM rr_beats WHERE record = 'syn1' ORDER BY id DESC LIMIT 2;

-- rr_record: (last - first sample) / (beats - 1) / fs over all beat
-- annotations (syn1: 73 with the dropped one)
SELECT record, min(rr_record) = max(rr_record) AS constant, min(rr_record) AS rr_record,
       CASE record WHEN 'syn1' THEN (21700 - min(sample)) / 72.0 / 360
            ELSE (max(sample) - min(sample))::numeric / (count(*) - 1) / CASE record WHEN 'syn16' THEN 250 ELSE 360 END
       END::real AS expected
FROM rr_beats GROUP BY record ORDER BY record;

-- rr_local: mean of the pre-R-R intervals of beats i-4 .. i+5 that exist
-- (SQL's avg skips the first beat's NULL); records without a dropped beat
SELECT record,
       count(*) FILTER (WHERE abs(rr_local - expected) > 1e-6) AS local_wrong,
       min(n) AS fewest_intervals, max(n) AS most_intervals
FROM (SELECT record, rr_local,
             avg(rr_pre) OVER w AS expected, count(rr_pre) OVER w AS n
      FROM rr_beats WHERE record <> 'syn1'
      WINDOW w AS (PARTITION BY record ORDER BY sample ROWS BETWEEN 4 PRECEDING AND 5 FOLLOWING)) t
GROUP BY record ORDER BY record;

-- the ratios, NULL exactly where their numerator is
SELECT count(*) FILTER (WHERE abs(rr_pre_local - rr_pre / rr_local) > 1e-6
                           OR abs(rr_post_local - rr_post / rr_local) > 1e-6
                           OR abs(rr_pre_record - rr_pre / rr_record) > 1e-6
                           OR abs(rr_post_record - rr_post / rr_record) > 1e-6) AS ratio_wrong,
       count(*) FILTER (WHERE (rr_pre_local IS NULL) <> (rr_pre IS NULL)
                           OR (rr_pre_record IS NULL) <> (rr_pre IS NULL)
                           OR (rr_post_local IS NULL) <> (rr_post IS NULL)
                           OR (rr_post_record IS NULL) <> (rr_post IS NULL)
                           OR rr_local IS NULL OR rr_record IS NULL) AS null_wrong
FROM rr_beats;
-- premature beats (S, V) come early: their pre-R-R is below the local mean
SELECT (ARRAY['N','S','V','F','Q'])[label + 1] AS class, count(*),
       round(avg(rr_pre_local)::numeric, 3) AS mean_pre_local,
       round(avg(rr_post_local)::numeric, 3) AS mean_post_local
FROM rr_beats GROUP BY label ORDER BY label;

-- the same records as signal and annotation tables
SELECT ecg_import_wfdb_signals(:'fixtures', 'rr_sig', ARRAY['syn1', 'syn16']);
SELECT ecg_import_annotations(:'fixtures', 'rr_ann', ARRAY['syn1', 'syn16']);
-- ecg_beats_from_signals at the reference annotations: the import's features
SELECT ecg_beats_from_signals('rr_sig', 'rr_ann', 'rr_cut');
SELECT count(*) AS beats,
       count(*) FILTER (WHERE (c.rr_pre, c.rr_post, c.rr_local, c.rr_record, c.rr_pre_local,
                               c.rr_post_local, c.rr_pre_record, c.rr_post_record)
                              IS NOT DISTINCT FROM
                              (b.rr_pre, b.rr_post, b.rr_local, b.rr_record, b.rr_pre_local,
                               b.rr_post_local, b.rr_pre_record, b.rr_post_record)) AS same_features
FROM rr_cut c JOIN rr_beats b USING (record, sample);
-- a lone beat (a one-beat annotation table): everything NULL
CREATE TABLE rr_one AS SELECT * FROM rr_ann WHERE record = 'syn16' AND sample = 287;
SELECT ecg_beats_from_signals('rr_sig', 'rr_one', 'rr_cut_one');
SELECT record, sample, num_nulls(rr_pre, rr_post, rr_local, rr_record, rr_pre_local,
                                 rr_post_local, rr_pre_record, rr_post_record) AS null_features
FROM rr_cut_one;

-- ecg_split keeps them, row for row
SELECT part, sum(beats) FROM ecg_split('rr_beats', 'rr_train', 'rr_test', 0.3, 7) GROUP BY part ORDER BY part;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (s.rr_pre, s.rr_post, s.rr_local, s.rr_record, s.rr_pre_local,
                               s.rr_post_local, s.rr_pre_record, s.rr_post_record)
                              IS NOT DISTINCT FROM
                              (b.rr_pre, b.rr_post, b.rr_local, b.rr_record, b.rr_pre_local,
                               b.rr_post_local, b.rr_pre_record, b.rr_post_record)) AS same_features
FROM (SELECT * FROM rr_train UNION ALL SELECT * FROM rr_test) s JOIN rr_beats b USING (id);
SELECT attname FROM pg_attribute WHERE attrelid = 'rr_test'::regclass AND attnum > 6 ORDER BY attnum;

-- ecg_oversample: originals unchanged; random copies take the base row's
-- features; SMOTE interpolates them with the signal's step, and a NULL at
-- either end gives the base row's value
SELECT ecg_oversample('rr_beats', 'rr_random', 'random', 5, 3);
SELECT count(*) FILTER (WHERE synthetic) AS synthetic,
       count(*) FILTER (WHERE synthetic AND (o.rr_pre, o.rr_post, o.rr_local, o.rr_record, o.rr_pre_local,
                               o.rr_post_local, o.rr_pre_record, o.rr_post_record)
                              IS NOT DISTINCT FROM
                              (b.rr_pre, b.rr_post, b.rr_local, b.rr_record, b.rr_pre_local,
                               b.rr_post_local, b.rr_pre_record, b.rr_post_record)) AS copied,
       count(*) FILTER (WHERE NOT synthetic AND o.rr_pre IS NOT DISTINCT FROM b.rr_pre
                              AND o.rr_post_record IS NOT DISTINCT FROM b.rr_post_record) AS originals_same
FROM rr_random o JOIN rr_beats b ON b.id = coalesce(o.base_id, o.id);
-- (F, one beat, left out; some S beats given a NULL rr_pre to show the rule)
CREATE TABLE rr_nof AS SELECT * FROM rr_beats WHERE label <> 3;
UPDATE rr_nof SET rr_pre = NULL, rr_pre_local = NULL, rr_pre_record = NULL WHERE label = 1 AND id % 2 = 0;
SELECT ecg_oversample('rr_nof', 'rr_smote', 'smote', 2, 3);
SELECT count(*) AS synthetic,
       count(*) FILTER (WHERE b.rr_pre IS NOT NULL AND p.rr_pre IS NOT NULL
                        AND abs(o.rr_pre - (b.rr_pre + o.step * (p.rr_pre - b.rr_pre))) <= 1e-6) AS pre_interpolated,
       count(*) FILTER (WHERE (b.rr_pre IS NULL OR p.rr_pre IS NULL)
                        AND o.rr_pre IS NOT DISTINCT FROM b.rr_pre) AS pre_from_base,
       count(*) FILTER (WHERE b.rr_post IS NOT NULL AND p.rr_post IS NOT NULL
                        AND abs(o.rr_post_local - (b.rr_post_local + o.step * (p.rr_post_local - b.rr_post_local))) <= 1e-6) AS post_local_interpolated,
       count(*) FILTER (WHERE (b.rr_post IS NULL OR p.rr_post IS NULL)
                        AND o.rr_post_local IS NOT DISTINCT FROM b.rr_post_local) AS post_local_from_base,
       count(*) FILTER (WHERE abs(o.rr_record - (b.rr_record + o.step * (p.rr_record - b.rr_record))) <= 1e-6) AS record_interpolated
FROM rr_smote o JOIN rr_nof b ON b.id = o.base_id JOIN rr_nof p ON p.id = o.partner_id
WHERE o.synthetic;
-- the provenance columns, then the features
SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = 'rr_smote'::regclass AND attnum > 6;

-- CSV imports and tables without the columns have none, and keep none
CREATE TABLE rr_plain AS SELECT id, label, signal FROM rr_beats;
SELECT ecg_oversample('rr_plain', 'rr_plain_random', 'random', 5, 3);
SELECT count(*) AS rr_columns FROM pg_attribute
WHERE attrelid = 'rr_plain_random'::regclass AND attname LIKE 'rr\_%';

-- some of the columns, or another type: a clear error
CREATE TABLE rr_partial AS SELECT id, label, signal, rr_pre, rr_post FROM rr_beats;
SELECT regress_error($$SELECT * FROM ecg_split('rr_partial', 'rr_x1', 'rr_x2')$$);
SELECT regress_error($$SELECT ecg_oversample('rr_partial', 'rr_x1')$$);
CREATE TABLE rr_double AS SELECT id, label, signal, rr_pre::float8 AS rr_pre, rr_post, rr_local, rr_record,
       rr_pre_local, rr_post_local, rr_pre_record, rr_post_record FROM rr_beats;
SELECT regress_error($$SELECT * FROM ecg_split('rr_double', 'rr_x1', 'rr_x2')$$);
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname IN ('rr_x1', 'rr_x2');
