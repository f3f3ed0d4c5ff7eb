/*
 * Unit tests reproducing the defects the fuzz targets (test/fuzz) found, so
 * that they stay fixed:
 *
 *  - heartbeat_csv: a field longer than 127 characters that needed the strtof
 *    fallback was cut to 127 characters first, losing its last digits and
 *    its exponent (fuzz_heartbeat_csv's comparison with strtof);
 *  - nn_model_predict: a blob with finite but huge weights decoded fine and
 *    then produced NaN probabilities (fuzz_model_blob).
 */
#include <math.h>
#include <string.h>

#include "unit.h"
#include "heartbeat_csv.h"
#include "model_blob.h"

/* A CSV line whose 187 samples are all `field`, label 1. */
static char *
line_of(const char *field, size_t *len)
{
	size_t		n = strlen(field);
	char	   *line = malloc((n + 1) * HEARTBEAT_CSV_SAMPLES + 2);

	for (int i = 0; i < HEARTBEAT_CSV_SAMPLES; i++)
	{
		memcpy(line + (size_t) i * (n + 1), field, n);
		line[(size_t) i * (n + 1) + n] = ',';
	}
	*len = (n + 1) * HEARTBEAT_CSV_SAMPLES + 1;
	line[*len - 1] = '1';
	line[*len] = '\0';
	return line;
}

/* "<prefix><zeros x count><suffix>" in a malloc'ed string */
static char *
padded(const char *prefix, int zeros, const char *suffix)
{
	char	   *s = malloc(strlen(prefix) + (size_t) zeros + strlen(suffix) + 1);
	size_t		p = strlen(prefix);

	memcpy(s, prefix, p);
	memset(s + p, '0', (size_t) zeros);
	strcpy(s + p + (size_t) zeros, suffix);
	return s;
}

static void
test_csv_long_field_keeps_its_exponent(void)
{
	/* 0.(130 zeros)1e+100 = 1e-31: the exponent lies past character 127 */
	char	   *field = padded("0.", 130, "1e+100");
	size_t		len;
	char	   *line = line_of(field, &len);
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label = -1;
	ecg_status	st;
	float		expected = strtof(field, NULL);
	int			rc = heartbeat_csv_parse_line(line, len, samples, &label, &st);

	CHECK(strlen(field) > 128);
	CHECK(expected > 9e-32f && expected < 1.1e-31f);
	CHECK_MSG(rc == 0, "%s", st.message);
	if (rc == 0)
	{
		CHECK(label == 1);
		CHECK(memcmp(&samples[0], &expected, sizeof(float)) == 0);
		CHECK(memcmp(&samples[HEARTBEAT_CSV_SAMPLES - 1], &expected, sizeof(float)) == 0);
	}
	free(line);
	free(field);
}

static void
test_csv_long_field_overflowing_is_refused(void)
{
	/* the fuzzer's input: 3.402845331(many zeros)1704666e+38 is above
	 * FLT_MAX, so strtof gives infinity; cut short it read as 3.4028e0 */
	char	   *field = padded("3.402845331", 110, "1704666e+38");
	size_t		len;
	char	   *line = line_of(field, &len);
	float		samples[HEARTBEAT_CSV_SAMPLES];
	int			label = -1;
	ecg_status	st;
	int			rc;

	CHECK(strlen(field) > 128);
	CHECK(isinf(strtof(field, NULL)));
	rc = heartbeat_csv_parse_line(line, len, samples, &label, &st);
	CHECK(rc == -1);
	CHECK(st.kind == ECG_ERR_FORMAT);
	CHECK_MSG(strstr(st.message, "field 1 is NaN or infinite") != NULL, "%s", st.message);
	free(line);
	free(field);
}

/* input [200 x 1] -> flatten -> dense 5, every weight `w` */
static nn_model *
dense_model(float w)
{
	nn_arch		a;
	ecg_status	st;
	nn_model   *m;

	memset(&a, 0, sizeof(a));
	strcpy(a.name, "huge");
	a.nodes[0] = (nn_node) {NN_OP_INPUT, {-1, -1}, 1, 200, 0};
	a.nodes[1] = (nn_node) {NN_OP_FLATTEN, {0, -1}, 0, 0, 0};
	a.nodes[2] = (nn_node) {NN_OP_DENSE, {1, -1}, 5, 0, 0};
	a.n_nodes = 3;
	m = nn_model_create_from_arch(&a, &st);
	if (m != NULL)
		for (size_t i = 0; i < m->n_params; i++)
			m->params[i] = w;
	return m;
}

static void
test_predict_refuses_overflowing_model(void)
{
	nn_model   *m = dense_model(1e38f);
	nn_model   *decoded = NULL;
	uint8_t    *blob = NULL;
	size_t		blob_len = 0;
	ecg_status	st;
	float		beats[2 * 2] = {0.5f, 0.25f, 3.0f, 3.0f};	/* beat 1 overflows */
	float		probs[2 * 5];

	CHECK(m != NULL);
	if (m == NULL)
		return;
	/* finite weights: the blob format accepts them */
	CHECK(model_blob_encode(m, NULL, &blob, &blob_len, &st) == 0);
	if (blob != NULL)
		decoded = model_blob_decode(blob, blob_len, NULL, &st);
	CHECK(decoded != NULL);
	if (decoded != NULL)
	{
		/* beats of 2 samples, zero-padded to 200; beat 0 alone: 0.75 * 1e38 +
		 * 1e38 is finite, equal logits */
		CHECK(nn_model_predict(decoded, NULL, beats, 2, 1, probs, NULL, &st) == 0);
		for (int c = 0; c < 5; c++)
			CHECK_CLOSE(probs[c], 0.2, 1e-6);
		/* beat 1: 6 * 1e38 overflows to infinity, softmax gives NaN */
		CHECK(nn_model_predict(decoded, NULL, beats, 2, 2, probs, NULL, &st) == -1);
		CHECK(st.kind == ECG_ERR_DATA);
		CHECK_MSG(strstr(st.message, "non-finite") != NULL, "%s", st.message);
		CHECK_MSG(strstr(st.detail, "beat 1") != NULL, "%s", st.detail);
	}
	nn_model_free(decoded);
	ecg_free(blob);
	nn_model_free(m);
}

int
main(void)
{
	RUN_TEST(test_csv_long_field_keeps_its_exponent);
	RUN_TEST(test_csv_long_field_overflowing_is_refused);
	RUN_TEST(test_predict_refuses_overflowing_model);
	UNIT_EXIT();
}
