-- Real-data checks on a few MIT-BIH records, when the database is present
-- ($ECGDL_MITDB, set by the test command from ../shared/data/mitdb).  Without
-- it this test prints that it skipped and matches realdata_1.out.
\set mitdb ''
\getenv mitdb ECGDL_MITDB
SELECT :'mitdb' <> '' AND (pg_stat_file(:'mitdb' || '/RECORDS', true)).size IS NOT NULL AS have_mitdb \gset
\if :have_mitdb
SET client_min_messages = notice;
-- 100: MLII first; 102: no MLII (V5 used, with a NOTICE); 114: MLII second
SELECT ecg_import_wfdb(:'mitdb', 'mit3', ARRAY['100', '102', '114']);
SELECT record, (ARRAY['N','S','V','F','Q'])[label + 1] AS class, count(*)
FROM mit3 GROUP BY record, label ORDER BY record, label;
SELECT count(*) AS beats, min(array_length(signal, 1)) AS min_len, max(array_length(signal, 1)) AS max_len,
       min(v) >= 0 AND max(v) <= 1 AS in_unit_range
FROM mit3, unnest(signal) v;
-- a normal beat of record 100 starts at its R peak: the first samples are
-- high, the tail is zero padding
SELECT round(avg(signal[1])::numeric, 2) > 0.6 AS starts_at_r_peak,
       avg(signal[187]) = 0 AS padded_tail
FROM mit3 WHERE record = '100' AND symbol = 'N';
-- the record column drives the inter-patient split: 100 is in DS2, 114 in DS1, 102 (paced) in neither
SELECT part, sum(beats) > 0 AS has_rows FROM ecg_split('mit3', 'mit3_ds1', 'mit3_ds2', 0.2, 42, 'inter-patient')
GROUP BY part ORDER BY part;
SELECT DISTINCT record FROM mit3_ds1 UNION ALL SELECT DISTINCT record FROM mit3_ds2;
-- Signals as tables: beats cut from the signal table at the reference
-- annotations are ecg_import_wfdb's beats (102 has no MLII: V5 by name)
SELECT ecg_import_wfdb_signals(:'mitdb', 'mit3_sig', ARRAY['100', '102', '114'], ARRAY['MLII', 'V5']);
SELECT ecg_import_annotations(:'mitdb', 'mit_ann', ARRAY['100', '102', '114', '119', '200', '203', '207']);
SELECT ecg_beats_from_signals('mit3_sig', 'mit_ann', 'mit3_cut');
SELECT count(*) AS beats,
       count(*) FILTER (WHERE a.record IS DISTINCT FROM b.record OR a.sample IS DISTINCT FROM b.sample
                        OR a.symbol IS DISTINCT FROM b.symbol OR a.label IS DISTINCT FROM b.label) AS differing_rows,
       max((SELECT max(abs(x - y)) FROM unnest(a.signal, b.signal) u(x, y))) <= 1e-6 AS signals_equal
FROM mit3 a FULL JOIN mit3_cut b USING (id);
-- detection on the same leads, evaluated by the bxb rules (the figures are
-- the detector's: checked here against a floor, the exact table is in the README)
SELECT ecg_detect_beats('mit3_sig', 'mit3_det');
-- (every record of the reference table is evaluated: a view keeps the three)
CREATE VIEW mit3_ann AS SELECT * FROM mit_ann WHERE record IN ('100', '102', '114');
SELECT record, se >= 99.5 AS se_at_least_99_5, ppv >= 99.5 AS ppv_at_least_99_5
FROM ecg_qrs_evaluate('mit3_det', 'mit3_ann') ORDER BY record;
-- unlabelled beats at the detected positions
SELECT ecg_beats_from_signals('mit3_sig', 'mit3_det', 'mit3_cut_det');
SELECT record, count(*) > 1500 AS many_beats, count(label) AS labelled FROM mit3_cut_det GROUP BY 1 ORDER BY 1;
-- The rhythm summary from the reference annotations of records with known
-- ectopic runs, against runs counted independently in SQL (count_runs.sql)
SELECT record, beats, s_beats, s_couplets, s_runs, longest_s_run, v_beats, v_couplets, v_runs,
       longest_v_run, pauses
FROM ecg_rhythm_summary('mit_ann') WHERE record IN ('119', '200', '203', '207') ORDER BY record;
\set runs_source mit_ann
\i test/integration/count_runs.sql
SELECT c.record, (c.beats, c.s_beats, c.s_couplets, c.s_runs, c.longest_s_run, c.v_beats, c.v_couplets,
                  c.v_runs, c.longest_v_run)
                 = (s.beats, s.s_beats, s.s_couplets, s.s_runs, s.longest_s_run, s.v_beats, s.v_couplets,
                    s.v_runs, s.longest_v_run) AS summary_agrees
FROM counted_runs c JOIN ecg_rhythm_summary('mit_ann') s USING (record) ORDER BY c.record;
\else
\echo 'skipped: MIT-BIH records not found (set ECGDL_MITDB or place them in ../shared/data/mitdb)'
\endif
