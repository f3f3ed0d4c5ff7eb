/*
 * nn_checkpoint.h - the state of a training at the end of an epoch, as bytes.
 *
 * Everything the next epoch reads is kept: the current weights and
 * batch-norm statistics, the best epoch's copy of both, Adam's moments, step
 * count and learning rate, the two generators (shuffle and dropout), the
 * training rows' order (each epoch shuffles it further), the early-stopping
 * and plateau monitors, the best epoch and the history so far.  Training
 * resumed from it computes the bits an uninterrupted run computes.
 *
 * Format (the machine's own byte order and float layout: a checkpoint is read
 * back by the server that wrote it, never exchanged): "ECGCKPT1", a u32 version, the
 * u32 fingerprint of the configuration and data it belongs to, the counts
 * (epochs done, parameters, state, training rows), the scalars, the arrays,
 * then a CRC-32 of everything before it.  A checkpoint is refused when it is
 * damaged (CRC, lengths) or belongs to another model, configuration or data
 * (fingerprint, counts).
 */
#ifndef ECG_NN_CHECKPOINT_H
#define ECG_NN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ecg_core.h"
#include "rng.h"

struct nn_epoch_stats;

/* where the int32 count of epochs done sits in a checkpoint */
#define NN_CHECKPOINT_EPOCHS_AT 16

/*
 * A view of the training state: the arrays belong to the trainer (writing
 * reads them; reading fills them and checks their sizes against the counts).
 */
typedef struct nn_train_state
{
	uint32_t	fingerprint;	/* of the configuration, model shape and data */
	int32_t		epochs_done;
	size_t		n_params;
	size_t		n_state;
	size_t		n_train;
	float	   *params;			/* [n_params] */
	float	   *state;			/* [n_state] */
	float	   *best_params;	/* [n_params] */
	float	   *best_state;		/* [n_state] */
	float	   *adam_m;			/* [n_params] */
	float	   *adam_v;			/* [n_params] */
	int64_t		adam_t;
	double		lr;
	rng_state	shuffle_rng;
	rng_state	dropout_rng;
	uint32_t   *train_rows;		/* [n_train] */
	double		stop_best;
	int32_t		stop_wait;
	double		plateau_best;
	int32_t		plateau_wait;
	int32_t		best_epoch;
	double		best_monitor;
	struct nn_epoch_stats *history;	/* [epochs_done] (reading: room for max_epochs) */
} nn_train_state;

/* Bytes nn_checkpoint_write needs for this state. */
size_t		nn_checkpoint_size(const nn_train_state *s);

/* Writes the state into out[cap] (cap >= nn_checkpoint_size); returns the bytes
 * written, 0 when cap is too small. */
size_t		nn_checkpoint_write(const nn_train_state *s, uint8_t *out, size_t cap);

/*
 * Reads a checkpoint into s, whose fingerprint, counts (n_params, n_state,
 * n_train) and arrays the caller has set up; history has room for
 * max_epochs entries.  Fails with ECG_ERR_FORMAT on damaged bytes and
 * ECG_ERR_ARGUMENT on a checkpoint of another training (fingerprint or
 * counts), leaving s's arrays unspecified.
 */
int			nn_checkpoint_read(const uint8_t *in, size_t len, nn_train_state *s, int max_epochs,
							   ecg_status *st);

#endif
