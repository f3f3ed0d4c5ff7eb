-- ecg_oversample: random duplication, SMOTE and ADASYN into new tables.
SET client_min_messages = notice;

-- 300 synthetic beats: 200 N, 40 S, 30 V, 20 F, 10 Q; each class a shape
-- (amplitude `sep`) plus a deterministic row-dependent wobble that makes the
-- classes overlap; os_sep has the classes far apart
CREATE FUNCTION os_beats(sep float8) RETURNS TABLE (id bigint, record text, sample bigint,
    symbol text, label smallint, signal real[]) LANGUAGE sql AS $$
SELECT n::bigint, NULL::text, NULL::bigint, NULL::text, c::smallint,
       ARRAY(SELECT (0.3 + sep * c * sin(s / 20.0) + 0.05 * sin(s * n * 0.37))::real
             FROM generate_series(1, 187) s)
FROM (SELECT n, CASE WHEN n <= 200 THEN 0 WHEN n <= 240 THEN 1 WHEN n <= 270 THEN 2
                     WHEN n <= 290 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, 300) n) t $$;
CREATE TABLE os_src AS SELECT * FROM os_beats(0.004);
ALTER TABLE os_src ADD PRIMARY KEY (id);
CREATE TABLE os_sep AS SELECT * FROM os_beats(0.1);

-- random duplication: every class raised to the majority's 200
SELECT ecg_oversample('os_src', 'os_random', 'random');
SELECT label, count(*), count(*) FILTER (WHERE synthetic) AS synthetic FROM os_random GROUP BY label ORDER BY label;
SELECT count(*) AS exact_copies FROM os_random o JOIN os_src b ON b.id = o.base_id
WHERE o.synthetic AND o.partner_id = o.base_id AND o.step = 0 AND o.signal = b.signal AND o.label = b.label;
-- originals unchanged, new ids after the largest source id
SELECT count(*) AS originals_unchanged FROM os_random o JOIN os_src s USING (id)
WHERE NOT o.synthetic AND o.signal = s.signal AND o.label = s.label AND o.base_id IS NULL;
SELECT min(id) AS first_new_id FROM os_random WHERE synthetic;
\d os_random

-- SMOTE
SELECT ecg_oversample('os_src', 'os_smote', 'smote', 5, 42);
SELECT label, count(*), count(*) FILTER (WHERE synthetic) AS synthetic FROM os_smote GROUP BY label ORDER BY label;
-- every synthetic row recomputes from base, partner and step ...
SELECT count(*) AS rows_checked, max(err) < 1e-6 AS recomputes
FROM (SELECT o.id, max(abs(o.signal[i] - (b.signal[i]::float8 + o.step::float8 * (p.signal[i] - b.signal[i])::float8))) AS err
      FROM os_smote o JOIN os_src b ON b.id = o.base_id JOIN os_src p ON p.id = o.partner_id,
           generate_series(1, 187) i
      WHERE o.synthetic GROUP BY o.id) t;
-- ... its partner is one of base's 5 nearest neighbours of the same class,
-- and base and partner share the row's class (checked on 100 rows)
WITH syn AS (SELECT id, base_id, partner_id, label FROM os_smote WHERE synthetic ORDER BY id LIMIT 100),
dist AS (SELECT s.id, c.id AS cand,
                (SELECT sum((x - y)::float8 ^ 2) FROM unnest(b.signal, c.signal) u(x, y)) AS d
         FROM syn s JOIN os_src b ON b.id = s.base_id
         JOIN os_src c ON c.label = s.label AND c.id <> b.id),
ranked AS (SELECT id, cand, row_number() OVER (PARTITION BY id ORDER BY d, cand) AS r FROM dist)
SELECT count(*) AS partners_among_5_nearest
FROM syn s JOIN ranked r ON r.id = s.id AND r.cand = s.partner_id
JOIN os_src b ON b.id = s.base_id AND b.label = s.label WHERE r.r <= 5;
SELECT min(step) >= 0 AND max(step) < 1 AS steps_in_unit_interval FROM os_smote WHERE synthetic;

-- the same seed gives the same table, row for row; another seed another one
SELECT ecg_oversample('os_src', 'os_smote_again', 'smote', 5, 42);
SELECT count(*) AS identical_rows FROM os_smote a JOIN os_smote_again b USING (id)
WHERE a.signal = b.signal AND a.base_id IS NOT DISTINCT FROM b.base_id
  AND a.partner_id IS NOT DISTINCT FROM b.partner_id AND a.step IS NOT DISTINCT FROM b.step;
SELECT ecg_oversample('os_src', 'os_smote_other', 'smote', 5, 43);
SELECT count(*) = 1100 AS all_identical FROM os_smote a JOIN os_smote_other b USING (id)
WHERE a.signal = b.signal;

-- ADASYN: each row's count is its share of the deficit rounded half to even,
-- so a class may end up to half a row per original row off 200, as in
-- imbalanced-learn (the exact counts are compared with imbalanced-learn in
-- test/integration/imblearn.sh)
SELECT ecg_oversample('os_src', 'os_adasyn', 'adasyn', 5, 42) > 0 AS generated;
SELECT label, abs(count(*) - 200) <= 0.5 * count(*) FILTER (WHERE NOT synthetic) AS within_rounding,
       count(*) FILTER (WHERE synthetic AND partner_id = base_id) AS self_partners
FROM os_adasyn GROUP BY label ORDER BY label;
SELECT count(*) AS rows_checked, max(err) < 1e-6 AS recomputes
FROM (SELECT o.id, max(abs(o.signal[i] - (b.signal[i]::float8 + o.step::float8 * (p.signal[i] - b.signal[i])::float8))) AS err
      FROM os_adasyn o JOIN os_src b ON b.id = o.base_id JOIN os_src p ON p.id = o.partner_id,
           generate_series(1, 187) i
      WHERE o.synthetic GROUP BY o.id) t
WHERE true HAVING count(*) > 0;

-- explicit targets; classes not named stay as they are
SELECT ecg_oversample('os_src', 'os_targets', 'smote', 3, 1, 'S=100, V: 50');
SELECT label, count(*) FROM os_targets GROUP BY label ORDER BY label;
SELECT ecg_oversample('os_src', 'os_json', 'random', 5, 1, '{"F": 25, "4": 11}');
SELECT label, count(*) FROM os_json GROUP BY label ORDER BY label;

-- bad input: each a clear error, nothing left behind
SET client_min_messages = warning;
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'mixup')$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 0)$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 10)$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'adasyn', 10)$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 2000000000)$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 5, 1, 'S=10')$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 5, 1, 'X=10')$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', 'smote', 5, 1, 'most')$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'os_random')$$);
-- ADASYN needs rows with neighbours of another class, as in imbalanced-learn
SELECT regress_error($$SELECT ecg_oversample('os_sep', 'bad', 'adasyn')$$);
SELECT regress_error($$SELECT ecg_oversample('no_such_table', 'bad')$$);
SELECT regress_error($$SELECT ecg_oversample(NULL, 'bad')$$);
SELECT regress_error($$SELECT ecg_oversample('os_src', 'bad', NULL)$$);
CREATE TABLE os_one_class AS SELECT * FROM os_src WHERE label = 0;
SELECT regress_error($$SELECT ecg_oversample('os_one_class', 'bad')$$);
CREATE TABLE os_nan AS SELECT * FROM os_src;
UPDATE os_nan SET signal[7] = 'NaN' WHERE id = 12;
SELECT regress_error($$SELECT ecg_oversample('os_nan', 'bad')$$);
UPDATE os_nan SET signal[7] = NULL WHERE id = 12;
SELECT regress_error($$SELECT ecg_oversample('os_nan', 'bad')$$);
UPDATE os_nan SET signal = signal[1:100] WHERE id = 12;
SELECT regress_error($$SELECT ecg_oversample('os_nan', 'bad')$$);
UPDATE os_nan SET signal = NULL WHERE id = 12;
SELECT regress_error($$SELECT ecg_oversample('os_nan', 'bad')$$);
CREATE TABLE os_empty (LIKE os_src);
SELECT regress_error($$SELECT ecg_oversample('os_empty', 'bad')$$);
SELECT regress_error($$SELECT ecg_oversample('pg_class', 'bad')$$);
SELECT count(*) AS tables_left_behind FROM pg_class WHERE relname = 'bad';
