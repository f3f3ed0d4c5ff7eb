/*
 * Unit tests for the training augmentation (src/core/nn_augment.c) and its use
 * in the training loop: parsing and its errors, the canonical text, that each
 * transformation does what nn_augment.h says (inversion is exactly 1 - v,
 * amplitude an affine squeeze, shift a clamped shift, wander smooth, noise
 * white), rows stay in [0, 1] with their padding zero, the randomness depends
 * only on (seed, epoch, position), and training: off is the training of
 * before bit for bit, on is deterministic and differs.
 */
#include <string.h>

#include "unit.h"
#include "nn_augment.h"
#include "nn_train.h"
#include "rng.h"

#define LEN 187
#define ACTIVE 150				/* the beat's own samples; the rest is padding */

/* A beat-like row: a narrow spike (R) and a wide bump (T) on a baseline, in
 * [0, 1] with both ends reached, zero after ACTIVE samples. */
static void
make_beat(float *row)
{
	for (int i = 0; i < LEN; i++)
	{
		double		r = exp(-(i - 10) * (i - 10) / 8.0),
					t = 0.3 * exp(-(i - 80) * (i - 80) / 200.0);

		row[i] = i < ACTIVE ? (float) (0.2 + 0.8 * r + t - 0.2 * exp(-(i - 16) * (i - 16) / 4.0)) : 0.0f;
	}
	/* exactly 0 and 1 somewhere inside */
	row[16] = 0.0f;
	row[10] = 1.0f;
}

/* row = v transformed with the randomness of (seed, epoch, position) */
static void
augment_copy(const nn_augment_config *c, uint64_t seed, uint64_t epoch, uint64_t position,
			 const float *v, float *row)
{
	memcpy(row, v, LEN * sizeof(float));
	nn_augment_row(c, seed, epoch, position, row, LEN);
}

static void
check_row_shape(const float *row)
{
	for (int i = 0; i < LEN; i++)
	{
		CHECK_MSG(row[i] >= 0.0f && row[i] <= 1.0f, "sample %d = %g", i, (double) row[i]);
		if (i >= ACTIVE)
			CHECK_MSG(row[i] == 0.0f, "padding sample %d = %g", i, (double) row[i]);
	}
}

static void
test_parse(void)
{
	nn_augment_config c;
	ecg_status	st;
	char		text[200];
	nn_augment_config back;

	CHECK(nn_augment_parse("none", &c, &st) == 0 && !nn_augment_enabled(&c));
	CHECK(nn_augment_parse("lead", &c, &st) == 0 && nn_augment_enabled(&c));
	CHECK(c.polarity == NN_AUGMENT_LEAD_POLARITY && c.amplitude == NN_AUGMENT_LEAD_AMPLITUDE &&
		  c.wander == NN_AUGMENT_LEAD_WANDER && c.noise == NN_AUGMENT_LEAD_NOISE &&
		  c.shift == NN_AUGMENT_LEAD_SHIFT);
	CHECK(nn_augment_parse(" LEAD , Noise = 0.05,shift=0 ", &c, &st) == 0);
	CHECK(c.noise == 0.05 && c.shift == 0 && c.polarity == NN_AUGMENT_LEAD_POLARITY);
	CHECK(nn_augment_parse("polarity=1", &c, &st) == 0);
	CHECK(c.polarity == 1 && c.amplitude == 0 && c.wander == 0 && c.noise == 0 && c.shift == 0);
	CHECK(nn_augment_parse("lead, none", &c, &st) == 0 && !nn_augment_enabled(&c));

	/* the canonical text parses back to the same values */
	CHECK(nn_augment_parse("lead, wander=0.123456789", &c, &st) == 0);
	nn_augment_format(&c, text, sizeof(text));
	CHECK_MSG(nn_augment_parse(text, &back, &st) == 0, "%s", text);
	CHECK(memcmp(&c, &back, sizeof(c)) == 0);
	memset(&c, 0, sizeof(c));
	nn_augment_format(&c, text, sizeof(text));
	CHECK(strcmp(text, "none") == 0);

	/* errors */
	{
		static const char *const bad[] = {
			"", " ", "lead,", ",lead", "lead,,noise=0.1", "foo", "noise", "noise=", "noise=abc",
			"noise=0.1x", "=0.1", "color=1", "noise=0.6", "noise=-0.01", "polarity=1.5",
			"polarity=-1", "amplitude=0.95", "wander=2.5", "wander=nan", "wander=inf", "shift=2.5",
			"shift=21", "shift=-1", "noise=1e400"
		};

		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		{
			st.kind = ECG_OK;
			CHECK_MSG(nn_augment_parse(bad[k], &c, &st) != 0 && st.kind == ECG_ERR_ARGUMENT,
					  "'%s' accepted", bad[k]);
		}
	}
	CHECK(nn_augment_parse(NULL, &c, &st) != 0);
	CHECK(nn_augment_parse("colour=1", &c, &st) != 0 && strstr(st.message, "colour") != NULL);
	CHECK(nn_augment_parse("noise=0.9", &c, &st) != 0 && strstr(st.message, "noise") != NULL);
}

static void
test_polarity_is_exact_inversion(void)
{
	nn_augment_config c = {0};
	float		v[LEN],
				row[LEN];

	c.polarity = 1;
	make_beat(v);
	for (uint64_t pos = 0; pos < 20; pos++)
	{
		augment_copy(&c, 7, 1, pos, v, row);
		for (int i = 0; i < ACTIVE; i++)
			CHECK_CLOSE(row[i], 1.0 - v[i], 1e-7);
		check_row_shape(row);
	}
	/* polarity 0: nothing at all changes */
	c.polarity = 0;
	c.wander = 0;
	augment_copy(&c, 7, 1, 3, v, row);
	CHECK(memcmp(row, v, sizeof(row)) == 0);
}

static void
test_polarity_probability(void)
{
	nn_augment_config c = {0};
	float		v[LEN],
				row[LEN];
	int			inverted = 0;

	c.polarity = 0.3;
	make_beat(v);
	for (uint64_t pos = 0; pos < 2000; pos++)
	{
		augment_copy(&c, 11, 2, pos, v, row);
		if (memcmp(row, v, sizeof(row)) != 0)
		{
			inverted++;
			CHECK_CLOSE(row[10], 0.0, 1e-7);
		}
	}
	CHECK_MSG(inverted > 520 && inverted < 680, "%d of 2000 inverted at p = 0.3", inverted);
}

static void
test_amplitude_is_affine_squeeze(void)
{
	nn_augment_config c = {0};
	float		v[LEN],
				row[LEN];
	double		smallest = 1;

	c.amplitude = 0.4;
	make_beat(v);
	for (uint64_t pos = 0; pos < 300; pos++)
	{
		double		height,
					offset;

		augment_copy(&c, 3, 1, pos, v, row);
		check_row_shape(row);
		/* v spans [0, 1] (samples 16 and 10): the row is offset + height * v */
		height = (double) row[10] - row[16];
		offset = row[16];
		CHECK_MSG(height >= 0.6 - 1e-6 && height <= 1 + 1e-6, "height %g", height);
		for (int i = 0; i < ACTIVE; i++)
			CHECK_CLOSE(row[i], offset + height * v[i], 1e-6);
		if (height < smallest)
			smallest = height;
	}
	CHECK_MSG(smallest < 0.65, "the smallest height %g should come near 1 - 0.4", smallest);
}

static void
test_shift_is_clamped_shift(void)
{
	nn_augment_config c = {0};
	float		v[LEN],
				row[LEN];
	int			seen[7] = {0};

	c.shift = 3;
	make_beat(v);
	for (uint64_t pos = 0; pos < 200; pos++)
	{
		int			found = 0;

		augment_copy(&c, 5, 4, pos, v, row);
		check_row_shape(row);
		for (int s = -3; s <= 3 && !found; s++)
		{
			int			same = 1;

			for (int i = 0; i < ACTIVE && same; i++)
			{
				int			src = i + s < 0 ? 0 : (i + s > ACTIVE - 1 ? ACTIVE - 1 : i + s);

				/* the row is renormalised over the range it keeps */
				same = fabs((double) row[i] - v[src]) < 1e-6;
			}
			if (same)
			{
				found = 1;
				seen[s + 3]++;
			}
		}
		CHECK_MSG(found, "position %llu: no shift in -3..3 explains the row", (unsigned long long) pos);
	}
	for (int s = 0; s < 7; s++)
		CHECK_MSG(seen[s] > 10, "shift %d drawn %d times of 200", s - 3, seen[s]);
}

/* mean absolute first and second differences of row[0..ACTIVE) */
static void
differences(const float *row, double *d1, double *d2)
{
	*d1 = 0;
	*d2 = 0;
	for (int i = 1; i < ACTIVE; i++)
		*d1 += fabs((double) row[i] - row[i - 1]);
	for (int i = 2; i < ACTIVE; i++)
		*d2 += fabs((double) row[i] - 2.0 * row[i - 1] + row[i - 2]);
	*d1 /= ACTIVE - 1;
	*d2 /= ACTIVE - 2;
}

static void
test_wander_is_smooth_and_noise_white(void)
{
	nn_augment_config wander = {0},
				noise = {0};
	float		flat[LEN],
				row[LEN];
	int			wandered = 0,
				noisy = 0;

	for (int i = 0; i < LEN; i++)
		flat[i] = i < ACTIVE ? 0.5f : 0.0f;
	wander.wander = 0.5;
	noise.noise = 0.1;
	for (uint64_t pos = 0; pos < 50; pos++)
	{
		double		d1,
					d2;

		augment_copy(&wander, 9, 1, pos, flat, row);
		check_row_shape(row);
		differences(row, &d1, &d2);
		/* a sinusoid of 0.1-0.5 Hz at 125 Hz: second differences are ~100
		 * times smaller than first ones */
		CHECK_MSG(d2 < 0.05 * d1 + 1e-9, "wander: d1 %g, d2 %g", d1, d2);
		wandered += d1 > 1e-5;

		augment_copy(&noise, 9, 1, pos, flat, row);
		check_row_shape(row);
		differences(row, &d1, &d2);
		/* white noise: E|d2| / E|d1| = sqrt(3) */
		if (d1 > 1e-5)
		{
			noisy++;
			CHECK_MSG(d2 > 1.4 * d1 && d2 < 2.1 * d1, "noise: d1 %g, d2 %g", d1, d2);
		}
	}
	CHECK(wandered >= 45);
	CHECK(noisy >= 45);
}

static void
test_deterministic_and_stateless(void)
{
	nn_augment_config c;
	ecg_status	st;
	float		v[LEN],
				a[LEN],
				b[LEN],
				batch[4 * LEN],
				zero[LEN] = {0};

	CHECK(nn_augment_parse("lead, noise=0.05", &c, &st) == 0);
	make_beat(v);
	memcpy(a, v, sizeof(a));
	memcpy(b, v, sizeof(b));
	nn_augment_row(&c, 42, 3, 17, a, LEN);
	nn_augment_row(&c, 42, 3, 17, b, LEN);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK(memcmp(a, v, sizeof(a)) != 0);
	check_row_shape(a);
	/* another epoch, position or seed: other draws */
	augment_copy(&c, 42, 4, 17, v, b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	augment_copy(&c, 42, 3, 18, v, b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	augment_copy(&c, 43, 3, 17, v, b);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	/* a batch is its rows, each at its position, whatever came before */
	for (int r = 0; r < 4; r++)
		memcpy(batch + r * LEN, v, sizeof(v));
	nn_augment_batch(&c, 42, 3, 15, batch, 4, LEN);
	CHECK(memcmp(batch + 2 * LEN, a, sizeof(a)) == 0);
	/* a row of zeros stays zeros */
	nn_augment_row(&c, 42, 3, 17, zero, LEN);
	for (int i = 0; i < LEN; i++)
		CHECK(zero[i] == 0.0f);
}

/* Training --------------------------------------------------------------------- */

#define N_ROWS 300

static float beats[N_ROWS * NN_BEAT_LENGTH];
static int	labels[N_ROWS];

/* three classes: a spike at 20, 60 or 100 on a baseline, in [0, 1] */
static void
make_data(void)
{
	rng_state	r;

	rng_seed(&r, 4);
	for (int row = 0; row < N_ROWS; row++)
	{
		int			c = row % 3;

		labels[row] = c;
		for (int t = 0; t < NN_BEAT_LENGTH; t++)
		{
			double		d = t - (20 + 40 * c);

			beats[row * NN_BEAT_LENGTH + t] = t < ACTIVE
				? (float) (0.1 + 0.8 * exp(-d * d / 20.0) + 0.05 * rng_uniform(&r))
				: 0.0f;
		}
	}
}

static void
train_with(const nn_augment_config *aug, nn_pool *pool, float *params, size_t *n_params, char **summary)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c;
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	nn_train_config_default(&c);
	c.epochs = 2;
	c.batch_size = 32;
	c.seed = 8;
	if (aug != NULL)
		c.augment = *aug;
	nn_model_init(m, 3);
	CHECK_MSG(nn_train_run(m, &train, NULL, &c, pool, NULL, NULL, &r, &st) == 0, "%s", st.message);
	memcpy(params, m->params, m->n_params * sizeof(float));
	*n_params = m->n_params;
	if (summary != NULL)
		*summary = nn_train_summary(&c, &r);
	nn_train_result_release(&r);
	nn_model_free(m);
}

static void
test_training_off_on(void)
{
	static float plain[40000],
				zeroed[40000],
				on1[40000],
				on2[40000],
				on_pool[40000];
	size_t		n1,
				n2,
				n3,
				n4,
				n5;
	nn_augment_config off = {0},
				lead;
	ecg_status	st;
	nn_pool    *pool = nn_pool_create(2, &st);
	char	   *s_off,
			   *s_on;

	CHECK(nn_augment_parse("lead", &lead, &st) == 0);
	train_with(NULL, NULL, plain, &n1, &s_off);
	CHECK(n1 <= 40000);
	train_with(&off, NULL, zeroed, &n2, NULL);
	train_with(&lead, NULL, on1, &n3, &s_on);
	train_with(&lead, NULL, on2, &n4, NULL);
	train_with(&lead, pool, on_pool, &n5, NULL);
	CHECK(memcmp(plain, zeroed, n1 * sizeof(float)) == 0);
	CHECK(memcmp(on1, on2, n1 * sizeof(float)) == 0);
	CHECK(memcmp(on1, on_pool, n1 * sizeof(float)) == 0);
	CHECK(memcmp(plain, on1, n1 * sizeof(float)) != 0);
	/* the summary names the augmentation only when it is on */
	CHECK(s_off != NULL && strstr(s_off, "augment") == NULL);
	CHECK(s_on != NULL && strstr(s_on, "augment=polarity=0.5") != NULL);
	ecg_free(s_off);
	ecg_free(s_on);
	nn_pool_destroy(pool);
	/* the data set itself is never written */
	{
		float		copy0 = beats[5];

		train_with(&lead, NULL, on1, &n3, NULL);
		CHECK(beats[5] == copy0);
	}
}

static void
test_training_rejects_bad_strengths(void)
{
	ecg_status	st;
	nn_model   *m = nn_model_create("baseline", &st);
	nn_train_config c;
	nn_dataset	train = {beats, labels, N_ROWS, NULL};
	nn_train_result r;

	nn_train_config_default(&c);
	c.epochs = 1;
	c.augment.noise = 0.7;
	nn_model_init(m, 3);
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) != 0);
	CHECK(st.kind == ECG_ERR_ARGUMENT && strstr(st.message, "noise") != NULL);
	c.augment.noise = 0;
	c.augment.shift = 30;
	CHECK(nn_train_run(m, &train, NULL, &c, NULL, NULL, NULL, &r, &st) != 0);
	CHECK(strstr(st.message, "shift") != NULL);
	nn_model_free(m);
}

int
main(void)
{
	make_data();
	RUN_TEST(test_parse);
	RUN_TEST(test_polarity_is_exact_inversion);
	RUN_TEST(test_polarity_probability);
	RUN_TEST(test_amplitude_is_affine_squeeze);
	RUN_TEST(test_shift_is_clamped_shift);
	RUN_TEST(test_wander_is_smooth_and_noise_white);
	RUN_TEST(test_deterministic_and_stateless);
	RUN_TEST(test_training_off_on);
	RUN_TEST(test_training_rejects_bad_strengths);
	UNIT_EXIT();
}
