-- ecgdl 0.1.0: SQL objects of the extension.
-- Functions ecg_* live in the schema the extension is created in; the
-- extension's own tables and views live in schema ecgdl.

\echo Use "CREATE EXTENSION ecgdl" to load this file. \quit

CREATE SCHEMA ecgdl;

-- Import ----------------------------------------------------------------------

CREATE FUNCTION ecg_import_wfdb(directory text, target text, records text[] DEFAULT NULL,
                                lead text DEFAULT 'MLII')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_wfdb'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_wfdb(text, text, text[], text) IS
'Reads MIT-BIH style WFDB records (.hea, .dat, .atr) from a server directory into a new beat table; returns the number of beats';

CREATE FUNCTION ecg_import_csv(path text, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_csv'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_csv(text, text) IS
'Reads a Kaggle heartbeat CSV file (187 samples and a label per line) from the server into a new beat table';

CREATE FUNCTION ecg_import_csv_staged(staging regclass, target text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_import_csv_staged'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_import_csv_staged(regclass, text) IS
'Turns heartbeat CSV lines loaded with \copy into a staging table (column line text, optional line_no) into a new beat table';

-- Split -----------------------------------------------------------------------

CREATE FUNCTION ecg_split(source regclass, train text, test text,
                          test_fraction float8 DEFAULT 0.2, seed int DEFAULT 42,
                          method text DEFAULT 'stratified')
RETURNS TABLE (part text, class text, beats bigint)
AS 'MODULE_PATHNAME', 'ecg_split'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_split(regclass, text, text, float8, int, text) IS
'Splits a beat table into new train and test tables: stratified, random, or inter-patient (de Chazal DS1/DS2)';

-- Reading server files is as privileged as COPY FROM a file: the C functions
-- check for pg_read_server_files, and PUBLIC may not call them by default.
REVOKE ALL ON FUNCTION ecg_import_wfdb(text, text, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ecg_import_csv(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ecg_import_wfdb(text, text, text[], text) TO pg_read_server_files;
GRANT EXECUTE ON FUNCTION ecg_import_csv(text, text) TO pg_read_server_files;

-- Oversampling ------------------------------------------------------------------

CREATE FUNCTION ecg_oversample(source regclass, target text, method text DEFAULT 'smote',
                               k int DEFAULT 5, seed int DEFAULT 42, strategy text DEFAULT 'auto')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_oversample'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_oversample(regclass, text, text, int, int, text) IS
'Writes a new table with every row of source plus generated minority-class rows (random, smote or adasyn, imbalanced-learn semantics); returns the number of rows generated';

-- Models ------------------------------------------------------------------------

-- One row per trained (or imported) model.  weights holds the versioned model
-- blob (format in README.md, "Model format").  Everyone may read models and
-- classify with them; a role may change or drop only models owned by a role
-- it is a member of (row-level security below).
CREATE TABLE ecgdl.models (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    architecture     text NOT NULL,
    hyperparameters  jsonb NOT NULL DEFAULT '{}',
    training_table   text,
    class_counts     jsonb,
    oversampling     text,
    history          jsonb,
    best_epoch       integer,
    epochs_run       integer,
    training_seconds float8,
    owner            name NOT NULL DEFAULT current_user,
    created_at       timestamptz NOT NULL DEFAULT now(),
    weights          bytea NOT NULL
);
COMMENT ON TABLE ecgdl.models IS 'Trained ecgdl models: architecture, hyperparameters, training data and history, and the weights as a versioned blob';

ALTER TABLE ecgdl.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY models_read ON ecgdl.models FOR SELECT USING (true);
CREATE POLICY models_insert ON ecgdl.models FOR INSERT
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
CREATE POLICY models_update ON ecgdl.models FOR UPDATE
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
CREATE POLICY models_delete ON ecgdl.models FOR DELETE
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
GRANT USAGE ON SCHEMA ecgdl TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ecgdl.models TO PUBLIC;

CREATE FUNCTION ecg_train(name text, train regclass, arch text DEFAULT 'cnn',
                          validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                          batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                          patience int DEFAULT 15, seed int DEFAULT 42,
                          class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                          validation_fraction float8 DEFAULT 0.3)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_train(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8) IS
'Trains a model (baseline, cnn or cnn_wide) on a beat table inside the database and stores it in ecgdl.models; returns its id';

CREATE FUNCTION ecg_model_export(name text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ecg_model_export'
LANGUAGE C STABLE STRICT;

COMMENT ON FUNCTION ecg_model_export(text) IS
'The versioned blob of a stored model, for ecg_model_import on another server';

CREATE FUNCTION ecg_model_import(name text, model bytea, replace boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_model_import'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_model_import(text, bytea, boolean) IS
'Validates a model blob (from ecg_model_export) and stores it under a name; returns the model id';

-- Classification and evaluation ------------------------------------------------

CREATE FUNCTION ecg_classify(model text, signal real[])
RETURNS smallint
AS 'MODULE_PATHNAME', 'ecg_classify'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_classify(text, real[]) IS
'AAMI class 0..4 (N, S, V, F, Q) a stored model predicts for one beat of 187 samples';

CREATE FUNCTION ecg_predict_proba(model text, signal real[])
RETURNS real[]
AS 'MODULE_PATHNAME', 'ecg_predict_proba'
LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_predict_proba(text, real[]) IS
'Class probabilities (N, S, V, F, Q) a stored model gives one beat of 187 samples';

CREATE FUNCTION ecg_classify_table(model text, source regclass)
RETURNS TABLE (id bigint, predicted smallint, probabilities real[])
AS 'MODULE_PATHNAME', 'ecg_classify_table'
LANGUAGE C STABLE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_classify_table(text, regclass) IS
'Classifies every row of a beat table (or view) in blocks: id, predicted class, probabilities';

CREATE TABLE ecgdl.evaluations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id     bigint NOT NULL REFERENCES ecgdl.models (id) ON DELETE CASCADE,
    model_name   text NOT NULL,
    test_table   text NOT NULL,
    evaluated_at timestamptz NOT NULL DEFAULT now(),
    rows         bigint NOT NULL,
    accuracy     float8 NOT NULL,
    macro_f1     float8 NOT NULL,
    per_class    jsonb NOT NULL,
    confusion    bigint[] NOT NULL,
    owner        name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE ecgdl.evaluations IS 'Every ecg_evaluate() run: figures per class and the confusion matrix (rows: true class, columns: predicted, N S V F Q)';
ALTER TABLE ecgdl.evaluations ENABLE ROW LEVEL SECURITY;
CREATE POLICY evaluations_read ON ecgdl.evaluations FOR SELECT USING (true);
CREATE POLICY evaluations_insert ON ecgdl.evaluations FOR INSERT
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
CREATE POLICY evaluations_delete ON ecgdl.evaluations FOR DELETE
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));
GRANT SELECT, INSERT, DELETE ON ecgdl.evaluations TO PUBLIC;

CREATE FUNCTION ecg_evaluate(model text, test regclass)
RETURNS TABLE (class text, "precision" float8, recall float8, f1 float8, support bigint)
AS 'MODULE_PATHNAME', 'ecg_evaluate'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;

COMMENT ON FUNCTION ecg_evaluate(text, regclass) IS
'Classification report of a model on a labelled beat table (per class, accuracy, macro and weighted averages); also stored in ecgdl.evaluations';

-- Reports ----------------------------------------------------------------------

-- One row per model and test table: its latest evaluation with the model's
-- architecture, oversampling and training figures.
CREATE VIEW ecgdl.report AS
SELECT DISTINCT ON (e.model_id, e.test_table)
       m.name AS model, m.architecture, coalesce(m.oversampling, 'unknown') AS oversampling,
       coalesce(m.hyperparameters ->> 'class_weight', 'none') AS class_weight,
       m.training_table, e.test_table, e.rows AS test_rows,
       round(e.accuracy::numeric, 4) AS accuracy, round(e.macro_f1::numeric, 4) AS macro_f1,
       round((e.per_class -> 'N' ->> 'f1')::numeric, 3) AS f1_n,
       round((e.per_class -> 'S' ->> 'f1')::numeric, 3) AS f1_s,
       round((e.per_class -> 'V' ->> 'f1')::numeric, 3) AS f1_v,
       round((e.per_class -> 'F' ->> 'f1')::numeric, 3) AS f1_f,
       round((e.per_class -> 'Q' ->> 'f1')::numeric, 3) AS f1_q,
       round((e.per_class -> 'N' ->> 'precision')::numeric, 3) AS precision_n,
       round((e.per_class -> 'S' ->> 'precision')::numeric, 3) AS precision_s,
       round((e.per_class -> 'V' ->> 'precision')::numeric, 3) AS precision_v,
       round((e.per_class -> 'F' ->> 'precision')::numeric, 3) AS precision_f,
       round((e.per_class -> 'Q' ->> 'precision')::numeric, 3) AS precision_q,
       round((e.per_class -> 'N' ->> 'recall')::numeric, 3) AS recall_n,
       round((e.per_class -> 'S' ->> 'recall')::numeric, 3) AS recall_s,
       round((e.per_class -> 'V' ->> 'recall')::numeric, 3) AS recall_v,
       round((e.per_class -> 'F' ->> 'recall')::numeric, 3) AS recall_f,
       round((e.per_class -> 'Q' ->> 'recall')::numeric, 3) AS recall_q,
       m.epochs_run AS epochs, m.best_epoch, round(m.training_seconds::numeric, 1) AS training_seconds,
       e.evaluated_at
FROM ecgdl.evaluations e JOIN ecgdl.models m ON m.id = e.model_id
ORDER BY e.model_id, e.test_table, e.evaluated_at DESC, e.id DESC;
COMMENT ON VIEW ecgdl.report IS 'The latest evaluation of every model on every test table, one row each, ready for a BI tool';

-- The confusion matrices in long form.
CREATE VIEW ecgdl.confusion AS
SELECT DISTINCT ON (e.model_id, e.test_table, t.i, p.j)
       e.model_name AS model, e.test_table,
       (ARRAY['N','S','V','F','Q'])[t.i] AS true_class,
       (ARRAY['N','S','V','F','Q'])[p.j] AS predicted_class,
       e.confusion[t.i][p.j] AS count
FROM ecgdl.evaluations e, generate_series(1, 5) AS t(i), generate_series(1, 5) AS p(j)
ORDER BY e.model_id, e.test_table, t.i, p.j, e.evaluated_at DESC, e.id DESC;
COMMENT ON VIEW ecgdl.confusion IS 'Confusion matrix of the latest evaluation of every model and test table: one row per true and predicted class';
GRANT SELECT ON ecgdl.report, ecgdl.confusion TO PUBLIC;

-- The study ---------------------------------------------------------------------

-- Runs the published oversampling study on a beat table: a stratified 80/20
-- test split (or the inter-patient DS1/DS2 split), a stratified 70/30
-- train/validation split of the rest, oversampling of the training part with
-- each method, training of each architecture on each training table,
-- evaluation on the test table; returns the report rows of its models.
-- Tables are <prefix>_trainval, _test, _train, _val, _train_<method>; models
-- are <prefix>_<arch>_<method>.  replace => true drops them first (but
-- the split tables when reuse_split => true, which keeps an existing split:
-- a long study can then run one method per call, each its own transaction;
-- without replace it also keeps an existing <prefix>_train_<method>, so that
-- another architecture can be added to a finished study).
CREATE FUNCTION ecg_study(source regclass, prefix text DEFAULT 'study',
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
-- caller's search_path, so that tables are created where the caller creates
-- tables, and that path may hold look-alike objects.
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    f pg_catalog.text;
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    method pg_catalog.text;
    arch pg_catalog.text;
    train_table pg_catalog.text;
    model_name pg_catalog.text;
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
    FOREACH method IN ARRAY methods LOOP
        IF NOT method OPERATOR(pg_catalog.=) ANY (ARRAY['none', 'random', 'smote', 'adasyn']) THEN
            RAISE EXCEPTION 'unknown oversampling method "%"', method USING ERRCODE = '22023',
                HINT = 'Use ''none'', ''random'', ''smote'' or ''adasyn''.';
        END IF;
    END LOOP;
    f := pg_catalog.format('%I.', ext_schema);
    reusing := reuse_split AND pg_catalog.to_regclass(pg_catalog.quote_ident(t_train)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.quote_ident(t_val)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.quote_ident(t_test)) IS NOT NULL;
    IF replace AND NOT reusing THEN
        EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I, %I, %I, %I', t_trainval, t_test, t_train, t_val);
    END IF;
    IF replace THEN
        FOREACH method IN ARRAY methods LOOP
            EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I', pg_catalog.format('%s_train_%s', prefix, method));
        END LOOP;
    END IF;

    IF reusing THEN
        RAISE NOTICE 'study %: reusing the split tables %, %, %', prefix, t_train, t_val, t_test;
    ELSE
        RAISE NOTICE 'study %: splitting %', prefix, source;
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %secg_split(%L::pg_catalog.regclass, %L, %L, 0.2, %s, %L)',
                                  f, source, t_trainval, t_test, seed, split);
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %secg_split(%L::pg_catalog.regclass, %L, %L, 0.3, %s, %L)',
                                  f, t_trainval, t_train, t_val, seed, 'stratified');
    END IF;

    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.=) 'none' THEN
            train_table := t_train;
        ELSE
            train_table := pg_catalog.format('%s_train_%s', prefix, method);
            IF reusing AND pg_catalog.to_regclass(pg_catalog.quote_ident(train_table)) IS NOT NULL THEN
                RAISE NOTICE 'study %: reusing the oversampled table %', prefix, train_table;
            ELSE
                t0 := pg_catalog.clock_timestamp();
                EXECUTE pg_catalog.format('SELECT %secg_oversample(%L::pg_catalog.regclass, %L, %L, 5, %s)', f,
                                          t_train, train_table, method, seed);
                RAISE NOTICE 'study %: % oversampling took % s', prefix, method,
                    pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0), 1);
            END IF;
        END IF;
        FOREACH arch IN ARRAY archs LOOP
            model_name := pg_catalog.format('%s_%s_%s', prefix, arch, method);
            RAISE NOTICE 'study %: training % on %', prefix, model_name, train_table;
            EXECUTE pg_catalog.format('SELECT %secg_train(%L, %L::pg_catalog.regclass, %L, %L::pg_catalog.regclass, '
                                      '%s, %s, 1e-3, %s, %s, %L, %L)',
                                      f, model_name, train_table, arch, t_val, epochs, batch_size,
                                      patience, seed, class_weight, replace);
            EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %secg_evaluate(%L, %L::pg_catalog.regclass)',
                                      f, model_name, t_test);
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

COMMENT ON FUNCTION ecg_study(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean) IS
'Runs the oversampling study on a beat table: split, oversample (none, random, SMOTE, ADASYN), train baseline and cnn, evaluate; returns the report rows';
