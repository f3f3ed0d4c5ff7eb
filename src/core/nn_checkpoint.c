/*
 * nn_checkpoint.c - a training's state at the end of an epoch as bytes, and
 * back (see nn_checkpoint.h).
 */
#include "nn_checkpoint.h"

#include <string.h>

#include "crc32.h"
#include "nn_train.h"

static const char checkpoint_magic[8] = {'E', 'C', 'G', 'C', 'K', 'P', 'T', '1'};

#define CHECKPOINT_VERSION 1

/* the fixed part: magic, version, fingerprint, epochs, three counts */
#define HEADER_BYTES (8 + 4 + 4 + 4 + 3 * 8)
/* adam_t, lr, two generators, stop_best, stop_wait, plateau_best,
 * plateau_wait, best_epoch, best_monitor */
#define SCALAR_BYTES (8 + 8 + 2 * 32 + 8 + 4 + 8 + 4 + 4 + 8)

/* a history entry: the epoch (int32) and six doubles, field by field (no
 * padding bytes in the file) */
#define HISTORY_BYTES (4 + 6 * 8)

size_t
nn_checkpoint_size(const nn_train_state *s)
{
	return HEADER_BYTES + SCALAR_BYTES
		+ (4 * s->n_params + 2 * s->n_state) * sizeof(float)	/* weights, best, m, v */
		+ s->n_train * sizeof(uint32_t)
		+ (size_t) s->epochs_done * HISTORY_BYTES
		+ 4;					/* CRC-32 */
}

/* Sequential writer / reader over a buffer; a reader past the end sets bad. */
typedef struct cursor
{
	uint8_t    *p;
	const uint8_t *q;
	size_t		left;
	int			bad;
} cursor;

static void
put(cursor *c, const void *v, size_t n)
{
	memcpy(c->p, v, n);
	c->p += n;
}

static void
get(cursor *c, void *v, size_t n)
{
	if (c->bad || n > c->left)
	{
		c->bad = 1;
		return;
	}
	memcpy(v, c->q, n);
	c->q += n;
	c->left -= n;
}

static void
put_u64(cursor *c, uint64_t v)
{
	put(c, &v, sizeof(v));
}

static uint64_t
get_u64(cursor *c)
{
	uint64_t	v = 0;

	get(c, &v, sizeof(v));
	return v;
}

size_t
nn_checkpoint_write(const nn_train_state *s, uint8_t *out, size_t cap)
{
	size_t		need = nn_checkpoint_size(s);
	cursor		c = {out, NULL, 0, 0};
	uint32_t	version = CHECKPOINT_VERSION,
				crc;

	if (cap < need)
		return 0;
	put(&c, checkpoint_magic, sizeof(checkpoint_magic));
	put(&c, &version, 4);
	put(&c, &s->fingerprint, 4);
	put(&c, &s->epochs_done, 4);
	put_u64(&c, s->n_params);
	put_u64(&c, s->n_state);
	put_u64(&c, s->n_train);
	put(&c, &s->adam_t, 8);
	put(&c, &s->lr, 8);
	put(&c, s->shuffle_rng.s, 32);
	put(&c, s->dropout_rng.s, 32);
	put(&c, &s->stop_best, 8);
	put(&c, &s->stop_wait, 4);
	put(&c, &s->plateau_best, 8);
	put(&c, &s->plateau_wait, 4);
	put(&c, &s->best_epoch, 4);
	put(&c, &s->best_monitor, 8);
	put(&c, s->params, s->n_params * sizeof(float));
	put(&c, s->state, s->n_state * sizeof(float));
	put(&c, s->best_params, s->n_params * sizeof(float));
	put(&c, s->best_state, s->n_state * sizeof(float));
	put(&c, s->adam_m, s->n_params * sizeof(float));
	put(&c, s->adam_v, s->n_params * sizeof(float));
	put(&c, s->train_rows, s->n_train * sizeof(uint32_t));
	for (int e = 0; e < s->epochs_done; e++)
	{
		const nn_epoch_stats *h = &s->history[e];
		int32_t		epoch = h->epoch;

		put(&c, &epoch, 4);
		put(&c, &h->loss, 8);
		put(&c, &h->accuracy, 8);
		put(&c, &h->val_loss, 8);
		put(&c, &h->val_accuracy, 8);
		put(&c, &h->lr, 8);
		put(&c, &h->seconds, 8);
	}
	crc = crc32_compute(out, (size_t) (c.p - out));
	put(&c, &crc, 4);
	return (size_t) (c.p - out);
}

int
nn_checkpoint_read(const uint8_t *in, size_t len, nn_train_state *s, int max_epochs,
				   ecg_status *st)
{
	cursor		c = {NULL, in, len, 0};
	char		magic[8];
	uint32_t	version = 0,
				fingerprint = 0,
				crc_stored;
	int32_t		epochs_done = -1;
	uint64_t	n_params,
				n_state,
				n_train;

	if (len < HEADER_BYTES + SCALAR_BYTES + 4)
		return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint of %zu bytes is too short", len);
	memcpy(&crc_stored, in + len - 4, 4);
	if (crc32_compute(in, len - 4) != crc_stored)
		return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint is damaged (CRC-32 mismatch)");
	c.left = len - 4;
	get(&c, magic, sizeof(magic));
	get(&c, &version, 4);
	if (memcmp(magic, checkpoint_magic, sizeof(magic)) != 0 || version != CHECKPOINT_VERSION)
		return ecg_fail(st, ECG_ERR_FORMAT, "not a training checkpoint of version %d", CHECKPOINT_VERSION);
	get(&c, &fingerprint, 4);
	get(&c, &epochs_done, 4);
	n_params = get_u64(&c);
	n_state = get_u64(&c);
	n_train = get_u64(&c);
	if (fingerprint != s->fingerprint || n_params != s->n_params || n_state != s->n_state ||
		n_train != s->n_train)
		return ecg_fail(st, ECG_ERR_ARGUMENT,
						"checkpoint belongs to another training (model, settings or data differ)");
	if (epochs_done < 1 || epochs_done > max_epochs)
		return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint after epoch %d of a training of %d epochs",
						(int) epochs_done, max_epochs);
	s->epochs_done = epochs_done;
	get(&c, &s->adam_t, 8);
	get(&c, &s->lr, 8);
	get(&c, s->shuffle_rng.s, 32);
	get(&c, s->dropout_rng.s, 32);
	get(&c, &s->stop_best, 8);
	get(&c, &s->stop_wait, 4);
	get(&c, &s->plateau_best, 8);
	get(&c, &s->plateau_wait, 4);
	get(&c, &s->best_epoch, 4);
	get(&c, &s->best_monitor, 8);
	get(&c, s->params, s->n_params * sizeof(float));
	get(&c, s->state, s->n_state * sizeof(float));
	get(&c, s->best_params, s->n_params * sizeof(float));
	get(&c, s->best_state, s->n_state * sizeof(float));
	get(&c, s->adam_m, s->n_params * sizeof(float));
	get(&c, s->adam_v, s->n_params * sizeof(float));
	get(&c, s->train_rows, s->n_train * sizeof(uint32_t));
	for (int e = 0; e < epochs_done; e++)
	{
		nn_epoch_stats *h = &s->history[e];
		int32_t		epoch = 0;

		memset(h, 0, sizeof(*h));
		get(&c, &epoch, 4);
		h->epoch = epoch;
		get(&c, &h->loss, 8);
		get(&c, &h->accuracy, 8);
		get(&c, &h->val_loss, 8);
		get(&c, &h->val_accuracy, 8);
		get(&c, &h->lr, 8);
		get(&c, &h->seconds, 8);
		if (!c.bad && h->epoch != e + 1)
			return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint history is out of order at entry %d", e + 1);
	}
	if (c.bad || c.left != 0)
		return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint length does not match its counts");
	if (s->best_epoch < 0 || s->best_epoch > epochs_done || s->stop_wait < 0 || s->plateau_wait < 0 ||
		!(s->lr > 0) || s->adam_t < 0)
		return ecg_fail(st, ECG_ERR_FORMAT, "checkpoint holds values out of range");
	return 0;
}
