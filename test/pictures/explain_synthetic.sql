-- The README's "Why this class?" picture, from synthetic beats only (no
-- recording's samples are kept in this repository): 600 beats made of
-- Gaussians - narrow-QRS "N" beats with a P wave, wide-QRS "V" beats without
-- one and with an inverted T wave - train a small cnn, which then explains
-- one clean beat of each kind.  Prints an HTML page with both SVGs:
--   psql -X -v ON_ERROR_STOP=1 -At -f test/pictures/explain_synthetic.sql > /tmp/explain.html
--   chromium --headless --force-device-scale-factor=2 --window-size=390,280 \
--       --screenshot=test/pictures/explain_synthetic.png /tmp/explain.html
-- (in a database with ecgdl installed; the model ps_explain is dropped again).
\set QUIET on
SET client_min_messages = warning;
SELECT setseed(0.42) \g /dev/null
-- a Gaussian bump at c of width w (exp clamped: PostgreSQL errors on underflow)
CREATE FUNCTION pg_temp.ps_g(t float8, c float8, w float8) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$ SELECT exp(greatest(-(((t - c) / w) ^ 2), -700)) $$;

-- kind 0 = N, 2 = V; shift (samples), height, noise: per beat
CREATE TEMP TABLE ps_beats AS
SELECT g::bigint AS id, k AS label,
       (SELECT array_agg((CASE WHEN k = 0 THEN
              0.2 + 0.12 * pg_temp.ps_g(t, 35 + s, 8.0) + h * pg_temp.ps_g(t, 70 + s, 3.5)
                  - 0.15 * pg_temp.ps_g(t, 78 + s, 3.0) + 0.25 * pg_temp.ps_g(t, 120 + s, 14.0)
            ELSE
              0.35 + h * pg_temp.ps_g(t, 72 + s, 9.0) - 0.2 * pg_temp.ps_g(t, 118 + s, 16.0)
            END + n * (random() - 0.5))::real ORDER BY t)
        FROM generate_series(0, 186) t) AS signal
FROM generate_series(1, 600) g,
     LATERAL (SELECT (CASE WHEN g % 2 = 0 THEN 0 ELSE 2 END)::smallint AS k,
                     10 * (random() - 0.5) AS s, 0.5 + 0.4 * random() AS h,
                     0.04 * random() AS n) p;
ALTER TABLE ps_beats ADD PRIMARY KEY (id);
SELECT ecg_train('ps_explain', 'ps_beats', 'cnn', epochs => 12, batch_size => 32, seed => 1) \g /dev/null

-- one clean beat of each kind (shift 0, height 0.8, no noise)
CREATE TEMP TABLE ps_show AS
SELECT k AS label,
       (SELECT array_agg((CASE WHEN k = 0 THEN
              0.2 + 0.12 * pg_temp.ps_g(t, 35, 8.0) + 0.8 * pg_temp.ps_g(t, 70, 3.5)
                  - 0.15 * pg_temp.ps_g(t, 78, 3.0) + 0.25 * pg_temp.ps_g(t, 120, 14.0)
            ELSE
              0.35 + 0.8 * pg_temp.ps_g(t, 72, 9.0) - 0.2 * pg_temp.ps_g(t, 118, 16.0)
            END)::real ORDER BY t)
        FROM generate_series(0, 186) t) AS signal
FROM (VALUES (0::smallint), (2::smallint)) v(k);

SELECT '<!DOCTYPE html><html><body style="margin:4px;background:#fff;overflow:hidden">' ||
       string_agg('<div>' || regexp_replace(
                      ecg_plot_beat(signal, shading => d.attributions,
                                    title => format('synthetic %s beat, class %s: logit %s (flat beat %s)',
                                                    (ARRAY['N', 'S', 'V', 'F', 'Q'])[label + 1],
                                                    (ARRAY['N', 'S', 'V', 'F', 'Q'])[d.class + 1],
                                                    round(d.score::numeric, 2), round(d.baseline_score::numeric, 2))),
                      '^<\?xml[^>]*>\s*', ''), '</div>' ORDER BY label) ||
       '</body></html>'
FROM ps_show, ecg_explain_details('ps_explain', signal) d;

SELECT ecg_model_drop('ps_explain') \g /dev/null
