-- ecgdl 0.1.0 -> 0.2.0.
-- 0.1.0's script (sql/ecgdl--0.1.0.sql) stays as it shipped; CREATE EXTENSION
-- ecgdl runs it and then this script, and ALTER EXTENSION ecgdl UPDATE runs
-- this script on an installed 0.1.0.  The same rules as 0.1.0: every
-- function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.2.0'" to load this file. \quit

-- == tables: new tables of ecgdl's own definition, typed internal calls, checks before work ==

-- The checks of ecg_study's arguments that need ecg_train's own code (the
-- architectures, the training arguments, the class weights, whether each
-- model name may be used); ecg_study calls it before its first step.
CREATE FUNCTION ecgdl.study_check(archs text[], epochs int, batch_size int, patience int, seed int,
                                  class_weight text, models text[], replace boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'ecg_study_check'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION ecgdl.study_check(text[], int, int, int, int, text, text[], boolean) IS
'Internal to ecg_study: errors as ecg_train would on a bad architecture or training argument, or on a model name that exists (without replace) or belongs to another role';

-- ecg_study, as in 0.1.0, but:
--  * every internal call passes every argument, each with its exact type
--    (parameters of the declared types, casts on the constants), and is
--    qualified with the extension's schema: an overload another role adds to
--    a schema it may write (even the extension's own, when that is public)
--    can never match better, nor take a call that relies on a default;
--  * the tables are named with the schema they are created in (the first of
--    the caller's search_path, as CREATE TABLE does), so that no look-alike
--    elsewhere on the path is checked, reused or dropped;
--  * everything is checked before the first step: the arguments (ecg_train's
--    own checks through ecgdl.study_check), that every table name fits in 63
--    bytes and that neither a table nor a model to be made exists (unless
--    replace, or a kept split), so that nothing fails after hours of work.
CREATE OR REPLACE FUNCTION ecg_study(source regclass, prefix text DEFAULT 'study',
                                     epochs int DEFAULT 100, batch_size int DEFAULT 2048,
                                     patience int DEFAULT 15, seed int DEFAULT 42,
                                     split text DEFAULT 'stratified',
                                     methods text[] DEFAULT ARRAY['none', 'random', 'smote', 'adasyn'],
                                     archs text[] DEFAULT ARRAY['baseline', 'cnn'],
                                     replace boolean DEFAULT false,
                                     class_weight text DEFAULT 'none',
                                     reuse_split boolean DEFAULT false)
RETURNS SETOF ecgdl.report
LANGUAGE plpgsql
AS $study$
-- Every type, operator, function and catalog below is qualified with
-- pg_catalog: the body runs (and its variables are declared) with the
-- caller's search_path, which may hold look-alike objects.
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    target_schema pg_catalog.text := pg_catalog.current_schema();
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    study_tables pg_catalog.text[];
    method pg_catalog.text;
    arch pg_catalog.text;
    t pg_catalog.text;
    train_table pg_catalog.text;
    model_name pg_catalog.text;
    models pg_catalog.text[] := '{}';
    longest pg_catalog.int4;
    t0 pg_catalog.timestamptz;
    reusing pg_catalog.bool;
BEGIN
    IF source IS NULL OR prefix IS NULL OR epochs IS NULL OR batch_size IS NULL OR patience IS NULL
       OR seed IS NULL OR split IS NULL OR methods IS NULL OR archs IS NULL OR replace IS NULL
       OR class_weight IS NULL OR reuse_split IS NULL OR pg_catalog.array_position(methods, NULL) IS NOT NULL
       OR pg_catalog.array_position(archs, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ecg_study arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF prefix OPERATOR(pg_catalog.!~) '^[a-z_][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid study prefix "%"', prefix USING ERRCODE = '22023',
            HINT = 'Use lower-case letters, digits and underscores; tables and models are named after it.';
    END IF;
    IF NOT split OPERATOR(pg_catalog.=) ANY (ARRAY['stratified', 'random', 'inter-patient']) THEN
        RAISE EXCEPTION 'unknown split method "%"', split USING ERRCODE = '22023',
            HINT = 'Use ''stratified'', ''random'' or ''inter-patient''.';
    END IF;
    IF pg_catalog.cardinality(methods) OPERATOR(pg_catalog.=) 0
       OR pg_catalog.cardinality(archs) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'ecg_study needs at least one method and one architecture' USING ERRCODE = '22023';
    END IF;
    FOREACH method IN ARRAY methods LOOP
        IF NOT method OPERATOR(pg_catalog.=) ANY (ARRAY['none', 'random', 'smote', 'adasyn']) THEN
            RAISE EXCEPTION 'unknown oversampling method "%"', method USING ERRCODE = '22023',
                HINT = 'Use ''none'', ''random'', ''smote'' or ''adasyn''.';
        END IF;
        IF pg_catalog.array_position(methods, method, pg_catalog.array_position(methods, method) OPERATOR(pg_catalog.+) 1)
           IS NOT NULL THEN
            RAISE EXCEPTION 'oversampling method "%" is named twice', method USING ERRCODE = '22023';
        END IF;
    END LOOP;
    FOREACH arch IN ARRAY archs LOOP
        IF pg_catalog.array_position(archs, arch, pg_catalog.array_position(archs, arch) OPERATOR(pg_catalog.+) 1)
           IS NOT NULL THEN
            RAISE EXCEPTION 'architecture "%" is named twice', arch USING ERRCODE = '22023';
        END IF;
        FOREACH method IN ARRAY methods LOOP
            models := pg_catalog.array_append(models, pg_catalog.format('%s_%s_%s', prefix, arch, method));
        END LOOP;
    END LOOP;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create the study''s tables in' USING ERRCODE = '3F000',
            HINT = 'Set search_path to a schema you may create tables in.';
    END IF;

    -- every table name the study may make fits in 63 bytes (PostgreSQL would
    -- cut it, and two names could clash after the work)
    study_tables := ARRAY[t_trainval, t_test, t_train, t_val];
    longest := 9;   -- _trainval
    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.<>) 'none' THEN
            study_tables := pg_catalog.array_append(study_tables, pg_catalog.format('%s_train_%s', prefix, method));
            longest := GREATEST(longest, pg_catalog.octet_length(method) OPERATOR(pg_catalog.+) 7);
        END IF;
    END LOOP;
    FOREACH t IN ARRAY study_tables LOOP
        IF pg_catalog.octet_length(t) OPERATOR(pg_catalog.>) 63 THEN
            RAISE EXCEPTION 'study table name "%" is too long', t USING ERRCODE = '42622',
                DETAIL = pg_catalog.format('It has %s bytes; PostgreSQL names have at most 63.', pg_catalog.octet_length(t)),
                HINT = pg_catalog.format('Use a prefix of at most %s characters for these methods.', 63 OPERATOR(pg_catalog.-) longest);
        END IF;
    END LOOP;

    -- tables that would be made and exist already
    reusing := reuse_split
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_train)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_val)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_test)) IS NOT NULL;
    -- (a kept split keeps its tables and the oversampled ones that exist)
    IF NOT replace AND NOT reusing THEN
        FOREACH t IN ARRAY study_tables LOOP
            IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t)) IS NOT NULL THEN
                RAISE EXCEPTION 'relation "%" already exists', t USING ERRCODE = '42P07',
                    HINT = 'Pass replace => true to replace the study''s tables and models, reuse_split => true to keep its split, or choose another prefix.';
            END IF;
        END LOOP;
    END IF;

    -- the training arguments and model names, with ecg_train's own checks
    PERFORM ecgdl.study_check(archs, epochs, batch_size, patience, seed, class_weight, models, replace);

    -- the work
    IF replace AND NOT reusing THEN
        EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I',
                                  target_schema, t_trainval, t_test, t_train, t_val);
    END IF;
    IF replace THEN
        FOREACH method IN ARRAY methods LOOP
            EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I.%I', target_schema,
                                      pg_catalog.format('%s_train_%s', prefix, method));
        END LOOP;
    END IF;

    IF reusing THEN
        RAISE NOTICE 'study %: reusing the split tables %, %, %', prefix, t_train, t_val, t_test;
    ELSE
        RAISE NOTICE 'study %: splitting %', prefix, source;
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_split($1::pg_catalog.regclass, '
                                  '$2::pg_catalog.text, $3::pg_catalog.text, $4::pg_catalog.float8, '
                                  '$5::pg_catalog.int4, $6::pg_catalog.text)', ext_schema)
            USING source, pg_catalog.format('%I.%I', target_schema, t_trainval),
                  pg_catalog.format('%I.%I', target_schema, t_test), 0.2::pg_catalog.float8, seed, split;
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_split($1::pg_catalog.regclass, '
                                  '$2::pg_catalog.text, $3::pg_catalog.text, $4::pg_catalog.float8, '
                                  '$5::pg_catalog.int4, $6::pg_catalog.text)', ext_schema)
            USING pg_catalog.format('%I.%I', target_schema, t_trainval)::pg_catalog.regclass,
                  pg_catalog.format('%I.%I', target_schema, t_train),
                  pg_catalog.format('%I.%I', target_schema, t_val), 0.3::pg_catalog.float8, seed,
                  'stratified'::pg_catalog.text;
    END IF;

    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.=) 'none' THEN
            train_table := pg_catalog.format('%I.%I', target_schema, t_train);
        ELSE
            train_table := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_train_%s', prefix, method));
            IF reusing AND pg_catalog.to_regclass(train_table) IS NOT NULL THEN
                RAISE NOTICE 'study %: reusing the oversampled table %', prefix, train_table;
            ELSE
                t0 := pg_catalog.clock_timestamp();
                EXECUTE pg_catalog.format('SELECT %I.ecg_oversample($1::pg_catalog.regclass, $2::pg_catalog.text, '
                                          '$3::pg_catalog.text, $4::pg_catalog.int4, $5::pg_catalog.int4, '
                                          '$6::pg_catalog.text)', ext_schema)
                    USING pg_catalog.format('%I.%I', target_schema, t_train)::pg_catalog.regclass, train_table,
                          method, 5::pg_catalog.int4, seed, 'auto'::pg_catalog.text;
                RAISE NOTICE 'study %: % oversampling took % s', prefix, method,
                    pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0), 1);
            END IF;
        END IF;
        FOREACH arch IN ARRAY archs LOOP
            model_name := pg_catalog.format('%s_%s_%s', prefix, arch, method);
            RAISE NOTICE 'study %: training % on %', prefix, model_name, train_table;
            EXECUTE pg_catalog.format('SELECT %I.ecg_train($1::pg_catalog.text, $2::pg_catalog.regclass, '
                                      '$3::pg_catalog.text, $4::pg_catalog.regclass, $5::pg_catalog.int4, '
                                      '$6::pg_catalog.int4, $7::pg_catalog.float8, $8::pg_catalog.int4, '
                                      '$9::pg_catalog.int4, $10::pg_catalog.text, $11::pg_catalog.bool, '
                                      '$12::pg_catalog.float8)', ext_schema)
                USING model_name, train_table::pg_catalog.regclass, arch,
                      pg_catalog.format('%I.%I', target_schema, t_val)::pg_catalog.regclass, epochs, batch_size,
                      1e-3::pg_catalog.float8, patience, seed, class_weight, replace, 0.3::pg_catalog.float8;
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %I.ecg_evaluate($1::pg_catalog.text, '
                                      '$2::pg_catalog.regclass)', ext_schema)
                USING model_name, pg_catalog.format('%I.%I', target_schema, t_test)::pg_catalog.regclass;
        END LOOP;
    END LOOP;
    -- the report rows of this study: models <prefix>_<arch>_<method>
    -- evaluated on <prefix>_test
    RETURN QUERY SELECT r.* FROM ecgdl.report r
        WHERE pg_catalog.starts_with(r.model, pg_catalog.format('%s_', prefix))
          AND pg_catalog.split_part(r.test_table, '.', -1) OPERATOR(pg_catalog.=) t_test
        ORDER BY r.architecture, pg_catalog.array_position(ARRAY['none', 'random', 'smote', 'adasyn'], r.oversampling);
END
$study$;

-- == store: ecgdl.models and ecgdl.evaluations (issue 10, findings 4, 5, 11) ==

-- Owners are roles, not names: owner becomes regrole, an OID that is shown
-- (and written by pg_dump) as the role's name, so that a renamed role keeps
-- its models and evaluations and a new role of an old name gets none.  A row
-- whose name matches no role any more (the role was dropped or renamed before
-- this update) goes to the tables' owner, with a WARNING (an extension
-- script's NOTICEs are not shown).  The policies that
-- read owner are dropped first and made again below.
DROP POLICY models_insert ON ecgdl.models;
DROP POLICY models_update ON ecgdl.models;
DROP POLICY models_delete ON ecgdl.models;
DROP POLICY evaluations_insert ON ecgdl.evaluations;
DROP POLICY evaluations_delete ON ecgdl.evaluations;
DO $owners$
DECLARE
    fallback pg_catalog.oid := (SELECT c.relowner FROM pg_catalog.pg_class c
                                WHERE c.oid OPERATOR(pg_catalog.=) 'ecgdl.models'::pg_catalog.regclass);
    role_of pg_catalog.text := 'pg_catalog.to_regrole(pg_catalog.quote_ident(owner::pg_catalog.text))';
    orphans pg_catalog.int8;
    t pg_catalog.text;
BEGIN
    FOREACH t IN ARRAY ARRAY['models', 'evaluations'] LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM ecgdl.%I WHERE %s IS NULL', t, role_of)
            INTO orphans;
        IF orphans OPERATOR(pg_catalog.>) 0 THEN
            RAISE WARNING 'ecgdl.%: % row(s) owned by a name that is no role any more now belong to %',
                t, orphans, fallback::pg_catalog.regrole;
        END IF;
        EXECUTE pg_catalog.format('ALTER TABLE ecgdl.%I ALTER COLUMN owner DROP DEFAULT, '
                                  'ALTER COLUMN owner TYPE pg_catalog.regrole USING COALESCE(%s, %s::pg_catalog.regrole), '
                                  'ALTER COLUMN owner SET DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER::pg_catalog.text))',
                                  t, role_of, fallback);
    END LOOP;
END
$owners$;

-- Only ecgdl's functions write the two tables: no direct INSERT, UPDATE or
-- DELETE is granted, so no role forges or reshapes an evaluation, dates one in
-- the future, takes ids ahead of the sequence (OVERRIDING SYSTEM VALUE), writes
-- a model row that bypasses the blob's validation, or locks a table against
-- everyone's classification (LOCK TABLE in a strong mode needs a write
-- privilege).  ecg_train, ecg_model_import, ecg_evaluate, ecg_model_drop and
-- ecg_evaluations_drop check what the caller may do themselves (replace or
-- drop only a model of a role the caller is a member of; evaluate only a model
-- the caller can read; drop its own evaluations and those of its models) and
-- then write as the tables' owner, owner set to the caller
-- (src/model_store.c).  Everyone reads both tables.
REVOKE ALL ON ecgdl.models, ecgdl.evaluations FROM PUBLIC;
GRANT SELECT ON ecgdl.models, ecgdl.evaluations TO PUBLIC;

-- pg_dump keeps every model and evaluation, and the sequences of their ids
-- (so that ids continue after a restore); CREATE EXTENSION in the dump makes
-- the tables, the dump's data fills them.  pg_dump reads the sequences, so
-- roles other than superusers need SELECT on them (it shows only the last id;
-- nextval and setval need USAGE and UPDATE, granted to no one).
SELECT pg_catalog.pg_extension_config_dump('ecgdl.models', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.models_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.evaluations_id_seq', '');
GRANT SELECT ON SEQUENCE ecgdl.models_id_seq, ecgdl.evaluations_id_seq TO PUBLIC;

-- The report never fails on a row: a figure is read only where per_class
-- holds a JSON number at its place (strict path, errors silenced: NULL
-- otherwise).  Same columns as 0.1.0 (ecg_study returns SETOF ecgdl.report).
CREATE OR REPLACE VIEW ecgdl.report AS
SELECT DISTINCT ON (e.model_id, e.test_table)
       m.name AS model, m.architecture, COALESCE(m.oversampling, 'unknown') AS oversampling,
       COALESCE(m.hyperparameters OPERATOR(pg_catalog.->>) 'class_weight', 'none') AS class_weight,
       m.training_table, e.test_table, e.rows AS test_rows,
       pg_catalog.round(e.accuracy::pg_catalog.numeric, 4) AS accuracy,
       pg_catalog.round(e.macro_f1::pg_catalog.numeric, 4) AS macro_f1,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.f1 ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS f1_q,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.precision ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS precision_q,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.N.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_n,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.S.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_s,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.V.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_v,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.F.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_f,
       pg_catalog.round(pg_catalog.jsonb_path_query_first(e.per_class, 'strict $.Q.recall ? (@.type() == "number")', '{}', true)::pg_catalog.numeric, 3) AS recall_q,
       m.epochs_run AS epochs, m.best_epoch,
       pg_catalog.round(m.training_seconds::pg_catalog.numeric, 1) AS training_seconds,
       e.evaluated_at
FROM ecgdl.evaluations e JOIN ecgdl.models m ON m.id OPERATOR(pg_catalog.=) e.model_id
ORDER BY e.model_id, e.test_table, e.evaluated_at DESC, e.id DESC;

-- == dropping models and evaluations (the tables take no direct writes) ==

CREATE FUNCTION ecg_model_drop(name text, if_exists boolean DEFAULT false)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecg_model_drop'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_model_drop(text, boolean) IS
'Drops a stored model (and its evaluations) of a role the caller is a member of; returns whether one was dropped';

CREATE FUNCTION ecg_evaluations_drop(model text, test_table text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_evaluations_drop'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_evaluations_drop(text, text) IS
'Deletes the stored evaluations of a model (on one test table when given) that the caller may delete: its own, or all of a model it owns; returns how many';

-- == signals: signal tables, QRS detection, beats without reference annotations ==

-- Signal tables: record text, lead text, fs float8 (Hz), start_sample bigint,
-- samples real[] (mV), one row per chunk of one lead.
CREATE FUNCTION ecg_import_wfdb_signals(directory text, target text, records text[] DEFAULT NULL,
                                        leads text[] DEFAULT NULL, chunk_seconds int DEFAULT 60)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_wfdb_signals'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) IS
'Reads the signals of WFDB records from a server directory into a new signal table (one row per chunk of chunk_seconds of one lead, samples in mV); returns the number of rows';

CREATE FUNCTION ecg_import_annotations(directory text, target text, records text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_annotations'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_import_annotations(text, text, text[]) IS
'Reads the reference annotation files (.atr) of WFDB records into a new annotation table (record, sample, symbol, subtype, AAMI label, fs); returns the number of annotations';

-- Reading server files is as privileged as COPY FROM a file (as ecg_import_wfdb).
REVOKE ALL ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecg_import_annotations(text, text, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecg_import_wfdb_signals(text, text, text[], text[], int) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION ecg_import_annotations(text, text, text[]) TO pg_read_server_files;

CREATE FUNCTION ecg_detect_qrs(samples real[], fs float8)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'ecg_detect_qrs'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ecg_detect_qrs(real[], float8) IS
'Sample positions (0 = the first sample) of the R peaks of one ECG lead in mV sampled at fs Hz (100 to 1000)';

CREATE FUNCTION ecg_detect_beats(recordings regclass, target text, lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_detect_beats'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_detect_beats(regclass, text, text) IS
'Detects the beats of one lead of every record of a signal table into a new annotation table (symbol and label NULL); returns the number of beats';

CREATE FUNCTION ecg_beats_from_signals(recordings regclass, annotations regclass, target text,
                                       lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_beats_from_signals'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_beats_from_signals(regclass, regclass, text, text) IS
'Cuts beats from a signal table at the positions of an annotation table (reference: labelled; detected: label NULL) by the method of ecg_import_wfdb into a new beat table (plus fs); returns the number of beats';

-- Every ecg_qrs_evaluate() run.  As ecgdl.evaluations: written only by
-- ecgdl's C code, as the table's owner (owner set to the caller), deleted
-- only through ecg_qrs_evaluations_drop; everyone reads it; pg_dump keeps it
-- and its id sequence.
CREATE TABLE ecgdl.qrs_evaluations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detected_table    text NOT NULL,
    reference_table   text NOT NULL,
    window_ms         float8 NOT NULL,
    learning_period_s float8 NOT NULL,
    evaluated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    records           int NOT NULL,
    tp                bigint NOT NULL,
    fn                bigint NOT NULL,
    fp                bigint NOT NULL,
    se                float8,
    ppv               float8,
    se_whole          float8,
    ppv_whole         float8,
    per_record        jsonb NOT NULL,
    owner             regrole NOT NULL
                      DEFAULT pg_catalog.to_regrole(pg_catalog.quote_ident(CURRENT_USER::pg_catalog.text))
);
COMMENT ON TABLE ecgdl.qrs_evaluations IS 'Every ecg_qrs_evaluate() run: gross TP/FN/FP, Se and +P in percent (after the learning period and over whole records), and the counts per record';
ALTER TABLE ecgdl.qrs_evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY qrs_evaluations_read ON ecgdl.qrs_evaluations FOR SELECT USING (true);
REVOKE ALL ON ecgdl.qrs_evaluations FROM PUBLIC;
GRANT SELECT ON ecgdl.qrs_evaluations TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('ecgdl.qrs_evaluations', '');
SELECT pg_catalog.pg_extension_config_dump('ecgdl.qrs_evaluations_id_seq', '');
GRANT SELECT ON SEQUENCE ecgdl.qrs_evaluations_id_seq TO PUBLIC;

CREATE FUNCTION ecg_qrs_evaluations_drop(detected_table text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_qrs_evaluations_drop'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_qrs_evaluations_drop(text) IS
'Deletes the caller''s stored QRS evaluations (of one detected table, as written in ecgdl.qrs_evaluations, when given); returns how many';

CREATE FUNCTION ecg_qrs_evaluate(detected regclass, reference regclass, window_ms float8 DEFAULT 150,
                                 learning_period_s float8 DEFAULT 300)
RETURNS TABLE (record text, tp bigint, fn bigint, fp bigint, se float8, ppv float8,
               se_whole float8, ppv_whole float8)
AS 'MODULE_PATHNAME', 'ecg_qrs_evaluate'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_qrs_evaluate(regclass, regclass, float8, float8) IS
'Beat-by-beat comparison of detected beats with reference beats as ANSI/AAMI EC57 and WFDB bxb define it: TP, FN, FP, Se and +P (%) per record and gross, after the learning period and over the whole record; also stored in ecgdl.qrs_evaluations';

CREATE FUNCTION ecg_rhythm_summary(beats regclass, model text DEFAULT NULL, fs float8 DEFAULT NULL)
RETURNS TABLE (record text, duration_s float8, beats bigint, mean_hr float8, min_hr float8,
               max_hr float8, s_beats bigint, s_per_hour float8, s_couplets bigint, s_runs bigint,
               longest_s_run bigint, v_beats bigint, v_per_hour float8, v_couplets bigint,
               v_runs bigint, longest_v_run bigint, pauses bigint, longest_rr_s float8)
AS 'MODULE_PATHNAME', 'ecg_rhythm_summary'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_rhythm_summary(regclass, text, float8) IS
'Holter-style summary per record of a beat or annotation table: duration, beats, heart rates, S and V beats (total, per hour, couplets, runs of three or more, longest run), pauses (R-R over 2 s); model NULL uses the table''s labels';

-- == rr: R-R features, lead preference, EC57 reporting, patient-wise cross-validation (issue 12) ==
-- Beat tables made from records get eight R-R feature columns (rr_pre ...
-- rr_post_record, real; C code, no SQL object).  The lead of a record is
-- chosen by a preference: 'auto' (the new default: MLII, ML2, II, MLIII, III,
-- CM5, V5, V4, then the record's first signal) or a comma-separated list of
-- names; 'MLII' keeps the 0.1.0 behaviour.
CREATE OR REPLACE FUNCTION ecg_import_wfdb(directory text, target text, records text[] DEFAULT NULL,
                                           lead text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_wfdb'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_import_wfdb(text, text, text[], text) IS
'Reads MIT-BIH style WFDB records (.hea, .dat, .atr) from a server directory into a new beat table with R-R features; lead: ''auto'' or a list of preferred leads (a NOTICE names any other lead taken); returns the number of beats';

CREATE OR REPLACE FUNCTION ecg_beats_from_signals(recordings regclass, annotations regclass, target text,
                                                  lead text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_beats_from_signals'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_beats_from_signals(regclass, regclass, text, text) IS
'Cuts beats from a signal table at the positions of an annotation table (reference: labelled; detected: label NULL) by the method of ecg_import_wfdb into a new beat table (plus fs and R-R features); lead: ''auto'' or a list of preferred leads; returns the number of beats';

-- EC57 reporting.  ecg_evaluate keeps its 0.1.0 signature and result (a
-- return type cannot change); ecg_evaluate_ec57 reports per record and gross
-- as EC57 does and stores the evaluation like ecg_evaluate plus the
-- per-record confusion matrices (NULL for ecg_evaluate's rows).
ALTER TABLE ecgdl.evaluations ADD COLUMN per_record jsonb;
COMMENT ON COLUMN ecgdl.evaluations.per_record IS
'ecg_evaluate_ec57 only: the confusion matrix of every record, {"record": [[N row], [S row], ...]} (rows: true class, columns: predicted, N S V F Q)';

CREATE FUNCTION ecgdl.ec57_figures(confusion bigint[])
RETURNS TABLE (class text, tp bigint, fn bigint, fp bigint, tn bigint,
               se float8, ppv float8, fpr float8, f1 float8)
AS 'MODULE_PATHNAME', 'ecg_ec57_figures'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ecgdl.ec57_figures(bigint[]) IS
'EC57 figures of a 5 x 5 confusion matrix (N S V F Q; Q left out): per class N, S, V, F TP, FN, FP, TN, Se, +P, FPR, F1, then "macro" (mean F1 of N, S, V, F)';

CREATE FUNCTION ecg_evaluate_ec57(model text, test regclass, by_record boolean DEFAULT true)
RETURNS TABLE (record text, class text, tp bigint, fn bigint, fp bigint, tn bigint,
               se float8, ppv float8, fpr float8, f1 float8)
AS 'MODULE_PATHNAME', 'ecg_evaluate_ec57'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_evaluate_ec57(text, regclass, boolean) IS
'EC57 report of a model on a labelled beat table: per record (by_record) and "gross", per class N, S, V, F TP, FN, FP, TN, Se, +P, FPR, F1, and "macro" F1 (Q left out); stored in ecgdl.evaluations with the per-record matrices';

-- The latest evaluation of every model and test table, as EC57 and the
-- inter-patient literature report it (gross, Q left out).
CREATE VIEW ecgdl.report_ec57 AS
SELECT DISTINCT ON (e.model_id, e.test_table)
       e.model_name AS model, e.test_table,
       (SELECT pg_catalog.sum(f.tp OPERATOR(pg_catalog.+) f.fn) FROM ecgdl.ec57_figures(e.confusion) f)::bigint AS beats,
       (e.confusion[5][1] OPERATOR(pg_catalog.+) e.confusion[5][2] OPERATOR(pg_catalog.+) e.confusion[5][3]
        OPERATOR(pg_catalog.+) e.confusion[5][4] OPERATOR(pg_catalog.+) e.confusion[5][5]) AS q_beats_left_out,
       g.se_n, g.ppv_n, g.fpr_n, g.f1_n, g.se_s, g.ppv_s, g.fpr_s, g.f1_s,
       g.se_v, g.ppv_v, g.fpr_v, g.f1_v, g.se_f, g.ppv_f, g.fpr_f, g.f1_f, g.macro_f1,
       e.per_record IS NOT NULL AS per_record, e.evaluated_at
FROM ecgdl.evaluations e
CROSS JOIN LATERAL (
    SELECT pg_catalog.round(pg_catalog.max(f.se) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'N')::numeric, 4) AS se_n,
           pg_catalog.round(pg_catalog.max(f.ppv) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'N')::numeric, 4) AS ppv_n,
           pg_catalog.round(pg_catalog.max(f.fpr) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'N')::numeric, 4) AS fpr_n,
           pg_catalog.round(pg_catalog.max(f.f1) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'N')::numeric, 4) AS f1_n,
           pg_catalog.round(pg_catalog.max(f.se) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'S')::numeric, 4) AS se_s,
           pg_catalog.round(pg_catalog.max(f.ppv) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'S')::numeric, 4) AS ppv_s,
           pg_catalog.round(pg_catalog.max(f.fpr) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'S')::numeric, 4) AS fpr_s,
           pg_catalog.round(pg_catalog.max(f.f1) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'S')::numeric, 4) AS f1_s,
           pg_catalog.round(pg_catalog.max(f.se) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'V')::numeric, 4) AS se_v,
           pg_catalog.round(pg_catalog.max(f.ppv) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'V')::numeric, 4) AS ppv_v,
           pg_catalog.round(pg_catalog.max(f.fpr) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'V')::numeric, 4) AS fpr_v,
           pg_catalog.round(pg_catalog.max(f.f1) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'V')::numeric, 4) AS f1_v,
           pg_catalog.round(pg_catalog.max(f.se) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'F')::numeric, 4) AS se_f,
           pg_catalog.round(pg_catalog.max(f.ppv) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'F')::numeric, 4) AS ppv_f,
           pg_catalog.round(pg_catalog.max(f.fpr) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'F')::numeric, 4) AS fpr_f,
           pg_catalog.round(pg_catalog.max(f.f1) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'F')::numeric, 4) AS f1_f,
           pg_catalog.round(pg_catalog.max(f.f1) FILTER (WHERE f.class OPERATOR(pg_catalog.=) 'macro')::numeric, 4) AS macro_f1
    FROM ecgdl.ec57_figures(e.confusion) f) g
ORDER BY e.model_id, e.test_table, e.evaluated_at DESC, e.id DESC;
COMMENT ON VIEW ecgdl.report_ec57 IS
'The latest evaluation of every model on every test table as EC57 reports it: gross Se, +P, FPR, F1 of N, S, V, F and their macro F1 (Q left out)';

-- Per record, from the latest evaluation that has per-record matrices
-- (ecg_evaluate_ec57) of every model and test table.
CREATE VIEW ecgdl.report_ec57_records AS
SELECT l.model_name AS model, l.test_table, r.record, f.class,
       f.tp OPERATOR(pg_catalog.+) f.fn AS beats, f.tp, f.fn, f.fp,
       pg_catalog.round(f.se::numeric, 4) AS se, pg_catalog.round(f.ppv::numeric, 4) AS ppv,
       pg_catalog.round(f.fpr::numeric, 4) AS fpr, pg_catalog.round(f.f1::numeric, 4) AS f1,
       l.evaluated_at
FROM (SELECT DISTINCT ON (e.model_id, e.test_table) e.*
      FROM ecgdl.evaluations e WHERE e.per_record IS NOT NULL
      ORDER BY e.model_id, e.test_table, e.evaluated_at DESC, e.id DESC) l
CROSS JOIN LATERAL pg_catalog.jsonb_each(l.per_record) r(record, matrix)
CROSS JOIN LATERAL ecgdl.ec57_figures(pg_catalog.translate(r.matrix::pg_catalog.text, '[]', '{}')::bigint[]) f
WHERE f.class OPERATOR(pg_catalog.<>) 'macro';
COMMENT ON VIEW ecgdl.report_ec57_records IS
'Per record of the latest ecg_evaluate_ec57 run of every model and test table: TP, FN, FP, Se, +P, FPR, F1 of N, S, V, F';
GRANT SELECT ON ecgdl.report_ec57, ecgdl.report_ec57_records TO PUBLIC;

-- Patient-wise cross-validation.  Whole records go into folds (no patient
-- on both sides): the records, shuffled by the seed (md5 of seed and name),
-- each go to the fold with the fewest beats so far (the first on ties).
-- For fold k the model <prefix>_fold<k> is trained on the other folds'
-- records, minus validation records drawn from them (shuffled by the seed
-- and the fold, taken until they hold validation_fraction of the beats; at least one
-- record, and at least one left to train on), and evaluated on fold k's
-- records with ecg_evaluate_ec57.  Tables <prefix>_fold<k>_train, _val and
-- _test; all dropped with the models afterwards unless keep.  As ecg_study:
-- every internal call typed and qualified, everything checked before the
-- first training.
CREATE FUNCTION ecg_cross_validate(source regclass, folds int DEFAULT 5, arch text DEFAULT 'cnn',
                                   prefix text DEFAULT 'cv', epochs int DEFAULT 100,
                                   batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                                   patience int DEFAULT 15, seed int DEFAULT 42,
                                   class_weight text DEFAULT 'none',
                                   validation_fraction float8 DEFAULT 0.2, keep boolean DEFAULT false)
RETURNS TABLE (figure text, mean float8, sd float8, per_fold float8[])
LANGUAGE plpgsql
AS $cv$
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    target_schema pg_catalog.text := pg_catalog.current_schema();
    class_names pg_catalog.text[] := ARRAY['N', 'S', 'V', 'F', 'Q'];
    figures pg_catalog.text[] := ARRAY['accuracy', 'macro_f1',
        'se_N', 'ppv_N', 'f1_N', 'se_S', 'ppv_S', 'f1_S', 'se_V', 'ppv_V', 'f1_V', 'se_F', 'ppv_F', 'f1_F'];
    recs pg_catalog.text[];
    rec_beats pg_catalog.int8[];
    rec_fold pg_catalog.int4[];
    fold_beats pg_catalog.int8[];
    source_classes pg_catalog.int2[];
    train_classes pg_catalog.int2[];
    plan pg_catalog.jsonb := '[]';
    test_recs pg_catalog.text[];
    train_recs pg_catalog.text[];
    val_recs pg_catalog.text[];
    val_beats pg_catalog.int8;
    total_beats pg_catalog.int8;
    vals pg_catalog.float8[];
    best pg_catalog.int4;
    c pg_catalog.int2;
    k pg_catalog.int4;
    i pg_catalog.int4;
    r pg_catalog.text;
    t pg_catalog.text;
    m_name pg_catalog.text;
    t_train pg_catalog.text;
    t_val pg_catalog.text;
    t_test pg_catalog.text;
    row_ pg_catalog.record;
    n_null pg_catalog.int8;
BEGIN
    IF source IS NULL OR folds IS NULL OR arch IS NULL OR prefix IS NULL OR epochs IS NULL
       OR batch_size IS NULL OR learning_rate IS NULL OR patience IS NULL OR seed IS NULL
       OR class_weight IS NULL OR validation_fraction IS NULL OR keep IS NULL THEN
        RAISE EXCEPTION 'ecg_cross_validate arguments must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF folds OPERATOR(pg_catalog.<) 2 THEN
        RAISE EXCEPTION 'cross-validation needs at least 2 folds' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('%s folds were asked for.', folds);
    END IF;
    IF prefix OPERATOR(pg_catalog.!~) '^[a-z_][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid cross-validation prefix "%"', prefix USING ERRCODE = '22023',
            HINT = 'Use lower-case letters, digits and underscores; tables and models are named after it.';
    END IF;
    IF NOT (validation_fraction OPERATOR(pg_catalog.>) 0 AND validation_fraction OPERATOR(pg_catalog.<) 1) THEN
        RAISE EXCEPTION 'validation_fraction must be between 0 and 1 (exclusive)' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('The value given was %s.', validation_fraction);
    END IF;
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'no schema has been selected to create the cross-validation''s tables in' USING ERRCODE = '3F000',
            HINT = 'Set search_path to a schema you may create tables in.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attname OPERATOR(pg_catalog.=) 'record'
                     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'source table "%" has no record column', source USING ERRCODE = '42809',
            HINT = 'Patient-wise folds need the record of every beat; ecg_import_wfdb''s tables have it.';
    END IF;
    -- the folds' tables are copies of the source's rows (CREATE TABLE AS): a
    -- column of a type some role defined could bring that role's casts, run
    -- with the caller's rights, so only built-in types are read
    IF EXISTS (SELECT FROM pg_catalog.pg_attribute a
               WHERE a.attrelid OPERATOR(pg_catalog.=) source AND a.attnum OPERATOR(pg_catalog.>) 0
                 AND NOT a.attisdropped AND a.atttypid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid) THEN
        RAISE EXCEPTION 'source table "%" has a column of a type that is not built in', source USING ERRCODE = '42809',
            DETAIL = 'ecgdl reads only columns of built-in types: the casts and operators of a type a role defined would run with the rights of ecgdl''s caller.',
            HINT = 'Copy the data into a table whose columns have built-in types.';
    END IF;

    -- the records, shuffled by the seed, and their beats
    EXECUTE pg_catalog.format(
        'SELECT pg_catalog.array_agg(s.r ORDER BY pg_catalog.md5($1 OPERATOR(pg_catalog.||) s.r), s.r), '
        '       pg_catalog.array_agg(s.n ORDER BY pg_catalog.md5($1 OPERATOR(pg_catalog.||) s.r), s.r), '
        '       pg_catalog.count(*) FILTER (WHERE s.r IS NULL) '
        'FROM (SELECT t.record::pg_catalog.text AS r, pg_catalog.count(*) AS n FROM %s t GROUP BY 1) s', source)
        INTO recs, rec_beats, n_null USING pg_catalog.format('%s:', seed);
    IF n_null OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'source table "%" has beats without a record', source USING ERRCODE = '22023',
            DETAIL = 'Every beat must belong to a record (a patient) to put whole records into folds.';
    END IF;
    IF COALESCE(pg_catalog.cardinality(recs), 0) OPERATOR(pg_catalog.<) folds THEN
        RAISE EXCEPTION 'source table "%" has fewer records than folds', source USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('It has %s records; %s folds were asked for.',
                                       COALESCE(pg_catalog.cardinality(recs), 0), folds),
            HINT = 'Ask for at most as many folds as there are records.';
    END IF;
    EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(DISTINCT t.label ORDER BY t.label) FROM %s t', source)
        INTO source_classes;

    -- whole records into folds, each to the lightest fold so far
    fold_beats := pg_catalog.array_fill(0::pg_catalog.int8, ARRAY[folds]);
    rec_fold := '{}';
    FOR i IN 1 .. pg_catalog.cardinality(recs) LOOP
        best := 1;
        FOR k IN 2 .. folds LOOP
            IF fold_beats[k] OPERATOR(pg_catalog.<) fold_beats[best] THEN
                best := k;
            END IF;
        END LOOP;
        rec_fold := pg_catalog.array_append(rec_fold, best);
        fold_beats[best] := fold_beats[best] OPERATOR(pg_catalog.+) rec_beats[i];
    END LOOP;

    -- each fold's test, validation and training records, checked
    FOR k IN 1 .. folds LOOP
        test_recs := '{}';
        train_recs := '{}';
        total_beats := 0;
        FOR i IN 1 .. pg_catalog.cardinality(recs) LOOP
            IF rec_fold[i] OPERATOR(pg_catalog.=) k THEN
                test_recs := pg_catalog.array_append(test_recs, recs[i]);
            ELSE
                train_recs := pg_catalog.array_append(train_recs, recs[i]);
                total_beats := total_beats OPERATOR(pg_catalog.+) rec_beats[i];
            END IF;
        END LOOP;
        IF pg_catalog.cardinality(train_recs) OPERATOR(pg_catalog.<) 2 THEN
            RAISE EXCEPTION 'fold % has only one training record', k USING ERRCODE = '22023',
                DETAIL = 'Validation records are drawn from the training records, and at least one must be left to train on.',
                HINT = 'Use fewer folds, or a source with more records.';
        END IF;
        -- validation records: the training records shuffled again by the seed
        -- and the fold
        val_recs := '{}';
        val_beats := 0;
        FOR r IN SELECT u.r FROM pg_catalog.unnest(train_recs) u(r)
                 ORDER BY pg_catalog.md5(pg_catalog.format('%s:val%s:%s', seed, k, u.r)), u.r LOOP
            EXIT WHEN pg_catalog.cardinality(val_recs) OPERATOR(pg_catalog.>) 0
                 AND val_beats OPERATOR(pg_catalog.>=) (validation_fraction OPERATOR(pg_catalog.*) total_beats);
            EXIT WHEN pg_catalog.cardinality(val_recs) OPERATOR(pg_catalog.=)
                      (pg_catalog.cardinality(train_recs) OPERATOR(pg_catalog.-) 1);
            val_recs := pg_catalog.array_append(val_recs, r);
            val_beats := val_beats OPERATOR(pg_catalog.+) rec_beats[pg_catalog.array_position(recs, r)];
        END LOOP;
        SELECT pg_catalog.array_agg(u.r ORDER BY u.r) INTO train_recs
        FROM pg_catalog.unnest(train_recs) u(r) WHERE u.r OPERATOR(pg_catalog.<>) ALL (val_recs);
        EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(DISTINCT t.label ORDER BY t.label) FROM %s t '
                                  'WHERE t.record::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)', source)
            INTO train_classes USING train_recs;
        FOREACH c IN ARRAY source_classes LOOP
            IF NOT c OPERATOR(pg_catalog.=) ANY (COALESCE(train_classes, '{}')) THEN
                RAISE EXCEPTION 'fold % has no % beat to train on', k,
                    COALESCE(class_names[c OPERATOR(pg_catalog.+) 1], c::pg_catalog.text)
                    USING ERRCODE = '22023',
                    DETAIL = pg_catalog.format('Its training records are %s; the source has the class in other records.',
                                               pg_catalog.array_to_string(train_recs, ', ')),
                    HINT = 'Use fewer folds or another seed, or leave the class out of the source.';
            END IF;
        END LOOP;
        plan := plan OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
            'test', pg_catalog.to_jsonb(test_recs), 'val', pg_catalog.to_jsonb(val_recs),
            'train', pg_catalog.to_jsonb(train_recs)));
    END LOOP;

    -- names that fit and are free
    FOR k IN 1 .. folds LOOP
        FOREACH t IN ARRAY ARRAY[pg_catalog.format('%s_fold%s_train', prefix, k),
                                 pg_catalog.format('%s_fold%s_val', prefix, k),
                                 pg_catalog.format('%s_fold%s_test', prefix, k)] LOOP
            IF pg_catalog.octet_length(t) OPERATOR(pg_catalog.>) 63 THEN
                RAISE EXCEPTION 'cross-validation table name "%" is too long', t USING ERRCODE = '42622',
                    HINT = 'Use a shorter prefix.';
            END IF;
            IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t)) IS NOT NULL THEN
                RAISE EXCEPTION 'relation "%" already exists', t USING ERRCODE = '42P07',
                    HINT = 'Drop it, or choose another prefix.';
            END IF;
        END LOOP;
        m_name := pg_catalog.format('%s_fold%s', prefix, k);
        IF EXISTS (SELECT FROM ecgdl.models m WHERE m.name OPERATOR(pg_catalog.=) m_name) THEN
            RAISE EXCEPTION 'model "%" already exists', m_name USING ERRCODE = '42710',
                HINT = 'Drop it with ecg_model_drop, or choose another prefix.';
        END IF;
    END LOOP;

    -- the architecture and training arguments, with ecg_train's own checks
    PERFORM ecgdl.study_check(ARRAY[arch], epochs, batch_size, patience, seed, class_weight,
                              ARRAY(SELECT pg_catalog.format('%s_fold%s', prefix, g.k)
                                    FROM pg_catalog.generate_series(1, folds) g(k)), false);

    -- the work: per fold, train on the training records, evaluate on the fold
    vals := pg_catalog.array_fill(NULL::pg_catalog.float8, ARRAY[folds, pg_catalog.cardinality(figures)]);
    FOR k IN 1 .. folds LOOP
        m_name := pg_catalog.format('%s_fold%s', prefix, k);
        t_train := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_train', prefix, k));
        t_val := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_val', prefix, k));
        t_test := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_fold%s_test', prefix, k));
        FOREACH t IN ARRAY ARRAY['train', 'val', 'test'] LOOP
            EXECUTE pg_catalog.format('CREATE TABLE %s AS SELECT t.* FROM %s t '
                                      'WHERE t.record::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1) ORDER BY t.id',
                                      CASE t WHEN 'train' THEN t_train WHEN 'val' THEN t_val ELSE t_test END, source)
                USING ARRAY(SELECT pg_catalog.jsonb_array_elements_text(plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1)
                                                                         OPERATOR(pg_catalog.->) t));
        END LOOP;
        RAISE NOTICE 'cross-validation %: fold % of %: training % on records %, validating on %, testing on %',
            prefix, k, folds, m_name,
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'train') e),
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'val') e),
            (SELECT pg_catalog.string_agg(e, ', ') FROM pg_catalog.jsonb_array_elements_text(
                plan OPERATOR(pg_catalog.->) (k OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog.->) 'test') e);
        EXECUTE pg_catalog.format('SELECT %I.ecg_train($1::pg_catalog.text, $2::pg_catalog.regclass, '
                                  '$3::pg_catalog.text, $4::pg_catalog.regclass, $5::pg_catalog.int4, '
                                  '$6::pg_catalog.int4, $7::pg_catalog.float8, $8::pg_catalog.int4, '
                                  '$9::pg_catalog.int4, $10::pg_catalog.text, $11::pg_catalog.bool, '
                                  '$12::pg_catalog.float8)', ext_schema)
            USING m_name, t_train::pg_catalog.regclass, arch, t_val::pg_catalog.regclass, epochs, batch_size,
                  learning_rate, patience, seed, class_weight, false, 0.3::pg_catalog.float8;
        FOR row_ IN EXECUTE pg_catalog.format('SELECT e.class, e.se, e.ppv, e.f1 FROM %I.ecg_evaluate_ec57('
                                              '$1::pg_catalog.text, $2::pg_catalog.regclass, $3::pg_catalog.bool) e',
                                              ext_schema)
                USING m_name, t_test::pg_catalog.regclass, false LOOP
            IF row_.class OPERATOR(pg_catalog.=) 'macro' THEN
                vals[k][2] := row_.f1;
            ELSE
                i := pg_catalog.array_position(figures, pg_catalog.format('se_%s', row_.class));
                vals[k][i] := row_.se;
                vals[k][i OPERATOR(pg_catalog.+) 1] := row_.ppv;
                vals[k][i OPERATOR(pg_catalog.+) 2] := row_.f1;
            END IF;
        END LOOP;
        -- accuracy over all five classes, as ecg_evaluate reports it
        vals[k][1] := (SELECT e.accuracy FROM ecgdl.evaluations e
                       WHERE e.model_name OPERATOR(pg_catalog.=) m_name
                       ORDER BY e.id DESC LIMIT 1);
        IF NOT keep THEN
            EXECUTE pg_catalog.format('SELECT %I.ecg_model_drop($1::pg_catalog.text, $2::pg_catalog.bool)', ext_schema)
                USING m_name, false;
            EXECUTE pg_catalog.format('DROP TABLE %s, %s, %s', t_train, t_val, t_test);
        END IF;
    END LOOP;

    RETURN QUERY
        SELECT f.name, pg_catalog.avg(v.x), pg_catalog.stddev_samp(v.x),
               pg_catalog.array_agg(v.x ORDER BY v.k)
        FROM pg_catalog.unnest(figures) WITH ORDINALITY f(name, j)
        CROSS JOIN LATERAL (SELECT g.k, vals[g.k][f.j] AS x
                            FROM pg_catalog.generate_series(1, folds) g(k)) v
        GROUP BY f.name, f.j ORDER BY f.j;
END
$cv$;
COMMENT ON FUNCTION ecg_cross_validate(regclass, int, text, text, int, int, float8, int, int, text, float8, boolean) IS
'Patient-wise k-fold cross-validation: whole records into folds balanced by beats, a model per fold trained on the other folds (validation records drawn from them) and evaluated on its records as EC57 does; mean, sample SD and per-fold value of accuracy, macro F1 (N, S, V, F) and Se, +P, F1 per class';
-- == models2: models with R-R features, operating points, rows as input (issue 12) ==

-- ecg_train gains the operating point and the choice of R-R features; the
-- 0.1.0 signature is replaced (the C function reads the two new arguments
-- only when they are there, so 0.1.0's definition keeps working).
DROP FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8);
CREATE FUNCTION ecg_train(name text, train regclass, arch text DEFAULT 'cnn',
                          validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                          batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                          patience int DEFAULT 15, seed int DEFAULT 42,
                          class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                          validation_fraction float8 DEFAULT 0.3,
                          operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[]) IS
'Trains a model (baseline, cnn, cnn_wide, or baseline_rr / cnn_rr with the R-R feature columns of the tables) inside the database, chooses its operating point (argmax, prior, or validation: tuned for macro F1 on the validation table) and stores it in ecgdl.models; returns its id';

-- Named apart from ecg_classify(text, real[]): an overload on record would make
-- 0.1.0 calls with an untyped literal or NULL ambiguous (42725).
CREATE FUNCTION ecg_classify_beat(model text, beat record)
RETURNS smallint
AS 'MODULE_PATHNAME', 'ecg_classify'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_classify_beat(text, record) IS
'AAMI class 0..4 (N, S, V, F, Q) a stored model predicts for one beat row: its signal column and, for a model with R-R features, its rr_* columns (imputed), at the model''s operating point';

CREATE FUNCTION ecg_predict_proba_beat(model text, beat record)
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_predict_proba'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_predict_proba_beat(text, record) IS
'Class probabilities (N, S, V, F, Q) a stored model gives one beat row (signal and, for a model with R-R features, the rr_* columns), at the model''s operating point';

-- What every stored model takes and how it decides: its R-R features and its
-- operating point (0.1.0-style models: none, argmax).
CREATE VIEW ecgdl.operating_points AS
SELECT m.name AS model, m.architecture,
       COALESCE(m.hyperparameters OPERATOR(pg_catalog.->>) 'operating_point', 'argmax') AS operating_point,
       m.hyperparameters OPERATOR(pg_catalog.->) 'class_offsets' AS class_offsets,
       COALESCE(m.hyperparameters OPERATOR(pg_catalog.->) 'features', '[]'::pg_catalog.jsonb) AS features,
       m.hyperparameters OPERATOR(pg_catalog.->>) 'validation' AS validation
FROM ecgdl.models m;

COMMENT ON VIEW ecgdl.operating_points IS
'Per stored model: the R-R features it takes and its operating point (argmax, prior or validation) with the per-class offsets added to the log-probabilities';

GRANT SELECT ON ecgdl.operating_points TO PUBLIC;

-- == shards ==
-- Scale-out over postgres_fdw (README "Scale-out").  postgres_fdw ships to a
-- shard only IMMUTABLE functions of the extensions named in the server's
-- `extensions` option.  ecg_classify(model, signal) is STABLE - it reads the
-- model table - so these twins name the model by its content, the SHA-256 of
-- its blob: they run only a stored model with exactly that blob and refuse
-- where there is none (55000), so the same arguments always give the same
-- result.  (No text model name: PostgreSQL 15's postgres_fdw does not ship a
-- function with a text argument whose collation is not a remote column's.)

CREATE FUNCTION ecg_model_hash(model text)
RETURNS bytea
AS $$ SELECT pg_catalog.sha256(@extschema@.ecg_model_export(model)) $$
LANGUAGE sql STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION ecg_model_hash(text) IS
'SHA-256 of a stored model''s blob: how ecg_classify_hash and ecg_predict_proba_hash name the model';

CREATE FUNCTION ecg_classify_hash(model_sha256 bytea, signal real[])
RETURNS smallint
AS 'MODULE_PATHNAME', 'ecg_classify_hash'
LANGUAGE C IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_classify_hash(bytea, real[]) IS
'AAMI class 0..4 of a signal by the stored model whose blob has this SHA-256 (ecg_model_hash); refuses when this server has none. IMMUTABLE, so postgres_fdw runs it on the shards';

CREATE FUNCTION ecg_predict_proba_hash(model_sha256 bytea, signal real[])
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_predict_proba_hash'
LANGUAGE C IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_predict_proba_hash(bytea, real[]) IS
'Class probabilities (N, S, V, F, Q) of a signal by the stored model whose blob has this SHA-256 (ecg_model_hash); refuses when this server has none. IMMUTABLE, so postgres_fdw runs it on the shards';

-- The shard side of ecg_model_push: postgres_fdw cannot call a remote
-- function, but it can INSERT into a remote view.  A row inserted into
-- ecgdl.model_imports is handed to ecg_model_import (which checks the blob
-- and the caller's rights, as a direct call does); reading the view gives each
-- stored model's SHA-256, for the pusher to check.  security_invoker: the
-- reader sees only the models ecgdl.models shows them.
CREATE VIEW ecgdl.model_imports WITH (security_invoker = true) AS
SELECT m.name, NULL::pg_catalog.bytea AS weights, NULL::boolean AS replace,
       pg_catalog.sha256(m.weights) AS sha256
FROM ecgdl.models m;

COMMENT ON VIEW ecgdl.model_imports IS
'Inserting (name, weights, replace) imports a model blob (ecg_model_import); reading gives each stored model''s SHA-256. The target of ecg_model_push through postgres_fdw';

CREATE FUNCTION ecgdl.model_imports_insert()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@.ecg_model_import(NEW.name, NEW.weights, COALESCE(NEW.replace, false));
    NEW.sha256 := pg_catalog.sha256(NEW.weights);
    RETURN NEW;
END $$;

CREATE TRIGGER model_imports_insert INSTEAD OF INSERT ON ecgdl.model_imports
FOR EACH ROW EXECUTE FUNCTION ecgdl.model_imports_insert();

GRANT SELECT, INSERT ON ecgdl.model_imports TO PUBLIC;

-- The coordinator side: one call pushes a model to every shard.  inboxes are
-- foreign tables over the shards' ecgdl.model_imports (README "Scale-out":
-- IMPORT FOREIGN SCHEMA ecgdl LIMIT TO (model_imports) FROM SERVER ...).  The
-- blob goes to each in this transaction; each shard's stored SHA-256 is read
-- back and must be the local one, or the whole push fails (55000) and
-- postgres_fdw rolls every shard's import back with the local transaction.
CREATE FUNCTION ecg_model_push(model text, inboxes regclass[], replace boolean DEFAULT true)
RETURNS TABLE (inbox regclass, sha256 bytea)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    blob bytea := @extschema@.ecg_model_export(model);
    local_hash bytea := pg_catalog.sha256(blob);
    target regclass;
    remote_hash bytea;
BEGIN
    IF inboxes IS NULL OR pg_catalog.cardinality(inboxes) = 0 THEN
        RAISE EXCEPTION 'no shards to push model "%" to', model USING ERRCODE = '22023',
            HINT = 'Pass the foreign tables over the shards'' ecgdl.model_imports.';
    END IF;
    FOREACH target IN ARRAY inboxes LOOP
        EXECUTE pg_catalog.format('INSERT INTO %s (name, weights, replace) VALUES ($1, $2, $3)', target)
            USING model, blob, replace;
        EXECUTE pg_catalog.format('SELECT sha256 FROM %s WHERE name OPERATOR(pg_catalog.=) $1', target)
            INTO remote_hash USING model;
        IF remote_hash IS DISTINCT FROM local_hash THEN
            RAISE EXCEPTION 'model "%" pushed through % has another checksum there', model, target
                USING ERRCODE = '55000',
                DETAIL = pg_catalog.format('Local SHA-256 %s, remote %s.', pg_catalog.encode(local_hash, 'hex'),
                                        COALESCE(pg_catalog.encode(remote_hash, 'hex'), 'none'));
        END IF;
        inbox := target;
        sha256 := remote_hash;
        RETURN NEXT;
    END LOOP;
END $$;

COMMENT ON FUNCTION ecg_model_push(text, regclass[], boolean) IS
'Copies a stored model to every shard through foreign tables over their ecgdl.model_imports (postgres_fdw), checks each shard''s SHA-256 against the local one; returns the shards and their checksum';

-- == plots ==

-- Charts as SVG text (issue 15): a beat on ECG paper, the confusion matrix of
-- a stored evaluation, a model's training history.  The same inputs give the
-- same bytes (numbers are written with a fixed precision).
CREATE FUNCTION ecg_plot_beat(signal real[], second real[] DEFAULT NULL, shading real[] DEFAULT NULL,
                              fs float8 DEFAULT 125, title text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_plot_beat'
LANGUAGE C IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_plot_beat(real[], real[], real[], float8, text) IS
'SVG of a beat on ECG paper (1 mm / 5 mm grid, 25 mm/s, 10 mm per unit of the signal), with an optional second trace and a per-sample shading (red positive, blue negative)';

CREATE FUNCTION ecg_plot_confusion(model text, test regclass)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_plot_confusion'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_plot_confusion(text, regclass) IS
'SVG heat map of the confusion matrix of the latest stored evaluation (ecgdl.evaluations) of a model on a test table: counts and row-normalised shares';

CREATE FUNCTION ecg_plot_history(model text)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_plot_history'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_plot_history(text) IS
'SVG of a trained model''s loss and accuracy per epoch (ecgdl.models.history), training against validation, with the learning-rate drops and the best epoch marked';
