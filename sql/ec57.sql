-- EC57 reporting (issue 12): ecgdl.ec57_figures, ecg_evaluate_ec57 and the
-- views ecgdl.report_ec57 and ecgdl.report_ec57_records.
SET client_min_messages = warning;

-- the figures of a confusion matrix, by hand (rows true, columns predicted,
-- N S V F Q; the Q row is left out, a beat predicted Q is a miss):
--   N: TP 90, FN 10 (5 + 3 + 2), FP 5 (4 + 1), TN 37:  Se 0.9, +P 90/95 = 0.9474,
--      FPR 5/42 = 0.1190, F1 180/195 = 0.9231
--   S: TP 10, FN 5, FP 5, TN 122: Se 0.6667, +P 0.6667, FPR 5/127 = 0.0394, F1 0.6667
--   V: TP 20, FN 2, FP 5, TN 115: Se 0.9091, +P 0.8, FPR 5/120 = 0.0417, F1 40/47 = 0.8511
--   F: TP 3, FN 2, FP 1, TN 136: Se 0.6, +P 0.75, FPR 1/137 = 0.0073, F1 6/9 = 0.6667
--   macro F1 = (0.9231 + 0.6667 + 0.8511 + 0.6667) / 4 = 0.7769
SELECT class, tp, fn, fp, tn, round(se::numeric, 4) AS se, round(ppv::numeric, 4) AS ppv,
       round(fpr::numeric, 4) AS fpr, round(f1::numeric, 4) AS f1
FROM ecgdl.ec57_figures('{{90,5,3,0,2},{4,10,0,0,1},{1,0,20,1,0},{0,0,2,3,0},{7,1,1,0,4}}');
-- a record with only N beats, two called V: Se of S, V, F and +P of S, F undefined (NULL)
SELECT class, tp, fn, fp, tn, se, ppv, round(fpr::numeric, 4) AS fpr, round(f1::numeric, 4) AS f1
FROM ecgdl.ec57_figures('{{8,0,2,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0}}');
SELECT regress_error($$SELECT * FROM ecgdl.ec57_figures('{{1,2},{3,4}}')$$);
SELECT regress_error($$SELECT * FROM ecgdl.ec57_figures('{{8,0,2,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,-1}}')$$);
SELECT regress_error($$SELECT * FROM ecgdl.ec57_figures('{{8,0,2,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,0},{0,0,0,0,NULL}}')$$);

-- six records of synthetic beats of the five classes; a small model
CREATE TABLE ec_beats AS
SELECT n::bigint AS id, 'r' || (n % 6 + 1) AS record, n::bigint AS sample, NULL::text AS symbol,
       c::smallint AS label,
       ARRAY(SELECT (0.2 + 0.6 * exp(-((s - 25 - 30 * c) ^ 2) / 60.0)
                     + 0.15 * sin(s * n * 0.013) + 0.1 * cos(n * s))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, CASE WHEN n % 20 < 8 THEN 0 WHEN n % 20 < 12 THEN 1 WHEN n % 20 < 15 THEN 2
                     WHEN n % 20 < 18 THEN 3 ELSE 4 END AS c
      FROM generate_series(1, 360) n) t;
ALTER TABLE ec_beats ADD PRIMARY KEY (id);
SELECT ecg_train('ec_base', 'ec_beats', 'baseline', 'ec_beats', epochs => 2, batch_size => 32) > 0 AS trained;

-- per record and gross: 6 records x (4 classes + macro) + 5 gross rows
SELECT count(*) AS rows, count(DISTINCT record) AS records,
       string_agg(DISTINCT class, ',' ORDER BY class) AS classes
FROM ecg_evaluate_ec57('ec_base', 'ec_beats');
-- every count and figure (but macro, below) agrees with ecg_classify_table's predictions counted in SQL
CREATE TABLE ec_pred AS
SELECT b.record, b.label, c.predicted FROM ecg_classify_table('ec_base', 'ec_beats') c JOIN ec_beats b USING (id);
CREATE TABLE ec_out AS SELECT * FROM ecg_evaluate_ec57('ec_base', 'ec_beats');
WITH expected AS (
    SELECT coalesce(r.record, 'gross') AS record, k.class,
           count(*) FILTER (WHERE p.label = k.c AND p.predicted = k.c) AS tp,
           count(*) FILTER (WHERE p.label = k.c AND p.predicted <> k.c) AS fn,
           count(*) FILTER (WHERE p.label <> k.c AND p.label < 4 AND p.predicted = k.c) AS fp,
           count(*) FILTER (WHERE p.label <> k.c AND p.label < 4 AND p.predicted <> k.c) AS tn
    FROM ec_pred p
    CROSS JOIN (VALUES (0, 'N'), (1, 'S'), (2, 'V'), (3, 'F')) k(c, class)
    CROSS JOIN LATERAL (VALUES (p.record), (NULL)) r(record)
    GROUP BY 1, 2)
SELECT count(*) AS compared,
       count(*) FILTER (WHERE (o.tp, o.fn, o.fp, o.tn) IS DISTINCT FROM (e.tp, e.fn, e.fp, e.tn)) AS counts_wrong,
       count(*) FILTER (WHERE o.se IS DISTINCT FROM CASE WHEN e.tp + e.fn > 0 THEN e.tp::float8 / (e.tp + e.fn) END
                           OR o.ppv IS DISTINCT FROM CASE WHEN e.tp + e.fp > 0 THEN e.tp::float8 / (e.tp + e.fp) END
                           OR o.fpr IS DISTINCT FROM CASE WHEN e.fp + e.tn > 0 THEN e.fp::float8 / (e.fp + e.tn) END
                           OR o.f1 IS DISTINCT FROM CASE WHEN e.tp + e.fp + e.fn > 0
                                                    THEN (2 * e.tp)::float8 / (2 * e.tp + e.fp + e.fn) END) AS figures_wrong
FROM expected e FULL JOIN (SELECT * FROM ec_out WHERE class <> 'macro') o USING (record, class);
-- macro F1: the mean F1 of N, S, V, F where defined
SELECT count(*) FILTER (WHERE abs(m.f1 - a.f1) > 1e-12) AS macro_wrong
FROM (SELECT record, f1 FROM ec_out WHERE class = 'macro') m
JOIN (SELECT record, avg(f1) AS f1 FROM ec_out WHERE class <> 'macro' GROUP BY record) a USING (record);
-- Q beats (36 in 360) are in no count
SELECT sum(tp + fn) AS counted_beats, (SELECT count(*) FROM ec_beats WHERE label < 4) AS non_q_beats
FROM ec_out WHERE record = 'gross' AND class <> 'macro';
-- by_record => false: the gross rows only
SELECT record, class FROM ecg_evaluate_ec57('ec_base', 'ec_beats', by_record => false);

-- stored like ecg_evaluate (with the same per_class and confusion), plus the
-- per-record matrices
SELECT count(*) AS report_rows FROM ecg_evaluate('ec_base', 'ec_beats');
SELECT count(*) AS evaluations, count(per_record) AS with_records,
       count(DISTINCT (per_class, confusion, rows, accuracy)) AS same_figures,
       max((SELECT count(*) FROM jsonb_object_keys(per_record))) AS records
FROM ecgdl.evaluations WHERE model_name = 'ec_base';
-- the views agree with the function: the latest evaluation (ecg_evaluate's,
-- without per-record matrices) gross, the latest ecg_evaluate_ec57 per record
SELECT model, test_table, beats, q_beats_left_out, per_record,
       se_n = round((SELECT se FROM ec_out WHERE record = 'gross' AND class = 'N')::numeric, 4) AND
       ppv_s = round((SELECT ppv FROM ec_out WHERE record = 'gross' AND class = 'S')::numeric, 4) AND
       fpr_v = round((SELECT fpr FROM ec_out WHERE record = 'gross' AND class = 'V')::numeric, 4) AND
       f1_f = round((SELECT f1 FROM ec_out WHERE record = 'gross' AND class = 'F')::numeric, 4) AND
       macro_f1 = round((SELECT f1 FROM ec_out WHERE record = 'gross' AND class = 'macro')::numeric, 4) AS same_as_function
FROM ecgdl.report_ec57 WHERE model = 'ec_base';
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (v.tp, v.fn, v.fp, v.se, v.f1) IS NOT DISTINCT FROM
                              (o.tp, o.fn, o.fp, round(o.se::numeric, 4), round(o.f1::numeric, 4))) AS same_as_function
FROM ecgdl.report_ec57_records v JOIN ec_out o USING (record, class) WHERE v.model = 'ec_base';

-- bad input
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57(NULL, 'ec_beats')$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('ec_base', NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('ec_base', 'ec_beats', NULL)$$);
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('no_such_model', 'ec_beats')$$);
CREATE TABLE ec_empty AS SELECT * FROM ec_beats WHERE false;
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('ec_base', 'ec_empty')$$);
CREATE TABLE ec_unlabelled AS SELECT id, record, NULL::smallint AS label, signal FROM ec_beats;
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('ec_base', 'ec_unlabelled')$$);
CREATE TABLE ec_nolabel AS SELECT id, signal FROM ec_beats;
SELECT regress_error($$SELECT * FROM ecg_evaluate_ec57('ec_base', 'ec_nolabel')$$);
-- a table without records: the gross rows only
CREATE TABLE ec_norecord AS SELECT id, label, signal FROM ec_beats;
SELECT count(*) AS rows, min(record) AS record FROM ecg_evaluate_ec57('ec_base', 'ec_norecord');
-- nothing stored by the errors: 4 evaluations before them, 5 with the last run
SELECT count(*) AS evaluations FROM ecgdl.evaluations WHERE model_name = 'ec_base';
