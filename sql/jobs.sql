-- Background jobs (issue 14): ecg_train_async, ecg_study_async, ecgdl.jobs,
-- ecg_job_cancel, ecg_job_resume.  Needs ecgdl in shared_preload_libraries
-- (as .ci/test starts the server).  Jobs run in background workers: the
-- test waits for them with wait_job, so the output does not depend on timing.
SET client_min_messages = warning;

CREATE TABLE jb_beats AS
SELECT n::bigint AS id, c::smallint AS label,
       ARRAY(SELECT (0.2 + 0.6 * exp(-((s - 25 - 30 * c) ^ 2) / 60.0)
                     + 0.1 * sin(s * n * 0.013))::real
             FROM generate_series(1, 187) s) AS signal
FROM (SELECT n, (n % 5) AS c FROM generate_series(1, 400) n) t;
ALTER TABLE jb_beats ADD PRIMARY KEY (id);
CREATE TABLE jb_one_class AS SELECT id, 0::smallint AS label, signal FROM jb_beats;
ALTER TABLE jb_one_class ADD PRIMARY KEY (id);

-- wait_job(id): the job's state once it has ended (at most 60 s)
CREATE FUNCTION wait_job(job bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    FOR i IN 1..600 LOOP
        SELECT state INTO s FROM ecgdl.jobs WHERE id = job;
        EXIT WHEN s IN ('done', 'failed', 'cancelled');
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN s;
END $$;

SELECT pg_catalog.current_setting('ecgdl.max_jobs') AS max_jobs;
-- the view's columns
SELECT attname FROM pg_attribute WHERE attrelid = 'ecgdl.jobs'::regclass AND attnum > 0 ORDER BY attnum;

-- a training job ends with the model a synchronous ecg_train makes
SELECT ecg_train_async('jb_async', 'jb_beats', 'baseline', epochs => 3, batch_size => 32, seed => 4) AS job \gset
SELECT wait_job(:job);
SELECT ecg_train('jb_sync', 'jb_beats', 'baseline', epochs => 3, batch_size => 32, seed => 4) > 0 AS trained;
SELECT md5(ecg_model_export('jb_async')) = md5(ecg_model_export('jb_sync')) AS same_bytes;
SELECT kind, owner = current_user::regrole AS own, state, model, epoch, epochs, loss > 0 AS has_loss,
       val_loss > 0 AS has_val_loss, lr, time_left, error, error_code,
       model_id = (SELECT id FROM ecgdl.models WHERE name = 'jb_async') AS model_id_ok,
       started_at >= submitted_at AND finished_at >= started_at AS times_ok, pid
FROM ecgdl.jobs WHERE id = :job;
SELECT epochs_run, jsonb_array_length(history) AS history_rows FROM ecgdl.models WHERE name = 'jb_async';

-- a job whose training fails keeps its error and SQLSTATE; it may be resumed
-- (and fails again the same way)
SELECT ecg_train_async('jb_fails', 'jb_one_class', 'baseline', epochs => 2) AS failing \gset
SELECT wait_job(:failing);
SELECT state, error, error_code, model_id FROM ecgdl.jobs WHERE id = :failing;
SELECT ecg_job_resume(:failing);
SELECT wait_job(:failing);

-- a job cancelled while queued (in the transaction that queued it) never runs
BEGIN;
SELECT ecg_train_async('jb_never', 'jb_beats', 'baseline', epochs => 2) AS never \gset
SELECT ecg_job_cancel(:never);
COMMIT;
SELECT state, started_at IS NULL AS never_started, finished_at IS NOT NULL AS finished FROM ecgdl.jobs WHERE id = :never;
SELECT count(*) AS models FROM ecgdl.models WHERE name = 'jb_never';

-- errors of the job functions
SELECT regress_error('SELECT ecg_job_cancel(0)');
SELECT regress_error('SELECT ecg_job_resume(-1)');
SELECT regress_error('SELECT ecg_job_resume(' || :job || ')');
SELECT regress_error('SELECT ecg_job_cancel(' || :job || ')');
SELECT regress_error('SELECT ecg_job_cancel(' || :never || ')');
SELECT regress_error('SELECT ecg_job_cancel(' || :failing || ')');
SELECT ecg_job_cancel(NULL), ecg_job_resume(NULL);

-- another role may not cancel or resume a job, nor read the job table
CREATE ROLE regress_jobs_other;
SET ROLE regress_jobs_other;
SELECT regress_error('SELECT ecg_job_cancel(' || :never || ')');
SELECT regress_error('SELECT ecg_job_resume(' || :failing || ')');
SELECT regress_error('SELECT count(*) FROM ecgdl.jobs_table');
SELECT count(*) > 0 AS sees_the_jobs FROM ecgdl.jobs;
RESET ROLE;
DROP ROLE regress_jobs_other;

-- bad arguments fail as in ecg_train and ecg_study, before any job is queued
SELECT count(*) AS jobs_before FROM ecgdl.jobs_table \gset
SELECT regress_error($$SELECT ecg_train_async(NULL, 'jb_beats')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'resnet')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', epochs => 0)$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', learning_rate => 100)$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', class_weight => 'heavy')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', operating_point => 'best')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', operating_point => 'validation')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_beats', 'baseline', features => ARRAY['rr_pre'])$$);
SELECT regress_error($$SELECT ecg_train_async('jb_async', 'jb_beats', 'baseline')$$);
SELECT regress_error($$SELECT ecg_train_async('x', 'pg_class', 'baseline')$$);
CREATE TEMP TABLE jb_temp AS SELECT * FROM jb_beats;
SELECT regress_error($$SELECT ecg_train_async('x', 'jb_temp', 'baseline')$$);
SELECT regress_error($$SELECT ecg_study_async('jb_temp', 'jbt')$$);
DROP TABLE jb_temp;
SELECT regress_error($$SELECT ecg_study_async(NULL)$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'Bad Prefix')$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb', split => 'sideways')$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb', methods => ARRAY['smote', 'smote'])$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb', archs => ARRAY['resnet'])$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb', epochs => -1)$$);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb_beats'' || ''x')$$);
CREATE TABLE jb_test (id bigint);
SELECT regress_error($$SELECT ecg_study_async('jb_beats', 'jb')$$);
DROP TABLE jb_test;
SELECT count(*) - :jobs_before AS jobs_queued_by_bad_calls FROM ecgdl.jobs_table;

-- a study job: every step commits on its own; the report as ecg_study's
SELECT ecg_study_async('jb_beats', 'jbs', epochs => 2, batch_size => 32,
                       methods => ARRAY['none', 'random'], archs => ARRAY['baseline']) AS study \gset
SELECT wait_job(:study);
SELECT kind, state, step, steps, model, error FROM ecgdl.jobs WHERE id = :study;
SELECT model, architecture, oversampling, test_table FROM ecgdl.report WHERE model LIKE 'jbs\_%' ORDER BY model;

-- a synchronous training shows in ecgdl.jobs while it runs (id NULL): an
-- epoch callback cannot be watched from here, so this checks what remains
-- after it - nothing
SELECT count(*) AS session_rows FROM ecgdl.jobs WHERE id IS NULL;

-- ended jobs are forgotten with their checkpoints; not a queued or running
-- one, nor another role's
SELECT regress_error('SELECT ecg_job_forget(0)');
BEGIN;
SELECT ecg_train_async('jb_queued', 'jb_beats', 'baseline', epochs => 2) AS queued \gset
SELECT regress_error('SELECT ecg_job_forget(' || :queued || ')');
SELECT ecg_job_cancel(:queued);
COMMIT;
CREATE ROLE regress_jobs_other;
SET ROLE regress_jobs_other;
SELECT regress_error('SELECT ecg_job_forget(' || :queued || ')');
RESET ROLE;
DROP ROLE regress_jobs_other;
SELECT ecg_job_forget(id) FROM ecgdl.jobs_table ORDER BY id;
SELECT count(*) AS jobs_left FROM ecgdl.jobs;

SELECT ecg_model_drop(name) FROM ecgdl.models WHERE name LIKE 'jb%' ORDER BY name;
DROP TABLE jb_beats, jb_one_class, jbs_trainval, jbs_test, jbs_train, jbs_val, jbs_train_random;
DROP FUNCTION wait_job(bigint);
