-- Scale-out (README "Scale-out"): the IMMUTABLE classify twins that take the
-- model's SHA-256, ecg_model_hash, and ecg_model_push through postgres_fdw
-- onto a loopback "shard" (this same database, through a foreign table over
-- ecgdl.model_imports).  test/integration/shards.sh runs three clusters.
SET client_min_messages = warning;
CREATE TABLE sh_beats AS SELECT * FROM tr_test;
SELECT ecg_model_hash('tr_cnn') = sha256(weights) AS hash_of_blob,
       length(ecg_model_hash('tr_cnn')) AS bytes
FROM ecgdl.models WHERE name = 'tr_cnn';
-- the twins agree with ecg_classify / ecg_predict_proba on every row
SELECT count(*) AS beats,
       count(*) FILTER (WHERE ecg_classify_hash(ecg_model_hash('tr_cnn'), signal) = ecg_classify('tr_cnn', signal)) AS same_class,
       count(*) FILTER (WHERE ecg_predict_proba_hash(ecg_model_hash('tr_cnn'), signal) = ecg_predict_proba('tr_cnn', signal)) AS same_probabilities,
       count(*) FILTER (WHERE ecg_classify_hash(ecg_model_hash('tr_baseline'), signal) = ecg_classify('tr_baseline', signal)) AS same_baseline
FROM sh_beats;
SELECT proname, provolatile, proparallel FROM pg_proc
WHERE proname IN ('ecg_classify_hash', 'ecg_predict_proba_hash', 'ecg_model_hash') ORDER BY proname;
-- a model is found by its content, whatever its name; another version under
-- the name is refused, not used
SELECT ecg_model_import('sh_model', ecg_model_export('tr_cnn')) > 0 AS imported;
SELECT ecg_model_hash('sh_model') AS cnn_hash \gset
SELECT ecg_model_import('sh_model', ecg_model_export('tr_baseline'), replace => true) > 0 AS replaced;
SELECT ecg_model_import('sh_other', ecg_model_export('tr_baseline')) > 0 AS imported;
SELECT ecg_model_hash('sh_model') = ecg_model_hash('sh_other') AS same_content;
-- tr_cnn still has the cnn's blob: found through it
SELECT count(*) FILTER (WHERE ecg_classify_hash(:'cnn_hash', signal) = ecg_classify('tr_cnn', signal)) AS cnn_by_hash FROM sh_beats;
SELECT ecg_model_drop('sh_other');
-- on a server with another version only (here: every model with the cnn's
-- blob replaced by the baseline's, in a transaction), the hash is refused
BEGIN;
SELECT count(ecg_model_import(name, ecg_model_export('tr_baseline'), replace => true)) > 0 AS replaced
FROM ecgdl.models WHERE sha256(weights) = :'cnn_hash';
SELECT regress_error(format($$SELECT ecg_classify_hash(%L, signal) FROM sh_beats LIMIT 1$$, :'cnn_hash')) =
       format('55000: no model with SHA-256 %s on this server [The model is missing here, or this server holds another version of it.]',
              encode(:'cnn_hash'::bytea, 'hex')) AS refused_with_hash;
SELECT regress_error(format($$SELECT ecg_predict_proba_hash(%L, signal) FROM sh_beats LIMIT 1$$, :'cnn_hash')) LIKE '55000: no model with SHA-256 %' AS proba_refused;
ROLLBACK;
SELECT count(*) FILTER (WHERE ecg_classify_hash(:'cnn_hash', signal) = ecg_classify('tr_cnn', signal)) AS cnn_back FROM sh_beats;
-- a hash of no model, a short hash, NULLs, a bad signal
SELECT regress_error($$SELECT ecg_classify_hash(sha256('no such model'), signal) FROM sh_beats LIMIT 1$$);
SELECT regress_error($$SELECT ecg_classify_hash('\xbeef', signal) FROM sh_beats LIMIT 1$$);
SELECT regress_error($$SELECT ecg_model_hash('no_such_model')$$);
SELECT regress_error($$SELECT ecg_classify_hash(NULL, signal) FROM sh_beats LIMIT 1$$);
SELECT regress_error(format($$SELECT ecg_classify_hash(%L, ARRAY[0.1]::real[])$$, ecg_model_hash('tr_cnn')));
SELECT regress_error(format($$SELECT ecg_predict_proba_hash(%L, NULL)$$, ecg_model_hash('tr_cnn')));

-- ecg_model_push through postgres_fdw to a loopback shard (this database)
CREATE EXTENSION postgres_fdw;
SELECT current_database() AS db, current_setting('port') AS port, current_setting('unix_socket_directories') AS sock \gset
CREATE SERVER sh_loop FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host :'sock', port :'port', dbname :'db', extensions 'ecgdl');
CREATE USER MAPPING FOR CURRENT_USER SERVER sh_loop;
CREATE SCHEMA sh_remote;
IMPORT FOREIGN SCHEMA ecgdl LIMIT TO (model_imports) FROM SERVER sh_loop INTO sh_remote;
SELECT inbox, sha256 = ecg_model_hash('tr_cnn') AS same_hash FROM ecg_model_push('tr_cnn', ARRAY['sh_remote.model_imports'::regclass]);
-- the push imports under the same name: here that is the model itself, replaced by itself
SELECT count(*) AS models FROM ecgdl.models WHERE name = 'tr_cnn';
SELECT (SELECT sha256 FROM sh_remote.model_imports WHERE name = 'tr_cnn') = ecg_model_hash('tr_cnn') AS remote_view_hash;
-- errors: no shards, an unknown model, a blob the shard refuses
SELECT regress_error($$SELECT * FROM ecg_model_push('tr_cnn', ARRAY[]::regclass[])$$);
SELECT regress_error($$SELECT * FROM ecg_model_push('no_such_model', ARRAY['sh_remote.model_imports'::regclass])$$);
SELECT regress_error($$INSERT INTO sh_remote.model_imports (name, weights) VALUES ('sh_bad', '\x00'::bytea)$$) LIKE '%not a valid ecgdl model%' AS bad_blob_refused;
SELECT count(*) AS no_bad_model FROM ecgdl.models WHERE name = 'sh_bad';
-- the classify twin is shipped: a foreign table over the beats, the call inside the remote query
CREATE FOREIGN TABLE sh_remote_beats (id bigint, label smallint, signal real[])
    SERVER sh_loop OPTIONS (table_name 'sh_beats');
SELECT ecg_model_hash('tr_cnn') AS h \gset
-- EXPLAIN VERBOSE with the model's hash written <sha256>
CREATE FUNCTION sh_explain(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || query LOOP
        RETURN NEXT replace(line, encode(ecg_model_hash('tr_cnn'), 'hex'), '<sha256>');
    END LOOP;
END $$;
SELECT sh_explain(format($$SELECT label, ecg_classify_hash(%L, signal) AS predicted, count(*)
FROM sh_remote_beats GROUP BY 1, 2$$, :'h'));
-- the hash must be a constant (or a parameter): ecg_model_hash(...) in the
-- query is STABLE, so the call stays on the coordinator and signals cross
SELECT sh_explain($$SELECT label, ecg_classify_hash(ecg_model_hash('tr_cnn'), signal) AS predicted, count(*)
FROM sh_remote_beats GROUP BY 1, 2$$);
SELECT sh_explain(format($$SELECT id, ecg_predict_proba_hash(%L, signal) FROM sh_remote_beats
WHERE ecg_classify_hash(%1$L, signal) = 2$$, :'h'));
-- PostgreSQL 15's postgres_fdw computes a plain scan's select list locally (the
-- signal would cross): per-beat results are asked for grouped by the beat id,
-- which ships the call with the grouping
SELECT sh_explain(format($$SELECT id, ecg_classify_hash(%L, signal) FROM sh_remote_beats GROUP BY id, 2$$, :'h'));
SELECT (SELECT array_agg(row(id, p) ORDER BY id)
        FROM (SELECT id, ecg_classify_hash(:'h', signal) AS p FROM sh_remote_beats GROUP BY id, 2) r) =
       (SELECT array_agg(row(id, ecg_classify('tr_cnn', signal)) ORDER BY id) FROM sh_beats) AS same_through_fdw;
DROP FUNCTION sh_explain(text);
DROP FOREIGN TABLE sh_remote_beats;
DROP SCHEMA sh_remote CASCADE;
DROP SERVER sh_loop CASCADE;
DROP EXTENSION postgres_fdw;
SELECT ecg_model_drop('sh_model');
DROP TABLE sh_beats;
