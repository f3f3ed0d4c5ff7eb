-- count_runs.sql - runs of S and V beats counted in plain SQL, independently
-- of ecg_rhythm_summary, for checking it (sql/realdata.sql,
-- test/integration/signals.sh).  Needs the psql variable runs_source: an
-- annotation table (record, sample, symbol, label).  Creates the temporary
-- view counted_runs with the summary's columns: islands of consecutive beats
-- (WFDB beat symbols) of one class, S (label 1) or V (label 2).
CREATE TEMP VIEW counted_runs AS
WITH beats AS (
    SELECT record, sample, CASE label WHEN 1 THEN 'S' WHEN 2 THEN 'V' ELSE '-' END AS c
    FROM :runs_source WHERE symbol = ANY (string_to_array('N L R B A a J S V r F e j n E / f Q ?', ' '))
), islands AS (
    SELECT record, c, row_number() OVER (PARTITION BY record ORDER BY sample)
                      - row_number() OVER (PARTITION BY record, c ORDER BY sample) AS island
    FROM beats
), runs AS (
    SELECT record, c, count(*) AS n FROM islands WHERE c <> '-' GROUP BY record, c, island
)
SELECT b.record, count(*) AS beats,
       count(*) FILTER (WHERE c = 'S') AS s_beats,
       (SELECT count(*) FROM runs r WHERE r.record = b.record AND c = 'S' AND n = 2) AS s_couplets,
       (SELECT count(*) FROM runs r WHERE r.record = b.record AND c = 'S' AND n >= 3) AS s_runs,
       (SELECT coalesce(max(n), 0) FROM runs r WHERE r.record = b.record AND c = 'S') AS longest_s_run,
       count(*) FILTER (WHERE c = 'V') AS v_beats,
       (SELECT count(*) FROM runs r WHERE r.record = b.record AND c = 'V' AND n = 2) AS v_couplets,
       (SELECT count(*) FROM runs r WHERE r.record = b.record AND c = 'V' AND n >= 3) AS v_runs,
       (SELECT coalesce(max(n), 0) FROM runs r WHERE r.record = b.record AND c = 'V') AS longest_v_run
FROM beats b GROUP BY b.record;
