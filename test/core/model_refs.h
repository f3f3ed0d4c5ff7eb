/*
 * model_refs.h - the PyTorch reference files of the model tests
 * (test/ref/model_refs.bin, explain_refs.bin: records of float32 arrays by
 * name, format in test/ref/gen_model_refs.py), the parameter generator both
 * sides share, and tolerant comparisons.  Define MODEL_REFS_FILE (the file
 * name under $ECGDL_TEST_REFS, default test/ref) before including it; one
 * file per test program.
 */
#ifndef ECG_TEST_MODEL_REFS_H
#define ECG_TEST_MODEL_REFS_H

#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "nn_model.h"

#ifndef MODEL_REFS_FILE
#error "define MODEL_REFS_FILE before including model_refs.h"
#endif

typedef struct ref_record
{
	char		name[96];
	uint32_t	stride;
	uint32_t	count;
	float	   *values;
} ref_record;

static ref_record refs[512];
static int	n_refs = -1;		/* -1: not loaded yet; 0: missing */

static inline uint32_t
read_u32(FILE *f, int *ok)
{
	uint8_t		b[4];

	if (fread(b, 1, 4, f) != 4)
	{
		*ok = 0;
		return 0;
	}
	return (uint32_t) b[0] | ((uint32_t) b[1] << 8) | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
}

static inline void
load_refs(void)
{
	const char *dir = getenv("ECGDL_TEST_REFS");
	char		path[512];
	char		magic[8];
	FILE	   *f;
	int			ok = 1;

	if (n_refs >= 0)
		return;
	n_refs = 0;
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "test/ref", MODEL_REFS_FILE);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		fprintf(stderr, "  cannot open %s (run from the repository root or set ECGDL_TEST_REFS)\n", path);
		return;
	}
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "ECGMREF1", 8) != 0)
	{
		fprintf(stderr, "  %s: bad magic\n", path);
		fclose(f);
		return;
	}
	while (n_refs < (int) (sizeof(refs) / sizeof(refs[0])))
	{
		ref_record *r = &refs[n_refs];
		uint32_t	len = read_u32(f, &ok);

		if (!ok)
			break;				/* end of file */
		if (len >= sizeof(r->name) || fread(r->name, 1, len, f) != len)
			break;
		r->name[len] = '\0';
		r->stride = read_u32(f, &ok);
		r->count = read_u32(f, &ok);
		if (!ok || r->count > (1u << 24))
			break;
		r->values = malloc((size_t) r->count * sizeof(float) + 1);
		for (uint32_t i = 0; i < r->count && ok; i++)
		{
			uint32_t	bits = read_u32(f, &ok);

			memcpy(&r->values[i], &bits, sizeof(float));
		}
		if (!ok)
			break;
		n_refs++;
	}
	fclose(f);
}

static inline const ref_record *
find_ref(const char *name)
{
	load_refs();
	for (int i = 0; i < n_refs; i++)
		if (strcmp(refs[i].name, name) == 0)
			return &refs[i];
	return NULL;
}

/* The parameter generator shared with gen_model_refs.py (param_value). */
static inline double
unit_value(uint64_t tensor_index, uint64_t element)
{
	uint64_t	z = ((tensor_index << 32) | element) + UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	return ((double) ((z >> 11) % 2049) - 1024.0) / 1024.0;
}

static inline void
set_reference_params(nn_model *m)
{
	for (int i = 0; i < m->n_tensors; i++)
	{
		nn_tensor  *t = &m->tensors[i];
		const char *kind = strchr(t->name, '.') + 1;
		double		offset = 0,
					scale;

		if (strcmp(kind, "kernel") == 0)
		{
			double		fan_in = (double) (t->count / (size_t) t->dims[t->rank - 1]);
			double		target = 2.0 / sqrt(fan_in);

			scale = 1.0;
			while (scale > target)
				scale /= 2;
		}
		else if (strcmp(kind, "bias") == 0)
			scale = 1.0 / 16;
		else if (strcmp(kind, "gamma") == 0)
			offset = 1.0, scale = 1.0 / 4;
		else if (strcmp(kind, "beta") == 0 || strcmp(kind, "moving_mean") == 0)
			scale = 1.0 / 8;
		else
			offset = 1.0, scale = 1.0 / 2;
		for (size_t k = 0; k < t->count; k++)
			t->data[k] = (float) (offset + scale * unit_value((uint64_t) i, k));
	}
}

/* A model of a built-in architecture with every dropout rate set to 0. */
static inline nn_model *
model_without_dropout(const char *name)
{
	nn_arch		arch;
	ecg_status	st;

	if (nn_arch_builtin(name, &arch, &st) != 0)
		return NULL;
	for (int i = 0; i < arch.n_nodes; i++)
		if (arch.nodes[i].op == NN_OP_DROPOUT)
			arch.nodes[i].rate = 0;
	return nn_model_create_from_arch(&arch, &st);
}

/*
 * |a - b| <= tol * max(|b|, floor): relative, with a floor tied to the size of
 * the whole compared array (values near 0 in a tensor of large values are
 * compared at the tensor's scale).
 */
static inline int
close_rel(double a, double b, double tol, double floor)
{
	double		scale = fabs(b) > floor ? fabs(b) : floor;

	return fabs(a - b) <= tol * scale;
}

static inline double
max_abs(const float *v, size_t n, size_t stride)
{
	double		m = 0;

	for (size_t i = 0; i < n; i += stride)
		if (fabs(v[i]) > m)
			m = fabs(v[i]);
	return m;
}

/* Compares values[k * stride] with the reference record, counting mismatches. */
static inline int
compare_array(const char *what, const float *values, const ref_record *r, double tol)
{
	double		floor = 1e-2 * max_abs(r->values, r->count, 1) + 1e-7;
	int			bad = 0;

	for (uint32_t k = 0; k < r->count; k++)
	{
		double		a = values[(size_t) k * r->stride];

		if (!close_rel(a, r->values[k], tol, floor))
		{
			if (bad < 5)
				fprintf(stderr, "  %s[%zu] = %.9g, reference %.9g\n", what,
						(size_t) k * r->stride, a, (double) r->values[k]);
			bad++;
		}
	}
	return bad;
}

#endif
