/*
 * nn_train.h - the training loop: minibatch Adam with Keras-style early
 * stopping and learning-rate reduction.
 *
 * Per epoch: a seeded shuffle of the training rows into minibatches (the last
 * partial batch included), forward / backward / Adam step per batch (class
 * weights as per-sample weights), then validation loss and accuracy in
 * inference mode, a history entry, the callback, and the two monitors:
 *
 *  - early stopping on the validation loss (Keras EarlyStopping with
 *    min_delta 0, restore_best_weights=True): an epoch improves when its
 *    validation loss is below the best so far; after `patience` epochs
 *    without improvement training stops.  The weights (and batch-norm moving
 *    statistics) of the best epoch are restored at the end - also when all
 *    epochs ran (Keras 2 restores only when it stopped early; restoring
 *    always is what "best weights restored" means for the study);
 *  - ReduceLROnPlateau (Keras defaults: mode min, min_delta 1e-4 absolute,
 *    cooldown 0, min_lr 0): an epoch improves when val_loss < best - 1e-4;
 *    after plateau_patience epochs without improvement lr *= plateau_factor
 *    and the count restarts.
 *
 * Without a validation set, validation_fraction (default 0.3) of the training
 * rows is held out, stratified by class (split_stratified, seeded); the
 * result says so.  validation_fraction 0 and no validation set: the monitors
 * watch the training loss instead.
 *
 * With config.augment on (nn_augment.h), every minibatch is gathered into a
 * copy (beats and features) and each of its rows transformed with the
 * randomness of (seed, epoch, position in the epoch's order) before the
 * forward pass; validation rows are never transformed.  Off, the batch is
 * loaded straight from the data set as before: the same bits.
 *
 * Deterministic: the same seed, data and thread count give the same weights
 * bit for bit (the layer kernels are in fact thread-count independent).
 * Training and validation losses are reported as Keras does: the training loss
 * is the mean over batches of the class-weighted batch loss, weighted by batch
 * size; the validation loss is unweighted.
 */
#ifndef ECG_NN_TRAIN_H
#define ECG_NN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"
#include "nn_augment.h"
#include "nn_model.h"
#include "nn_threads.h"

/*
 * The largest sample magnitude the glue accepts for training (ecgdl's beats
 * are in [0, 1]); far larger values overflow the float sums and squares of
 * batch normalisation and Adam.
 */
#define NN_MAX_INPUT_MAGNITUDE 1e6

typedef enum nn_class_weighting
{
	NN_CLASS_WEIGHT_NONE = 0,
	NN_CLASS_WEIGHT_BALANCED,	/* n_samples / (n_present_classes * count_c), like sklearn */
	NN_CLASS_WEIGHT_EXPLICIT	/* config.class_weights[c] */
} nn_class_weighting;

typedef struct nn_train_config
{
	int			epochs;			/* 100 */
	int			batch_size;		/* 2048 */
	double		learning_rate;	/* 1e-3 */
	int			patience;		/* early stopping, 15; 0 = off */
	int			plateau_patience;	/* 10; 0 = off */
	double		plateau_factor;	/* 0.1 */
	double		plateau_min_delta;	/* 1e-4 */
	uint64_t	seed;			/* shuffles, dropout masks, hold-out split */
	int			threads;		/* informational: the pool the caller made (1) */
	nn_class_weighting class_weighting; /* NONE */
	float		class_weights[NN_MAX_CLASSES];	/* for EXPLICIT, >= 0 */
	double		validation_fraction;	/* 0.3, used without a validation set */
	size_t		beat_length;	/* samples per input row, NN_BEAT_LENGTH */
	nn_augment_config augment;	/* all 0 = off: rows trained on as they are */
} nn_train_config;

/* The study's recipe (values in the comments above). */
void		nn_train_config_default(nn_train_config *config);

typedef struct nn_epoch_stats
{
	int			epoch;			/* 1-based */
	double		loss;
	double		accuracy;
	double		val_loss;		/* NaN without validation data */
	double		val_accuracy;
	double		lr;				/* learning rate used in this epoch */
	double		seconds;		/* wall-clock time of the epoch */
} nn_epoch_stats;

typedef struct nn_train_result
{
	int			epochs_run;
	int			best_epoch;		/* 1-based epoch whose weights the model holds */
	double		best_monitor;	/* its validation (or training) loss */
	int			stopped_early;	/* early stopping ended the training */
	int			stopped_by_callback;
	int			validation_held_out;	/* the validation rows were held out of train */
	size_t		n_train;		/* rows trained on */
	size_t		n_validation;
	float		class_weights[NN_MAX_CLASSES];	/* as applied (1 without weighting) */
	double		final_lr;
	double		samples_per_second;	/* training throughput (train batches only) */
	nn_epoch_stats *history;	/* [epochs_run], ecg_alloc'd */
} nn_train_result;

void		nn_train_result_release(nn_train_result *result);

/*
 * Called after every epoch (from the calling thread).  Return 0 to go on,
 * non-zero to stop training (the best weights are still restored).  The glue
 * may also throw from here (cancel); everything is ecg_alloc memory.
 */
typedef int (*nn_epoch_callback) (const nn_epoch_stats *stats, void *arg);

/*
 * Rows of beat_length floats with labels in 0..n_classes-1.
 */
typedef struct nn_dataset
{
	const float *beats;			/* [n][beat_length] */
	const int  *labels;			/* [n] */
	size_t		n;
	const float *features;		/* [n][model->n_features] raw, imputed; NULL
								 * for a model without features */
} nn_dataset;

/*
 * Trains `model` (initialised by the caller) on train, validating on
 * validation (NULL or empty: hold out config->validation_fraction of train).
 * pool: the caller's thread pool (NULL = single-threaded).  On success fills
 * *result (release with nn_train_result_release).  Fails with
 * ECG_ERR_ARGUMENT (bad config, labels out of range, too few rows),
 * ECG_ERR_LIMIT (memory limit), ECG_ERR_NOMEM, or ECG_ERR_DATA when the
 * training or validation loss of an epoch is not finite (the message names
 * the epoch; the model's weights are then undefined).
 */
int			nn_train_run(nn_model *model, const nn_dataset *train, const nn_dataset *validation,
						 const nn_train_config *config, nn_pool *pool,
						 nn_epoch_callback callback, void *callback_arg,
						 nn_train_result *result, ecg_status *st);

/*
 * Checkpoints (nn_checkpoint.h): after every epoch's monitors (and before the
 * epoch callback) `save` receives the training state as bytes, valid during
 * the call; return non-zero to fail the training (st set by the callee via
 * the message it returns is not possible: the run fails with ECG_ERR_DATA
 * "checkpoint could not be saved").  A run given `checkpoint` continues after
 * the epoch it was taken at and ends with the bits the uninterrupted run
 * ends with: same model (initialised as before: the checkpoint replaces its
 * weights), configuration and data, which the checkpoint's fingerprint
 * checks.  A checkpoint taken at the epoch that ended the training (the last
 * one, or early stopping) resumes to the end at once.
 */
typedef int (*nn_checkpoint_callback) (const uint8_t *checkpoint, size_t len,
									   const nn_epoch_stats *stats, void *arg);

typedef struct nn_train_resume
{
	const uint8_t *checkpoint;	/* NULL: start with epoch 1 */
	size_t		checkpoint_len;
	nn_checkpoint_callback save;	/* NULL: no checkpoints */
	void	   *save_arg;
	int			resumed_epochs; /* out: the epochs the checkpoint held (0 without) */
} nn_train_resume;

/*
 * nn_train_run with checkpoints (resume NULL: exactly nn_train_run).  Also
 * fails with ECG_ERR_FORMAT (damaged checkpoint) or ECG_ERR_ARGUMENT (a
 * checkpoint of another training).
 */
int			nn_train_run_resumable(nn_model *model, const nn_dataset *train,
								   const nn_dataset *validation, const nn_train_config *config,
								   nn_pool *pool, nn_epoch_callback callback, void *callback_arg,
								   nn_train_resume *resume, nn_train_result *result,
								   ecg_status *st);

/*
 * Bytes nn_train_run will allocate for this model, batch size and data size
 * (workspace, optimiser state, best-weights copy, index arrays).
 */
size_t		nn_train_memory_bytes(const nn_model *model, const nn_train_config *config,
								  size_t n_train, size_t n_validation);

/*
 * A short text summary (for the model blob's metadata): the configuration,
 * the outcome and the history, one "key=value" or history line each.
 * ecg_alloc'd; NULL when out of memory.
 */
char	   *nn_train_summary(const nn_train_config *config, const nn_train_result *result);

#endif
