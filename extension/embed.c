/*
 * embed.c -- llm.embed(input, model, normalize) RETURNS real[]: one sentence
 * embedding from the engine's embeddings API (pllm_embed_texts). IMMUTABLE and
 * PARALLEL SAFE so it can feed generated columns and indexes; with pgvector,
 * llm.embed(x)::vector works through pgvector's real[] cast.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "pg_llm/embed.h"

#include "pg_llm_ext.h"

PG_FUNCTION_INFO_V1(pg_llm_embed);
Datum
pg_llm_embed(PG_FUNCTION_ARGS)
{
	text       *input;
	PllmBackendModel *bm;
	bool        normalize = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
	pllm_embed_opts opts = pllm_embed_opts_default();
	const char *data;
	size_t      len;
	uint32      dim;
	float      *vec;
	Datum      *elems;
	bool        truncated = false;
	pllm_error  err;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	input = PG_GETARG_TEXT_PP(0);
	bm = PllmGetModel(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	dim = pllm_embed_dim(bm->model);
	if (dim == 0)
		elog(ERROR, "model \"%s\" reports an embedding size of 0", bm->name);

	opts.normalize = normalize;
	opts.n_threads = pllm_threads;
	opts.should_abort = PllmShouldAbort;
	opts.abort_arg = NULL;
	data = PllmTextToUtf8(input, &len);
	vec = palloc(sizeof(float) * dim);	/* before the engine runs: no ERROR inside it */
	pllm_error_clear(&err);
	if (pllm_embed_texts(bm->model, &data, &len, 1, &opts, vec, &truncated, &err) != PLLM_OK)
		PllmReportError(&err, psprintf("could not embed text with model \"%s\"", bm->name));
	PllmCountUsage(bm, 0);

	elems = palloc(sizeof(Datum) * dim);
	for (uint32 i = 0; i < dim; i++)
		elems[i] = Float4GetDatum(vec[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, (int) dim, FLOAT4OID, sizeof(float4),
										  true, TYPALIGN_INT));
}
