/*
 * batch.c -- many inputs per call: llm.generate_batch (pllm_batch_generate:
 * the sequences decode together, each weight read once per step for all of
 * them), llm.embed_batch (pllm_embed_texts over chunks of the array) and
 * llm.prefix_cache_stats() (this session's prompt-prefix caches). llm.enrich,
 * the resumable table job built on them, is PL/pgSQL in pg_llm.sql.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "pg_llm/batch.h"
#include "pg_llm/embed.h"

#include "pg_llm_ext.h"

/* Inputs embedded per engine call: bounds the work memory of a large array. */
#define EMBED_CHUNK 64

/* The elements of a one-dimensional text[] (22023 for more dimensions). */
static void
TextArrayElements(ArrayType *arr, const char *argname, Datum **elems, bool **nulls, int *n)
{
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("%s must be a one-dimensional array", argname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, n);
}

/* An array of n elements with the bounds of `like` (n = 0: an empty array). */
static ArrayType *
ArrayLike(ArrayType *like, Datum *values, bool *nulls, int n, Oid type, int typlen,
		  bool byval, char align)
{
	int         dims[1];
	int         lbs[1];

	if (n == 0)
		return construct_empty_array(type);
	dims[0] = n;
	lbs[0] = ARR_LBOUND(like)[0];
	return construct_md_array(values, nulls, 1, dims, lbs, type, typlen, byval, align);
}

/* ---- llm.generate_batch --------------------------------------------------- */

/* Free the engine's results (malloc'd) of a batch. */
static void
FreeResults(pllm_gen_result *results, int n)
{
	for (int i = 0; i < n; i++)
		pllm_gen_result_free(&results[i]);
}

PG_FUNCTION_INFO_V1(pg_llm_generate_batch);
Datum
pg_llm_generate_batch(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	PllmGenArgs a;
	PllmBackendModel *bm;
	Datum      *elems;
	bool       *nulls;
	int         n;
	int         m = 0;			/* non-NULL prompts */
	const char **prompts;
	size_t     *lens;
	int        *which;			/* element index of prompt j */
	uint64     *seeds = NULL;
	pllm_gen_result *results;
	pllm_batch_opts opts = pllm_batch_opts_default();
	pllm_batch_stats stats;
	pllm_error  err;
	pllm_status st;
	Datum      *out;
	bool       *out_nulls;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	/* options and the model are checked even for an empty array */
	PllmParseGenArgs(fcinfo, &a);
	bm = PllmGetModel(a.model, false);
	TextArrayElements(arr, "prompts", &elems, &nulls, &n);

	prompts = palloc(sizeof(char *) * Max(n, 1));
	lens = palloc(sizeof(size_t) * Max(n, 1));
	which = palloc(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		prompts[m] = PllmTextToUtf8(DatumGetTextPP(elems[i]), &lens[m]);
		which[m] = i;
		m++;
	}
	out = palloc(sizeof(Datum) * Max(n, 1));
	out_nulls = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		out[i] = (Datum) 0;
		out_nulls[i] = true;
	}
	if (m == 0)
		PG_RETURN_ARRAYTYPE_P(ArrayLike(arr, out, out_nulls, n, TEXTOID, -1, false, TYPALIGN_INT));

	/* as m separate llm.generate calls: one random seed each unless a seed is given */
	if (!a.seeded)
	{
		seeds = palloc(sizeof(uint64) * m);
		for (int j = 0; j < m; j++)
			seeds[j] = pg_prng_uint64(&pg_global_prng_state);
	}
	results = palloc0(sizeof(pllm_gen_result) * m);	/* before the engine runs */
	opts.n_ctx = PllmRequestedContext(bm);
	opts.n_threads = pllm_threads;
	opts.should_abort = PllmShouldAbort;
	opts.abort_arg = NULL;
	opts.prefix_cache = PllmPrefixCache(bm);
	memset(&stats, 0, sizeof(stats));
	pllm_error_clear(&err);
	st = pllm_batch_generate(bm->model, prompts, lens, m, &a.params, seeds, &opts, results,
							 &stats, &err);
	PllmCountUsage(bm, (uint64) Max(stats.n_prompt_tokens + stats.n_reused_tokens, 0) +
				   (uint64) Max(stats.n_gen_tokens, 0));
	if (st != PLLM_OK)
	{
		FreeResults(results, m);
		PllmReportError(&err, psprintf("could not generate text with model \"%s\"", bm->name));
	}

	PG_TRY();
	{
		for (int j = 0; j < m; j++)
		{
			pllm_gen_result *r = &results[j];

			out[which[j]] = PointerGetDatum(PllmUtf8ToText(r->text ? r->text : "", r->text_len));
			out_nulls[which[j]] = false;
		}
	}
	PG_FINALLY();
	{
		FreeResults(results, m);
	}
	PG_END_TRY();
	PG_RETURN_ARRAYTYPE_P(ArrayLike(arr, out, out_nulls, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* ---- llm.embed_batch ------------------------------------------------------ */

/* One row (ord, embedding) of embed_batch; vec NULL for a NULL input. */
static void
PutEmbedding(ReturnSetInfo *rsinfo, int ord, const float *vec, uint32 dim)
{
	Datum       values[2];
	bool        isnull[2] = {false, vec == NULL};

	values[0] = Int32GetDatum(ord);
	values[1] = (Datum) 0;
	if (vec)
	{
		Datum      *elems = palloc(sizeof(Datum) * dim);

		for (uint32 i = 0; i < dim; i++)
			elems[i] = Float4GetDatum(vec[i]);
		values[1] = PointerGetDatum(construct_array(elems, (int) dim, FLOAT4OID, sizeof(float4),
													true, TYPALIGN_INT));
		pfree(elems);
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
}

PG_FUNCTION_INFO_V1(pg_llm_embed_batch);
Datum
pg_llm_embed_batch(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PllmBackendModel *bm;
	pllm_embed_opts opts = pllm_embed_opts_default();
	Datum      *elems;
	bool       *nulls;
	int         n;
	uint32      dim;
	const char *texts[EMBED_CHUNK];
	size_t      lens[EMBED_CHUNK];
	float      *vecs;
	pllm_error  err;
	int         i = 0;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	bm = PllmGetModel(PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	TextArrayElements(PG_GETARG_ARRAYTYPE_P(0), "inputs", &elems, &nulls, &n);
	dim = pllm_embed_dim(bm->model);
	if (dim == 0)
		elog(ERROR, "model \"%s\" reports an embedding size of 0", bm->name);

	opts.normalize = PG_ARGISNULL(2) ? true : PG_GETARG_BOOL(2);
	opts.n_threads = pllm_threads;
	opts.should_abort = PllmShouldAbort;
	opts.abort_arg = NULL;
	vecs = palloc(sizeof(float) * dim * EMBED_CHUNK);	/* before the engine runs */

	/* elements [i, end) hold at most EMBED_CHUNK non-NULL inputs, embedded in one call */
	while (i < n)
	{
		int         end = i;
		int         k = 0;

		CHECK_FOR_INTERRUPTS();
		while (end < n && (nulls[end] || k < EMBED_CHUNK))
		{
			if (!nulls[end])
			{
				texts[k] = PllmTextToUtf8(DatumGetTextPP(elems[end]), &lens[k]);
				k++;
			}
			end++;
		}
		pllm_error_clear(&err);
		if (k > 0 &&
			pllm_embed_texts(bm->model, texts, lens, k, &opts, vecs, NULL, &err) != PLLM_OK)
			PllmReportError(&err, psprintf("could not embed text with model \"%s\"", bm->name));
		k = 0;
		for (; i < end; i++)
			PutEmbedding(rsinfo, i + 1, nulls[i] ? NULL : vecs + (size_t) dim * k++, dim);
	}
	PllmCountUsage(bm, 0);
	return (Datum) 0;
}

/* ---- llm.prefix_cache_stats() --------------------------------------------- */

#define CACHE_COLS 10

PG_FUNCTION_INFO_V1(pg_llm_prefix_cache_stats);
Datum
pg_llm_prefix_cache_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	PllmBackendModel *bm;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; (bm = PllmBackendModelAt(i)) != NULL; i++)
	{
		pllm_prefix_cache_stats s;
		Datum       values[CACHE_COLS];
		bool        isnull[CACHE_COLS];

		if (!bm->used || bm->prefix_cache == NULL)
			continue;
		pllm_prefix_cache_get_stats(bm->prefix_cache, &s);
		memset(isnull, 0, sizeof(isnull));
		values[0] = CStringGetTextDatum(bm->name);
		values[1] = Int64GetDatum((int64) s.max_bytes);
		values[2] = Int64GetDatum((int64) s.bytes);
		values[3] = Int64GetDatum((int64) s.n_tokens);
		values[4] = Int64GetDatum((int64) s.n_nodes);
		values[5] = Int64GetDatum((int64) s.lookups);
		values[6] = Int64GetDatum((int64) s.hits);
		values[7] = Int64GetDatum((int64) s.tokens_reused);
		values[8] = Int64GetDatum((int64) s.tokens_stored);
		values[9] = Int64GetDatum((int64) s.evictions);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	return (Datum) 0;
}
