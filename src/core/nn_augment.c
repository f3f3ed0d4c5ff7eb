/*
 * nn_augment.c - random lead-like transformations of normalised training
 * beats (see nn_augment.h for what each does and why in these units).
 */
#include "nn_augment.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* the rate of ecgdl's beat rows (beats.h's BEAT_RATE_HZ; the core's network
 * code does not include beats.h) */
#define AUGMENT_RATE_HZ		125.0
#define WANDER_MIN_HZ		0.1
#define WANDER_MAX_HZ		0.5
/* a window of 1250 samples reaches about 3 sd of white noise each way */
#define NOISE_EXTREME_SD	3.0
#define AUGMENT_PI			3.14159265358979323846
/* keeps the row streams apart from the other streams of the same seed */
#define AUGMENT_SEED_SALT	UINT64_C(0xA06E4E7DB5C3E1F9)

int
nn_augment_enabled(const nn_augment_config *c)
{
	return c->polarity > 0 || c->amplitude > 0 || c->wander > 0 || c->noise > 0 || c->shift > 0;
}

int
nn_augment_check(const nn_augment_config *c, ecg_status *st)
{
	if (!(c->polarity >= 0 && c->polarity <= 1))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation polarity must be a probability in 0..1, got %g",
						c->polarity);
	if (!(c->amplitude >= 0 && c->amplitude <= NN_AUGMENT_MAX_AMPLITUDE))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation amplitude must be in 0..%g, got %g",
						NN_AUGMENT_MAX_AMPLITUDE, c->amplitude);
	if (!(c->wander >= 0 && c->wander <= NN_AUGMENT_MAX_WANDER))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation wander must be in 0..%g, got %g",
						NN_AUGMENT_MAX_WANDER, c->wander);
	if (!(c->noise >= 0 && c->noise <= NN_AUGMENT_MAX_NOISE))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation noise must be in 0..%g, got %g",
						NN_AUGMENT_MAX_NOISE, c->noise);
	if (c->shift < 0 || c->shift > NN_AUGMENT_MAX_SHIFT)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation shift must be in 0..%d samples, got %d",
						NN_AUGMENT_MAX_SHIFT, c->shift);
	return 0;
}

/* Parsing ------------------------------------------------------------------------ */

static void
set_lead_preset(nn_augment_config *c)
{
	c->polarity = NN_AUGMENT_LEAD_POLARITY;
	c->amplitude = NN_AUGMENT_LEAD_AMPLITUDE;
	c->wander = NN_AUGMENT_LEAD_WANDER;
	c->noise = NN_AUGMENT_LEAD_NOISE;
	c->shift = NN_AUGMENT_LEAD_SHIFT;
}

/* s[0..n) equals word, ignoring case */
static int
word_is(const char *s, size_t n, const char *word)
{
	size_t		i;

	for (i = 0; i < n && word[i] != '\0'; i++)
		if (tolower((unsigned char) s[i]) != word[i])
			return 0;
	return i == n && word[i] == '\0';
}

/* One item s[0..n), blanks trimmed already. */
static int
parse_item(const char *s, size_t n, nn_augment_config *c, ecg_status *st)
{
	static const char *const names[] = {"polarity", "amplitude", "wander", "noise", "shift"};
	const char *eq = memchr(s, '=', n);
	size_t		name_len;
	char		value[64];
	size_t		value_len;
	char	   *end;
	double		v;
	int			which = -1;

	if (eq == NULL)
	{
		if (word_is(s, n, "none"))
			memset(c, 0, sizeof(*c));
		else if (word_is(s, n, "lead"))
			set_lead_preset(c);
		else
		{
			for (int k = 0; k < 5; k++)
				if (word_is(s, n, names[k]))
					return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation %s needs a value (%s=...)",
									names[k], names[k]);
			ecg_fail(st, ECG_ERR_ARGUMENT, "unknown augmentation \"%.*s\"", (int) n, s);
			return ecg_fail_detail(st, "Use 'none', 'lead', or name=value with name polarity, "
								   "amplitude, wander, noise or shift.");
		}
		return 0;
	}
	name_len = (size_t) (eq - s);
	while (name_len > 0 && isspace((unsigned char) s[name_len - 1]))
		name_len--;
	for (int k = 0; k < 5; k++)
		if (word_is(s, name_len, names[k]))
			which = k;
	if (which < 0)
	{
		ecg_fail(st, ECG_ERR_ARGUMENT, "unknown augmentation \"%.*s\"", (int) name_len, s);
		return ecg_fail_detail(st, "The augmentations are polarity, amplitude, wander, noise and shift.");
	}
	eq++;
	value_len = n - (size_t) (eq - s);
	while (value_len > 0 && isspace((unsigned char) *eq))
	{
		eq++;
		value_len--;
	}
	if (value_len == 0)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation %s needs a value (%s=...)",
						names[which], names[which]);
	if (value_len >= sizeof(value))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation %s: the value is too long", names[which]);
	memcpy(value, eq, value_len);
	value[value_len] = '\0';
	errno = 0;
	v = strtod(value, &end);
	if (end == value || *end != '\0' || errno != 0 || !isfinite(v))
		return ecg_fail(st, ECG_ERR_ARGUMENT, "augmentation %s: \"%s\" is not a number",
						names[which], value);
	if (which == 4)
	{
		if (v != floor(v) || v < 0 || v > NN_AUGMENT_MAX_SHIFT)
			return ecg_fail(st, ECG_ERR_ARGUMENT,
							"augmentation shift must be a whole number of samples in 0..%d, got %s",
							NN_AUGMENT_MAX_SHIFT, value);
		c->shift = (int) v;
	}
	else
	{
		double	   *strengths[] = {&c->polarity, &c->amplitude, &c->wander, &c->noise};

		*strengths[which] = v;
	}
	return 0;
}

int
nn_augment_parse(const char *text, nn_augment_config *c, ecg_status *st)
{
	const char *p = text;

	memset(c, 0, sizeof(*c));
	if (text == NULL)
		return ecg_fail(st, ECG_ERR_ARGUMENT, "no augmentation given");
	for (;;)
	{
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *b = p;

		while (b < end && isspace((unsigned char) *b))
			b++;
		while (end > b && isspace((unsigned char) end[-1]))
			end--;
		if (end == b)
			return ecg_fail(st, ECG_ERR_ARGUMENT, "empty item in the augmentation list \"%s\"", text);
		if (parse_item(b, (size_t) (end - b), c, st) != 0)
			return -1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return nn_augment_check(c, st);
}

void
nn_augment_format(const nn_augment_config *c, char *text, size_t cap)
{
	if (cap == 0)
		return;
	if (!nn_augment_enabled(c))
		snprintf(text, cap, "none");
	else
		snprintf(text, cap, "polarity=%.15g, amplitude=%.15g, wander=%.15g, noise=%.15g, shift=%d",
				 c->polarity, c->amplitude, c->wander, c->noise, c->shift);
}

/* Transformations ------------------------------------------------------------------- */

/* The beat's own samples: up to its last non-zero one. */
static size_t
active_length(const float *row, size_t length)
{
	while (length > 0 && row[length - 1] == 0.0f)
		length--;
	return length;
}

void
nn_augment_row(const nn_augment_config *c, uint64_t seed, uint64_t epoch, uint64_t position,
			   float *row, size_t length)
{
	rng_state	r;
	size_t		len = active_length(row, length);
	double		y[512];
	double		invert_draw,
				factor,
				split,
				amp,
				freq,
				phase,
				sd,
				lo,
				hi;
	int			s = 0;

	if (len == 0)
		return;
	/* longer rows than ecgdl's are transformed over their first 512 samples */
	if (len > sizeof(y) / sizeof(y[0]))
		len = sizeof(y) / sizeof(y[0]);
	/* one stream per (epoch, position): positions stay below 2^32 (nn_train
	 * refuses more rows), epochs below 2^17 */
	rng_seed_stream(&r, seed ^ AUGMENT_SEED_SALT, (epoch << 32) | (position & UINT64_C(0xFFFFFFFF)));
	/* every draw is made whatever the strengths, so that one strength's
	 * draws do not depend on whether another is on */
	if (c->shift > 0)
		s = (int) rng_below(&r, (uint64_t) (2 * c->shift + 1)) - c->shift;
	else
		(void) rng_next(&r);
	invert_draw = rng_uniform(&r);
	factor = 1.0 - c->amplitude * rng_uniform(&r);
	split = rng_uniform(&r);
	amp = c->wander * rng_uniform(&r);
	freq = WANDER_MIN_HZ + (WANDER_MAX_HZ - WANDER_MIN_HZ) * rng_uniform(&r);
	phase = 2.0 * AUGMENT_PI * rng_uniform(&r);
	sd = c->noise * rng_uniform(&r);

	for (size_t i = 0; i < len; i++)
	{
		long		src = (long) i + s;

		if (src < 0)
			src = 0;
		if (src > (long) len - 1)
			src = (long) len - 1;
		y[i] = row[src];
	}
	if (invert_draw < c->polarity)
		for (size_t i = 0; i < len; i++)
			y[i] = 1.0 - y[i];
	/* the window's range [0, 1], widened: the beat's height scaled by
	 * factor, wander and noise extremes */
	lo = -(1.0 / factor - 1.0) * split - amp;
	hi = 1.0 + (1.0 / factor - 1.0) * (1.0 - split) + amp;
	if (sd > 0)
	{
		lo -= NOISE_EXTREME_SD * sd;
		hi += NOISE_EXTREME_SD * sd;
	}
	for (size_t i = 0; i < len; i++)
	{
		if (amp > 0)
			y[i] += amp * sin(2.0 * AUGMENT_PI * freq * (double) i / AUGMENT_RATE_HZ + phase);
		if (sd > 0)
			y[i] += sd * rng_normal(&r);
		if (y[i] < lo)
			lo = y[i];
		if (y[i] > hi)
			hi = y[i];
	}
	for (size_t i = 0; i < len; i++)
		row[i] = (float) ((y[i] - lo) / (hi - lo));
}

void
nn_augment_batch(const nn_augment_config *c, uint64_t seed, uint64_t epoch, uint64_t first_position,
				 float *rows, size_t n, size_t length)
{
	for (size_t r = 0; r < n; r++)
		nn_augment_row(c, seed, epoch, first_position + r, rows + r * length, length);
}
