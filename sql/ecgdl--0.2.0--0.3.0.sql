-- ecgdl 0.2.0 -> 0.3.0.
-- The scripts of earlier versions stay as they shipped; CREATE EXTENSION ecgdl
-- runs 0.1.0's script and then each update script in turn, and ALTER
-- EXTENSION ecgdl UPDATE runs this one on an installed 0.2.0.  The same rules
-- as before: every function, operator and type in a body is schema-qualified.

\echo Use "ALTER EXTENSION ecgdl UPDATE TO '0.3.0'" to load this file. \quit

-- == jobs: long trainings and studies in background workers (issue 14) ==

-- One row per background job.  Written only by ecgdl's functions (as the
-- table's owner); everyone reads the jobs through the view ecgdl.jobs.
-- Not registered with pg_extension_config_dump: a job is the state of a
-- running server (its checkpoint is a file of that server's data directory,
-- its tables are named by OID), which a dump restored elsewhere could not
-- resume; the models a job made are in ecgdl.models, which is dumped.
CREATE TABLE ecgdl.jobs_table (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('train', 'study')),
    owner        regrole NOT NULL,
    login_role   regrole NOT NULL,
    args         jsonb NOT NULL,
    settings     jsonb NOT NULL,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    steps_done   integer NOT NULL DEFAULT 0,
    steps        integer,
    model        text,
    epoch        integer,
    epochs       integer,
    loss         float8,
    accuracy     float8,
    val_loss     float8,
    val_accuracy float8,
    lr           float8,
    pid          integer,
    model_id     bigint,
    error        text,
    error_code   text,
    submitted_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    queued_at    timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    started_at   timestamptz,
    updated_at   timestamptz,
    finished_at  timestamptz
);
REVOKE ALL ON ecgdl.jobs_table FROM PUBLIC;
COMMENT ON TABLE ecgdl.jobs_table IS
'Background jobs of ecgdl (ecg_train_async, ecg_study_async): arguments, owner, state, steps done, last progress, error; read them through ecgdl.jobs';

CREATE FUNCTION ecgdl.job_progress()
RETURNS TABLE (job bigint, pid integer, kind text, owner oid, model text, step integer,
               steps integer, epoch integer, epochs integer, loss float8, accuracy float8,
               val_loss float8, val_accuracy float8, lr float8, seconds_left float8,
               started timestamptz, updated timestamptz)
AS 'MODULE_PATHNAME', 'ecg_job_progress'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecgdl.job_progress() IS
'Internal to ecgdl.jobs: the live progress of the jobs and synchronous trainings of this database (shared memory; no rows without shared_preload_libraries)';

-- The jobs and the synchronous trainings running in sessions (id NULL), with
-- their live progress.  A job whose row says running but whose worker is gone
-- (a crash, a server restart) shows as failed; ecg_job_resume continues it.
CREATE VIEW ecgdl.jobs AS
SELECT j.id, j.kind, j.owner,
       CASE WHEN j.state OPERATOR(pg_catalog.=) 'running' AND p.job IS NULL THEN 'failed'
            ELSE j.state END AS state,
       CASE WHEN p.job IS NULL THEN j.model ELSE p.model END AS model,
       CASE WHEN j.kind OPERATOR(pg_catalog.<>) 'study' THEN NULL
            WHEN p.job IS NULL THEN j.steps_done ELSE p.step END AS step,
       CASE WHEN p.job IS NULL THEN j.steps ELSE p.steps END AS steps,
       CASE WHEN p.job IS NULL THEN j.epoch ELSE p.epoch END AS epoch,
       CASE WHEN p.job IS NULL THEN j.epochs ELSE p.epochs END AS epochs,
       CASE WHEN p.job IS NULL THEN j.loss ELSE p.loss END AS loss,
       CASE WHEN p.job IS NULL THEN j.accuracy ELSE p.accuracy END AS accuracy,
       CASE WHEN p.job IS NULL THEN j.val_loss ELSE p.val_loss END AS val_loss,
       CASE WHEN p.job IS NULL THEN j.val_accuracy ELSE p.val_accuracy END AS val_accuracy,
       CASE WHEN p.job IS NULL THEN j.lr ELSE p.lr END AS lr,
       p.seconds_left OPERATOR(pg_catalog.*) '1 second'::pg_catalog.interval AS time_left,
       j.submitted_at, j.started_at,
       GREATEST(j.updated_at, p.updated) AS updated_at,
       j.finished_at,
       CASE WHEN j.state OPERATOR(pg_catalog.=) 'running' AND p.job IS NULL
            THEN 'interrupted: the worker ended before the job (a crash or a server restart); ecg_job_resume continues it'
            ELSE j.error END AS error,
       j.error_code, j.model_id, p.pid
FROM ecgdl.jobs_table j
LEFT JOIN ecgdl.job_progress() p ON p.job OPERATOR(pg_catalog.=) j.id
UNION ALL
SELECT NULL::pg_catalog.int8, p.kind, p.owner::pg_catalog.regrole, 'running', p.model, p.step, p.steps,
       p.epoch, p.epochs, p.loss, p.accuracy, p.val_loss, p.val_accuracy, p.lr,
       p.seconds_left OPERATOR(pg_catalog.*) '1 second'::pg_catalog.interval,
       NULL, p.started, p.updated, NULL, NULL, NULL, NULL, p.pid
FROM ecgdl.job_progress() p
WHERE p.job OPERATOR(pg_catalog.=) 0;
GRANT SELECT ON ecgdl.jobs TO PUBLIC;
COMMENT ON VIEW ecgdl.jobs IS
'Background jobs and synchronous trainings: state, current model, epoch k of n, latest loss and validation figures, learning rate, estimated time left, times and error';

CREATE FUNCTION ecg_train_async(name text, train regclass, arch text DEFAULT 'cnn',
                                validation regclass DEFAULT NULL, epochs int DEFAULT 100,
                                batch_size int DEFAULT 2048, learning_rate float8 DEFAULT 1e-3,
                                patience int DEFAULT 15, seed int DEFAULT 42,
                                class_weight text DEFAULT 'none', replace boolean DEFAULT false,
                                validation_fraction float8 DEFAULT 0.3,
                                operating_point text DEFAULT 'argmax', features text[] DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_train_async'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_train_async(text, regclass, text, regclass, int, int, float8, int, int, text, boolean, float8, text, text[]) IS
'ecg_train in a background worker: checks the arguments as ecg_train does, queues the training and returns the job id (see ecgdl.jobs, ecg_job_cancel, ecg_job_resume)';

CREATE FUNCTION ecg_job_cancel(id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_job_cancel'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_cancel(bigint) IS
'Stops a queued or running job (its owner, or pg_signal_backend for a job of a role that is not a superuser); its checkpoint stays for ecg_job_resume';

CREATE FUNCTION ecg_job_resume(id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'ecg_job_resume'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_resume(bigint) IS
'Queues again a cancelled, failed or interrupted job: it goes on from its last finished study step and epoch, ending with the bytes of an uninterrupted run';

CREATE FUNCTION ecg_job_forget(id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ecg_job_forget'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecg_job_forget(bigint) IS
'Removes an ended job (done, failed, cancelled or interrupted) that will not be resumed: its row and its checkpoint file';

-- ecg_study in steps, so that a background study commits each step and a
-- resumed one skips the steps done.  ecgdl.study_prepare makes every check
-- ecg_study makes before its first step (as in 0.2.0) and says whether the
-- split is reused; ecgdl.study_step runs step `step`: 1 checks again and
-- splits (or reuses the split), then per method an oversampling (but for
-- none) followed by a training and evaluation per architecture; it returns
-- what it did, or NULL past the last step.  ecg_study runs the steps in turn.
CREATE FUNCTION ecgdl.study_prepare(source regclass, prefix text, epochs int, batch_size int,
                                    patience int, seed int, split text, methods text[],
                                    archs text[], replace boolean, class_weight text,
                                    reuse_split boolean)
RETURNS boolean
LANGUAGE plpgsql
AS $prepare$
-- Every type, operator, function and catalog below is qualified with
-- pg_catalog: the body runs with the caller's search_path.
DECLARE
    target_schema pg_catalog.text := pg_catalog.current_schema();
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    study_tables pg_catalog.text[];
    method pg_catalog.text;
    arch pg_catalog.text;
    t pg_catalog.text;
    models pg_catalog.text[] := '{}';
    longest pg_catalog.int4;
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

    -- every table name the study may make fits in 63 bytes
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

    -- tables that would be made and exist already (a kept split keeps its
    -- tables and the oversampled ones that exist)
    reusing := reuse_split
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_train)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_val)) IS NOT NULL
               AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', target_schema, t_test)) IS NOT NULL;
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
    RETURN reusing;
END
$prepare$;
COMMENT ON FUNCTION ecgdl.study_prepare(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean) IS
'Internal to ecg_study and ecg_study_async: every check of the arguments, names and tables before the first step; whether the split is reused';

CREATE FUNCTION ecgdl.study_step(source regclass, prefix text, epochs int, batch_size int,
                                 patience int, seed int, split text, methods text[],
                                 archs text[], replace boolean, class_weight text,
                                 reuse_split boolean, step int)
RETURNS text
LANGUAGE plpgsql
AS $step$
DECLARE
    ext_schema pg_catalog.text := (SELECT n.nspname FROM pg_catalog.pg_extension e
                        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
                        WHERE e.extname OPERATOR(pg_catalog.=) 'ecgdl');
    target_schema pg_catalog.text := pg_catalog.current_schema();
    t_trainval pg_catalog.text := pg_catalog.format('%s_trainval', prefix);
    t_test pg_catalog.text := pg_catalog.format('%s_test', prefix);
    t_train pg_catalog.text := pg_catalog.format('%s_train', prefix);
    t_val pg_catalog.text := pg_catalog.format('%s_val', prefix);
    method pg_catalog.text;
    arch pg_catalog.text;
    train_table pg_catalog.text;
    model_name pg_catalog.text;
    k pg_catalog.int4 := 1;
    t0 pg_catalog.timestamptz;
    reusing pg_catalog.bool;
BEGIN
    IF step OPERATOR(pg_catalog.=) 1 THEN
        reusing := ecgdl.study_prepare(source, prefix, epochs, batch_size, patience, seed, split,
                                       methods, archs, replace, class_weight, reuse_split);
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
            RETURN 'reuse the split';
        END IF;
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
        RETURN 'split';
    END IF;

    FOREACH method IN ARRAY methods LOOP
        IF method OPERATOR(pg_catalog.=) 'none' THEN
            train_table := pg_catalog.format('%I.%I', target_schema, t_train);
        ELSE
            train_table := pg_catalog.format('%I.%I', target_schema, pg_catalog.format('%s_train_%s', prefix, method));
            k := k OPERATOR(pg_catalog.+) 1;
            IF k OPERATOR(pg_catalog.=) step THEN
                -- step 1 dropped it unless the split is reused: an existing one is kept
                IF pg_catalog.to_regclass(train_table) IS NOT NULL THEN
                    RAISE NOTICE 'study %: reusing the oversampled table %', prefix, train_table;
                    RETURN pg_catalog.format('reuse %s', train_table);
                END IF;
                t0 := pg_catalog.clock_timestamp();
                EXECUTE pg_catalog.format('SELECT %I.ecg_oversample($1::pg_catalog.regclass, $2::pg_catalog.text, '
                                          '$3::pg_catalog.text, $4::pg_catalog.int4, $5::pg_catalog.int4, '
                                          '$6::pg_catalog.text)', ext_schema)
                    USING pg_catalog.format('%I.%I', target_schema, t_train)::pg_catalog.regclass, train_table,
                          method, 5::pg_catalog.int4, seed, 'auto'::pg_catalog.text;
                RAISE NOTICE 'study %: % oversampling took % s', prefix, method,
                    pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0), 1);
                RETURN pg_catalog.format('oversample %s', train_table);
            END IF;
        END IF;
        FOREACH arch IN ARRAY archs LOOP
            k := k OPERATOR(pg_catalog.+) 1;
            CONTINUE WHEN k OPERATOR(pg_catalog.<>) step;
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
            RETURN pg_catalog.format('train and evaluate %s', model_name);
        END LOOP;
    END LOOP;
    RETURN NULL;
END
$step$;
COMMENT ON FUNCTION ecgdl.study_step(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean, int) IS
'Internal to ecg_study and ecg_study_async: runs one step of a study (1: checks and split; then per method an oversampling and per architecture a training and evaluation); NULL past the last step';

CREATE FUNCTION ecgdl.session_step(step int, steps int)
RETURNS void
AS 'MODULE_PATHNAME', 'ecg_job_session_step'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION ecgdl.session_step(int, int) IS
'Internal to ecg_study: shows in ecgdl.jobs which step a synchronous study runs (0: done)';

-- ecg_study as in 0.2.0, run as its steps (the same work in the same order),
-- showing its step in ecgdl.jobs.
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
DECLARE
    step pg_catalog.int4 := 1;
    steps pg_catalog.int4 := 1 OPERATOR(pg_catalog.+)
        (SELECT pg_catalog.count(*)::pg_catalog.int4 FROM pg_catalog.unnest(methods) m
         WHERE m OPERATOR(pg_catalog.<>) 'none') OPERATOR(pg_catalog.+)
        pg_catalog.cardinality(methods) OPERATOR(pg_catalog.*) pg_catalog.cardinality(archs);
BEGIN
    LOOP
        PERFORM ecgdl.session_step(step, steps);
        EXIT WHEN ecgdl.study_step(source, prefix, epochs, batch_size, patience, seed, split, methods,
                                   archs, replace, class_weight, reuse_split, step) IS NULL;
        step := step OPERATOR(pg_catalog.+) 1;
    END LOOP;
    PERFORM ecgdl.session_step(0, 0);
    -- the report rows of this study: models <prefix>_<arch>_<method>
    -- evaluated on <prefix>_test
    RETURN QUERY SELECT r.* FROM ecgdl.report r
        WHERE pg_catalog.starts_with(r.model, pg_catalog.format('%s_', prefix))
          AND pg_catalog.split_part(r.test_table, '.', -1) OPERATOR(pg_catalog.=) pg_catalog.format('%s_test', prefix)
        ORDER BY r.architecture, pg_catalog.array_position(ARRAY['none', 'random', 'smote', 'adasyn'], r.oversampling);
END
$study$;

CREATE FUNCTION ecg_study_async(source regclass, prefix text DEFAULT 'study',
                                epochs int DEFAULT 100, batch_size int DEFAULT 2048,
                                patience int DEFAULT 15, seed int DEFAULT 42,
                                split text DEFAULT 'stratified',
                                methods text[] DEFAULT ARRAY['none', 'random', 'smote', 'adasyn'],
                                archs text[] DEFAULT ARRAY['baseline', 'cnn'],
                                replace boolean DEFAULT false,
                                class_weight text DEFAULT 'none',
                                reuse_split boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'ecg_study_async'
LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION ecg_study_async(regclass, text, int, int, int, int, text, text[], text[], boolean, text, boolean) IS
'ecg_study in a background worker: checks everything ecg_study checks before its first step, queues the study and returns the job id; each step commits on its own (the report: ecgdl.report)';
