-- qrs2: ecg_detect_beats on two leads at once (second_lead), on a synthetic
-- ECG made here in SQL: the beats, chunk-size invariance, the 0.2.0 call
-- with three arguments, and every bad second lead.
SET client_min_messages = notice;

-- per beat of rr seconds a P wave, an R peak 0.25 s into the beat, an S dip
-- and a T wave; `flip` -1 gives the lead upside down (as V1 often is)
CREATE FUNCTION q2_bump(t float8, centre float8, width float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$ SELECT exp(-least(((t - centre) / width) ^ 2, 500)) $$;
CREATE FUNCTION q2_ecg(i bigint, fs float8, rr float8, flip float8) RETURNS real
LANGUAGE sql IMMUTABLE AS $$
    SELECT (flip * (1.4 * q2_bump(ph, 0.25, 0.012) - 0.25 * q2_bump(ph, 0.27, 0.012)
            + 0.12 * q2_bump(ph, 0.10, 0.03) + 0.30 * q2_bump(ph, 0.55, 0.06)))::real
    FROM (SELECT (i / fs) - floor(i / fs / rr) * rr AS ph) s
$$;
-- q2_chunks(record, lead, fs, rr, flip, seconds, chunk): the rows of one lead
CREATE FUNCTION q2_chunks(record text, lead text, fs float8, rr float8, flip float8, seconds int,
                          chunk int)
RETURNS TABLE (record text, lead text, fs float8, start_sample bigint, samples real[])
LANGUAGE sql AS $$
    SELECT record, lead, fs, min(i), array_agg(q2_ecg(i, fs, rr, flip) ORDER BY i)
    FROM generate_series(0::bigint, (seconds * fs)::bigint - 1) i
    GROUP BY i / chunk
$$;
-- records a (60 s at 360 Hz, R peaks at 90 + 288 k) and c (30 s at 250 Hz,
-- R peaks at 62.5 + 150 k), leads MLII and V1 (upside down) in 10 s chunks
CREATE TABLE q2_sig (record text, lead text, fs float8, start_sample bigint, samples real[],
                     PRIMARY KEY (record, lead, start_sample));
INSERT INTO q2_sig SELECT * FROM q2_chunks('a', 'MLII', 360, 0.8, 1, 60, 3600);
INSERT INTO q2_sig SELECT * FROM q2_chunks('a', 'V1', 360, 0.8, -1, 60, 3600);
INSERT INTO q2_sig SELECT * FROM q2_chunks('c', 'MLII', 250, 0.6, 1, 30, 2500);
INSERT INTO q2_sig SELECT * FROM q2_chunks('c', 'V1', 250, 0.6, -1, 30, 2500);

-- 1. two leads: every beat once, where it is; the same as MLII alone on a clean signal
SELECT ecg_detect_beats('q2_sig', 'q2_two', 'MLII', 'V1');
SELECT ecg_detect_beats('q2_sig', 'q2_one', 'MLII');
SELECT record, count(*) AS beats, min(fs) AS fs,
       bool_and(symbol IS NULL AND subtype IS NULL AND label IS NULL) AS unlabelled,
       max(abs(sample - CASE record WHEN 'a' THEN 90 + 288 * (rn - 1) ELSE round(62.5 + 150 * (rn - 1)) END)) AS max_error
FROM (SELECT *, row_number() OVER (PARTITION BY record ORDER BY sample) AS rn FROM q2_two) d
GROUP BY record ORDER BY record;
SELECT (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_two) =
       (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_one) AS same_as_mlii;
-- second_lead NULL (and the default) is the one-lead detector
SELECT ecg_detect_beats('q2_sig', 'q2_null', 'MLII', NULL);
SELECT (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_null) =
       (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_one) AS null_is_one_lead;
-- the leads the other way round: V1 detected, MLII as the second lead
SELECT ecg_detect_beats('q2_sig', 'q2_swap', 'V1', 'MLII');
SELECT record, count(*) AS beats FROM q2_swap GROUP BY 1 ORDER BY 1;

-- second_lead as a list: each record takes the first listed lead it has, other than the
-- lead detected on (here V1 in record a, V2 in record c)
CREATE TABLE q2_list AS SELECT record, CASE WHEN record = 'c' AND lead = 'V1' THEN 'V2' ELSE lead END AS lead,
    fs, start_sample, samples FROM q2_sig;
SELECT ecg_detect_beats('q2_list', 'q2_two_list', 'MLII', 'V1, V2, MLII');
SELECT (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_two_list) =
       (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_two) AS list_same;

-- 2. chunk-size invariance: one row per lead, 1 s rows, 7 s rows
CREATE TABLE q2_sig_1 AS SELECT * FROM q2_chunks('a', 'MLII', 360, 0.8, 1, 60, 21600)
    UNION ALL SELECT * FROM q2_chunks('a', 'V1', 360, 0.8, -1, 60, 21600);
CREATE TABLE q2_sig_360 AS SELECT * FROM q2_chunks('a', 'MLII', 360, 0.8, 1, 60, 360)
    UNION ALL SELECT * FROM q2_chunks('a', 'V1', 360, 0.8, -1, 60, 360);
CREATE TABLE q2_sig_7 AS SELECT * FROM q2_chunks('a', 'MLII', 360, 0.8, 1, 60, 2520)
    UNION ALL SELECT * FROM q2_chunks('a', 'V1', 360, 0.8, -1, 60, 2520);
SELECT ecg_detect_beats('q2_sig_1', 'q2_two_1', 'MLII', 'V1'),
       ecg_detect_beats('q2_sig_360', 'q2_two_360', 'MLII', 'V1'),
       ecg_detect_beats('q2_sig_7', 'q2_two_7', 'MLII', 'V1');
SELECT (SELECT array_agg(sample ORDER BY sample) FROM q2_two_1) = (SELECT array_agg(sample ORDER BY sample) FROM q2_two WHERE record = 'a')
   AND (SELECT array_agg(sample ORDER BY sample) FROM q2_two_360) = (SELECT array_agg(sample ORDER BY sample) FROM q2_two_1)
   AND (SELECT array_agg(sample ORDER BY sample) FROM q2_two_7) = (SELECT array_agg(sample ORDER BY sample) FROM q2_two_1)
   AS chunk_size_invariant;

-- 3. the C function through the 0.2.0 definition (three arguments)
CREATE FUNCTION q2_detect_0_2_0(recordings regclass, target text, lead text DEFAULT 'MLII')
RETURNS bigint AS '$libdir/ecgdl', 'ecg_detect_beats' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
SELECT q2_detect_0_2_0('q2_sig', 'q2_old');
SELECT (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_old) =
       (SELECT array_agg(record || sample ORDER BY record, sample) FROM q2_one) AS old_definition_works;

-- 4. bad second leads: each error names the record and the leads; no table is left behind
-- a record without the second lead; the second lead the same as the detected one (also
-- when a record falls back to its first lead by name, or a list has no other lead of a
-- record); an empty name in the list
CREATE TABLE q2_missing AS SELECT * FROM q2_sig;
INSERT INTO q2_missing SELECT * FROM q2_chunks('b', 'MLII', 360, 0.8, 1, 10, 3600);
SELECT regress_error($$SELECT ecg_detect_beats('q2_missing', 'q2_bad', 'MLII', 'V1')$$);
SELECT regress_error($$SELECT ecg_detect_beats('q2_sig', 'q2_bad', 'MLII', 'MLII')$$);
SELECT regress_error($$SELECT ecg_detect_beats('q2_sig', 'q2_bad', 'V5', 'MLII')$$);
SELECT regress_error($$SELECT ecg_detect_beats('q2_sig', 'q2_bad', 'MLII', 'aVF')$$);
SELECT regress_error($$SELECT ecg_detect_beats('q2_missing', 'q2_bad', 'MLII', 'V1, MLII')$$);
SELECT regress_error($$SELECT ecg_detect_beats('q2_sig', 'q2_bad', 'MLII', 'V1,,V2')$$);
-- the second lead at another rate
CREATE TABLE q2_rate AS SELECT * FROM q2_sig WHERE record = 'a';
UPDATE q2_rate SET fs = 250 WHERE lead = 'V1';
SELECT regress_error($$SELECT ecg_detect_beats('q2_rate', 'q2_bad', 'MLII', 'V1')$$);
-- the second lead chunked otherwise (same length), shorter, longer
CREATE TABLE q2_chunking AS SELECT * FROM q2_chunks('a', 'MLII', 360, 0.8, 1, 60, 3600)
    UNION ALL SELECT * FROM q2_chunks('a', 'V1', 360, 0.8, -1, 60, 2520);
SELECT regress_error($$SELECT ecg_detect_beats('q2_chunking', 'q2_bad', 'MLII', 'V1')$$);
CREATE TABLE q2_short AS SELECT * FROM q2_sig WHERE record = 'a';
DELETE FROM q2_short WHERE lead = 'V1' AND start_sample = 18000;
SELECT regress_error($$SELECT ecg_detect_beats('q2_short', 'q2_bad', 'MLII', 'V1')$$);
CREATE TABLE q2_long AS SELECT * FROM q2_sig WHERE record = 'a';
DELETE FROM q2_long WHERE lead = 'MLII' AND start_sample = 18000;
SELECT regress_error($$SELECT ecg_detect_beats('q2_long', 'q2_bad', 'MLII', 'V1')$$);
-- the second lead's own defects: a gap, a NaN sample
CREATE TABLE q2_gap AS SELECT * FROM q2_sig WHERE record = 'a';
DELETE FROM q2_gap WHERE lead = 'V1' AND start_sample = 7200;
SELECT regress_error($$SELECT ecg_detect_beats('q2_gap', 'q2_bad', 'MLII', 'V1')$$);
CREATE TABLE q2_nan AS SELECT * FROM q2_sig WHERE record = 'a';
UPDATE q2_nan SET samples[5] = 'NaN' WHERE lead = 'V1' AND start_sample = 3600;
SELECT regress_error($$SELECT ecg_detect_beats('q2_nan', 'q2_bad', 'MLII', 'V1')$$);
-- both leads at a rate outside the detector's range
CREATE TABLE q2_slow AS SELECT * FROM q2_sig WHERE record = 'a';
UPDATE q2_slow SET fs = 50;
SELECT regress_error($$SELECT ecg_detect_beats('q2_slow', 'q2_bad', 'MLII', 'V1')$$);
SELECT to_regclass('q2_bad') IS NULL AS no_table_left;

DROP TABLE q2_sig, q2_list, q2_two_list, q2_two, q2_one, q2_null, q2_swap, q2_sig_1, q2_sig_360, q2_sig_7, q2_two_1,
    q2_two_360, q2_two_7, q2_old, q2_missing, q2_rate, q2_chunking, q2_short, q2_long, q2_gap,
    q2_nan, q2_slow;
DROP FUNCTION q2_detect_0_2_0(regclass, text, text), q2_chunks(text, text, float8, float8, float8, int, int),
    q2_ecg(bigint, float8, float8, float8), q2_bump(float8, float8, float8);
