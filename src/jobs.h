/*
 * jobs.h - long trainings and studies in background workers (issue 14):
 * shared-memory progress slots (job_shmem.c), the job table and SQL functions
 * (jobs.c), checkpoint files (job_checkpoint.c) and the worker (job_worker.c).
 *
 * A job is a row of ecgdl.jobs_table (its arguments, owner, state and last
 * progress) run by a dynamic background worker that connects to the job's
 * database as its owner.  Live progress - of jobs and of synchronous
 * ecg_train calls in any session - sits in a small array of slots in shared
 * memory, which needs ecgdl in shared_preload_libraries; the view ecgdl.jobs
 * joins both.  A training in a job saves a checkpoint file per epoch, so a
 * cancelled, crashed or interrupted job resumes from its last finished epoch.
 */
#ifndef ECGDL_JOBS_H
#define ECGDL_JOBS_H

#include "postgres.h"

#include "postmaster/bgworker.h"
#include "utils/timestamp.h"

#include "nn_train.h"

/* slots in shared memory: jobs and synchronous trainings together */
#define ECGDL_JOB_SLOTS 64
#define ECGDL_JOB_TEXT 128

typedef struct JobSlot
{
	bool		in_use;
	pid_t		pid;			/* 0 while the worker starts */
	Oid			dboid;
	int64		job_id;			/* 0: a session's synchronous training */
	Oid			owner;
	char		kind[16];		/* train, study */
	char		model[ECGDL_JOB_TEXT];	/* the model being trained */
	int32		step;			/* study: the step running, of steps */
	int32		steps;
	int32		epoch;			/* the last finished epoch, of epochs */
	int32		epochs;
	double		loss;
	double		accuracy;
	double		val_loss;
	double		val_accuracy;
	double		lr;
	double		epoch_seconds;	/* sum over the epochs of this training run */
	int32		epochs_timed;
	TimestampTz started;
	TimestampTz updated;
} JobSlot;

/* GUC ecgdl.max_jobs (ecgdl.c) */
extern int	ecgdl_max_jobs;

/* job_shmem.c ------------------------------------------------------------ */

/* Called from _PG_init: requests the slots when ecgdl is being preloaded. */
void		jobs_shmem_init(void);
/* Whether the slots exist (ecgdl was in shared_preload_libraries). */
bool		jobs_shmem_ready(void);
/* Errors (55000) unless the slots exist; `what` names the refused call. */
void		jobs_require_shmem(const char *what);

/*
 * Reserves a slot for job `job_id` of this database, unless it holds one
 * already or ecgdl.max_jobs jobs run (slots of workers that are gone are
 * freed first).  Returns the slot index, -1 when the job must wait, -2 when
 * it runs already.
 */
int			jobs_slot_reserve(int64 job_id, Oid owner, const char *kind);
/* The pid of the worker launched for a reserved slot. */
void		jobs_slot_set_pid(int slot, pid_t pid);
void		jobs_slot_release(int slot);
/* A worker takes over the slot its launcher reserved for it. */
void		jobs_slot_adopt(int slot);
/* A session's synchronous training takes a free slot while it runs; false
 * when it got none (no slots, none free, or this backend has one). */
bool		jobs_session_slot_claim(void);
/* Whether a worker of job_id of this database runs or is about to start
 * (*pid: its pid, 0 while it starts). */
bool		jobs_slot_live(int64 job_id, pid_t *pid);
/* Sends SIGTERM to the worker of a job; false when none runs. */
bool		jobs_slot_terminate(int64 job_id);
/* A copy of slot i. */
void		jobs_slot_copy(int slot, JobSlot *out);
/* A copy of the live slot of job_id of this database; false when none. */
bool		jobs_slot_find(int64 job_id, JobSlot *out);

/* This backend's slot, or -1: set by a worker at start, or by a session's
 * synchronous training while it runs. */
extern int	jobs_my_slot;

/* Progress of this backend's training, shown in its slot. */
void		jobs_progress_model(const char *model, int epochs);
void		jobs_progress_epoch(const nn_epoch_stats *s);
void		jobs_progress_step(int step, int steps);

/* job_checkpoint.c --------------------------------------------------------- */

/* The running job of this backend (a worker), 0 in a session. */
extern int64 jobs_current_job;

/*
 * Hooks of ecg_train's training (train.c): begin shows the training in
 * ecgdl.jobs and, in a job, fills *resume with the job's checkpoint for this
 * model (if any) and the per-epoch saving; epoch reports an epoch; end ends
 * the display (also on an error).
 */
void		jobs_training_begin(const char *model, int epochs, nn_train_resume *resume);
void		jobs_training_epoch(const nn_epoch_stats *s);
void		jobs_training_end(void);
/* Removes the checkpoint file of a job (no error when there is none). */
void		jobs_checkpoint_remove(Oid dboid, int64 job_id);

/* jobs.c ------------------------------------------------------------------- */

/* Starts queued jobs of this database while ecgdl.max_jobs allows;
 * wait_for: the transaction the worker waits for before reading its job
 * (the caller's, which inserted or changed the row). */
void		jobs_launch_queued(TransactionId wait_for);
/* Writes a slot's progress (model, epoch, losses, lr) into the job's row
 * with the assignments `set` (", state = ..."), only while it is running if
 * only_running; SPI connected; returns the rows changed. */
uint64		jobs_update_row(int64 id, const JobSlot *s, const char *set, bool only_running);
/* The OID of ecgdl.jobs_table. */
Oid			jobs_table_oid(void);

/* job_starter.c ------------------------------------------------------------ */

/* From _PG_init while preloading: the worker that starts queued jobs after a
 * server start. */
void		jobs_starter_register(void);
PGDLLEXPORT void ecgdl_job_starter_main(Datum arg);

/* job_worker.c ------------------------------------------------------------- */

PGDLLEXPORT void ecgdl_job_worker_main(Datum arg);

/* What a launched worker is told (bgw_extra). */
typedef struct JobWorkerArgs
{
	int64		job_id;
	Oid			dboid;
	Oid			login_role;		/* the session role it connects as */
	TransactionId wait_for;		/* InvalidTransactionId: none */
	int32		slot;
} JobWorkerArgs;

#endif
