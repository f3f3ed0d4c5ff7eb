-- ecg_split: stratified, random and inter-patient train/test tables.
SET client_min_messages = warning;

-- 1,000 beats: 700 N, 200 S, 63 V, 30 F, 7 Q, over records of DS1, DS2 and paced ones
CREATE TABLE split_src AS
SELECT n::bigint AS id,
       (ARRAY['101','106','100','103','102','217','230','234'])[1 + n % 8] AS record,
       (n * 360)::bigint AS sample,
       'N'::text AS symbol,
       (CASE WHEN n <= 700 THEN 0 WHEN n <= 900 THEN 1 WHEN n <= 963 THEN 2
             WHEN n <= 993 THEN 3 ELSE 4 END)::smallint AS label,
       ARRAY[n / 1000.0, 0.5]::real[] AS signal
FROM generate_series(1, 1000) n;
ALTER TABLE split_src ADD PRIMARY KEY (id);

SELECT * FROM ecg_split('split_src', 'st_train', 'st_test');
-- every row lands on exactly one side, columns intact
SELECT (SELECT count(*) FROM st_train) + (SELECT count(*) FROM st_test) AS total,
       (SELECT count(*) FROM st_train JOIN st_test USING (id)) AS overlap,
       (SELECT count(*) FROM (SELECT * FROM st_train UNION ALL SELECT * FROM st_test) u
        JOIN split_src s USING (id) WHERE u.signal = s.signal AND u.label = s.label
        AND u.record = s.record) AS identical_rows;
\d st_test
-- the same seed gives the same split, row for row; another seed another one
SELECT count(*) FROM ecg_split('split_src', 'st_train2', 'st_test2', 0.2, 42);
SELECT (SELECT array_agg(id ORDER BY id) FROM st_test) = (SELECT array_agg(id ORDER BY id) FROM st_test2) AS same_rows;
SELECT count(*) FROM ecg_split('split_src', 'st_train3', 'st_test3', 0.2, 43);
SELECT (SELECT array_agg(id ORDER BY id) FROM st_test) = (SELECT array_agg(id ORDER BY id) FROM st_test3) AS same_rows;

-- random: round(1000 * 0.25) test rows, any class mix
SELECT part, sum(beats) FROM ecg_split('split_src', 'rnd_train', 'rnd_test', 0.25, 7, 'random') GROUP BY part ORDER BY part;

-- inter-patient: DS1 -> train, DS2 -> test, paced 102 and 217 left out; fraction ignored
SELECT * FROM ecg_split('split_src', 'ip_train', 'ip_test', 0.5, 1, 'inter-patient') WHERE beats > 0;
SELECT DISTINCT record FROM ip_train ORDER BY 1;
SELECT DISTINCT record FROM ip_test ORDER BY 1;

-- bad input
SELECT regress_error($$SELECT ecg_split('split_src', 'a', 'b', 0.2, 42, 'kfold')$$);
SELECT regress_error($$SELECT ecg_split('split_src', 'a', 'b', 0.0)$$);
SELECT regress_error($$SELECT ecg_split('split_src', 'a', 'b', 1.0)$$);
SELECT regress_error($$SELECT ecg_split('split_src', 'a', 'b', 'NaN')$$);
SELECT regress_error($$SELECT ecg_split('split_src', 'st_train', 'b')$$);
SELECT regress_error($$SELECT ecg_split('split_src', 'a', 'a')$$);
SELECT regress_error($$SELECT ecg_split('no_such_table', 'a', 'b')$$);
SELECT regress_error($$SELECT ecg_split(NULL, 'a', 'b')$$);
SELECT regress_error($$SELECT ecg_split('split_src', NULL, 'b')$$);
CREATE TABLE not_beats (id bigint, label int, signal real[]);
SELECT regress_error($$SELECT ecg_split('not_beats', 'a', 'b')$$);
CREATE TABLE empty_beats (LIKE split_src);
SELECT regress_error($$SELECT ecg_split('empty_beats', 'a', 'b')$$);
CREATE TABLE bad_labels AS SELECT * FROM split_src WHERE id <= 10;
UPDATE bad_labels SET label = 7 WHERE id = 3;
SELECT regress_error($$SELECT ecg_split('bad_labels', 'a', 'b')$$);
UPDATE bad_labels SET label = NULL WHERE id = 3;
SELECT regress_error($$SELECT ecg_split('bad_labels', 'a', 'b')$$);
-- no record column holding MIT-BIH names: inter-patient has nothing to put anywhere
CREATE TABLE no_records AS SELECT id, label, signal FROM split_src;
SELECT regress_error($$SELECT ecg_split('no_records', 'a', 'b', 0.2, 1, 'inter-patient')$$);
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname IN ('a', 'b');
