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
\else
\echo 'skipped: MIT-BIH records not found (set ECGDL_MITDB or place them in ../shared/data/mitdb)'
\endif
