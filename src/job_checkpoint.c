/*
 * job_checkpoint.c - what a training does for ecgdl.jobs (jobs.h): its
 * progress in a slot, and in a job, a checkpoint file per epoch.
 *
 * Checkpoints are files, not rows: the training of a job runs inside one
 * transaction (ecg_train's), and a row written there would be lost with it on
 * a cancel, a crash or a restart - exactly when it is needed.  A file
 * pg_ecgdl_jobs/<database oid>.<job id>.ckpt in the data directory holds
 * "ECGJOBC1", the length and name of the model being trained, then the core's
 * checkpoint (nn_checkpoint.h).  It is written to a temporary file, synced,
 * and renamed over the previous one (durable_rename), so a crash leaves the
 * old or the new checkpoint, never half of one.  A checkpoint of another
 * model (a study's earlier step) is ignored.  The file is removed when the
 * job is done.
 */
#include "postgres.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "ecgdl.h"
#include "jobs.h"
#include "nn_checkpoint.h"

#define CHECKPOINT_DIR "pg_ecgdl_jobs"
static const char file_magic[8] = {'E', 'C', 'G', 'J', 'O', 'B', 'C', '1'};

int64		jobs_current_job = 0;

/* this backend's training shows in a slot it claimed itself (a session) */
static bool session_slot = false;
static const char *training_model = NULL;

static char *
checkpoint_path(Oid dboid, int64 job_id, bool temporary)
{
	return psprintf("%s/%u.%lld.ckpt%s", CHECKPOINT_DIR, dboid, (long long) job_id,
					temporary ? ".tmp" : "");
}

void
jobs_checkpoint_remove(Oid dboid, int64 job_id)
{
	char	   *path = checkpoint_path(dboid, job_id, false);

	if (unlink(path) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove checkpoint file \"%s\": %m", path)));
}

static void
write_all(int fd, const void *data, size_t len, const char *path)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			int			save = errno;

			close(fd);
			errno = n < 0 ? save : ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write checkpoint file \"%s\": %m", path)));
		}
		p += n;
		len -= (size_t) n;
	}
}

/* nn_train's per-epoch callback in a job: the checkpoint to disk. */
static int
save_checkpoint(const uint8_t *bytes, size_t len, const nn_epoch_stats *stats, void *arg)
{
	char	   *tmp = checkpoint_path(MyDatabaseId, jobs_current_job, true);
	char	   *path = checkpoint_path(MyDatabaseId, jobs_current_job, false);
	uint32		name_len = (uint32) strlen(training_model);
	int			fd;

	if (MakePGDirectory(CHECKPOINT_DIR) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", CHECKPOINT_DIR)));
	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create checkpoint file \"%s\": %m", tmp)));
	write_all(fd, file_magic, sizeof(file_magic), tmp);
	write_all(fd, &name_len, sizeof(name_len), tmp);
	write_all(fd, training_model, name_len, tmp);
	write_all(fd, bytes, len, tmp);
	if (pg_fsync(fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync checkpoint file \"%s\": %m", tmp)));
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close checkpoint file \"%s\": %m", tmp)));
	(void) durable_rename(tmp, path, ERROR);
	return 0;
}

/*
 * The job's checkpoint of `model` (palloc'd core bytes), or NULL when there
 * is none or it is of another model.  A file too short for its header is
 * damaged: an error (the core checks the rest).
 */
static uint8_t *
load_checkpoint(const char *model, size_t *len)
{
	char	   *path = checkpoint_path(MyDatabaseId, jobs_current_job, false);
	size_t		file_len;
	char	   *data = ecgdl_read_server_file(path, &file_len, true);
	uint32		name_len;
	size_t		head = sizeof(file_magic) + sizeof(uint32);

	if (data == NULL)
		return NULL;
	if (file_len < head || memcmp(data, file_magic, sizeof(file_magic)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("checkpoint file \"%s\" is damaged", path),
				 errhint("Remove the file to train this model from its first epoch.")));
	memcpy(&name_len, data + sizeof(file_magic), sizeof(uint32));
	if (name_len > file_len - head)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("checkpoint file \"%s\" is damaged", path),
				 errhint("Remove the file to train this model from its first epoch.")));
	if (name_len != strlen(model) || memcmp(data + head, model, name_len) != 0)
		return NULL;
	*len = file_len - head - name_len;
	return (uint8_t *) data + head + name_len;
}

/* The epochs a core checkpoint holds, read from its header (checked in full
 * when it is loaded), for the progress shown before the next epoch ends. */
static int
checkpoint_epochs(const uint8_t *core, size_t len)
{
	int32		epochs = 0;

	if (len >= NN_CHECKPOINT_EPOCHS_AT + sizeof(int32))
		memcpy(&epochs, core + NN_CHECKPOINT_EPOCHS_AT, sizeof(int32));
	return epochs;
}

void
jobs_training_begin(const char *model, int epochs, nn_train_resume *resume)
{
	memset(resume, 0, sizeof(*resume));
	training_model = model;
	if (jobs_current_job > 0)
	{
		resume->checkpoint = load_checkpoint(model, &resume->checkpoint_len);
		resume->save = save_checkpoint;
	}
	else
		session_slot = jobs_session_slot_claim();
	jobs_progress_model(model, epochs);
	if (resume->checkpoint != NULL)
	{
		nn_epoch_stats none = {0};

		none.epoch = checkpoint_epochs(resume->checkpoint, resume->checkpoint_len);
		ereport(LOG,
				(errmsg("job %lld: resuming the training of \"%s\" after epoch %d from its checkpoint",
						(long long) jobs_current_job, model, none.epoch)));
		none.loss = none.accuracy = none.val_loss = none.val_accuracy = none.lr = NAN;
		jobs_progress_epoch(&none);
	}
}

void
jobs_training_epoch(const nn_epoch_stats *s)
{
	jobs_progress_epoch(s);
}

void
jobs_training_end(void)
{
	if (session_slot)
		jobs_slot_release(jobs_my_slot);
	session_slot = false;
	training_model = NULL;
}
