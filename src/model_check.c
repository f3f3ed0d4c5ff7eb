/*
 * model_check.c - the memory a decoded model may cost a backend, checked when
 * a model is imported and whenever a backend loads one to classify with.
 *
 * The blob decoder already refuses any model whose inference workspace exceeds
 * a fixed bound (MODEL_BLOB_MAX_WORKSPACE); this holds a model to the
 * configured ecgdl.max_memory as well, before any workspace is allocated.
 */
#include "postgres.h"

#include "ecgdl.h"
#include "nn_model.h"

void
ecgdl_check_model_memory(const nn_model *model, const char *name)
{
	ecg_status	st;

	if (nn_model_check_inference_memory(model, &st) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("model \"%s\" needs more memory than ecgdl.max_memory allows", name),
			 errdetail("%s", st.detail[0] ? st.detail : st.message),
			 errhint("A superuser can raise ecgdl.max_memory, for one role with ALTER ROLE ... SET ecgdl.max_memory.")));
}
