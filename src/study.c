/*
 * study.c - ecgdl.study_check() and ecgdl.cross_validate_check(): the checks
 * of ecg_study's and ecg_cross_validate's arguments that need the C side,
 * made before the first step or fold.
 *
 * ecg_study (PL/pgSQL, in the extension script) checks its names and tables
 * itself; what only ecg_train knows - the architectures, the ranges of the
 * training arguments, the class weights, and whether each model name may be
 * (re)used by the caller - is checked here, with ecg_train's own code, so
 * that a bad argument fails at once instead of after hours of work.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "ecgdl.h"

PG_FUNCTION_INFO_V1(ecg_study_check);
PG_FUNCTION_INFO_V1(ecg_cross_validate_check);

/* The elements of a text[] argument as C strings; NULL elements refused. */
static char **
text_elements(ArrayType *array, const char *what, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", what)));
		out[i] = TextDatumGetCString(elems[i]);
	}
	return out;
}

/*
 * ecgdl.study_check(archs text[], epochs int, batch_size int, patience int,
 * seed int, class_weight text, models text[], replace boolean): errors as
 * ecg_train would on the first bad architecture or argument, and on the
 * first model name that exists (without replace) or belongs to a role the
 * caller is not a member of.  The learning rate and validation fraction are
 * those ecg_study trains with.
 */
Datum
ecg_study_check(PG_FUNCTION_ARGS)
{
	int			n_archs,
				n_models;
	char	  **archs = text_elements(PG_GETARG_ARRAYTYPE_P(0), "archs", &n_archs);
	char	   *class_weight = text_to_cstring(PG_GETARG_TEXT_PP(5));
	char	  **models = text_elements(PG_GETARG_ARRAYTYPE_P(6), "model names", &n_models);
	bool		replace = PG_GETARG_BOOL(7);

	if (n_archs == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archs must name at least one architecture")));
	for (int i = 0; i < n_archs; i++)
		train_check_arguments(archs[i], PG_GETARG_INT32(1), PG_GETARG_INT32(2), 1e-3,
							  PG_GETARG_INT32(3), PG_GETARG_INT32(4), class_weight, 0.3);
	for (int i = 0; i < n_models; i++)
		model_store_check_name(models[i], replace);
	PG_RETURN_VOID();
}

/*
 * ecgdl.cross_validate_check(ecg_train's fifteen arguments): errors as
 * ecg_train would on them, with the cross-validation's source standing in
 * for every fold's training and validation table (they are copies of its
 * rows, with its columns).  ecg_cross_validate calls it before its first
 * fold, so that a bad operating point, augmentation or feature list, or a
 * source without the R-R columns a model needs, fails before any training.
 */
Datum
ecg_cross_validate_check(PG_FUNCTION_ARGS)
{
	train_check_call(fcinfo, "source table", "source table");
	PG_RETURN_VOID();
}
