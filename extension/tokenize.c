/*
 * tokenize.c -- llm.tokenize, llm.detokenize and llm.token_count with the
 * model's own tokenizer (special tokens such as BOS added as the model asks;
 * text that looks like a special token stays text).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_llm_ext.h"

#include "pg_llm/tokenizer.h"

/* The model's tokenizer; ERROR when the model was opened without one. */
static pllm_tokenizer *
ModelTokenizer(PllmBackendModel *bm)
{
	pllm_tokenizer *tok = pllm_model_tokenizer(bm->model);

	if (tok == NULL)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("model \"%s\" has no tokenizer", bm->name)));
	return tok;
}

/* Token ids of input (palloc'd); *n receives the count. */
static int32 *
Encode(PllmBackendModel *bm, text *input, int *n)
{
	pllm_tokenizer *tok = ModelTokenizer(bm);
	size_t      len;
	char	   *data = PllmTextToUtf8(input, &len);
	size_t      cap = Min(pllm_tok_max_tokens(len), len / 2 + 64);	/* typical text: ~len/4 */
	int32	   *ids;
	size_t      count = 0;
	pllm_status st;
	pllm_error  err;

	for (;;)
	{
		if (cap > MaxAllocSize / sizeof(int32))
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							errmsg("text too long to tokenize"),
							errdetail("The text has %zu tokens or more.", cap)));
		ids = palloc(sizeof(int32) * cap);	/* before the engine runs */
		pllm_error_clear(&err);
		st = pllm_tok_encode(tok, data, len, true, false, ids, cap, &count, &err);
		if (st != PLLM_ERR_LIMIT || count <= cap)
			break;
		pfree(ids);
		cap = count;			/* the engine said how many are needed */
	}
	if (st != PLLM_OK)
		PllmReportError(&err, psprintf("could not tokenize text with model \"%s\"", bm->name));
	*n = (int) count;
	PllmCountUsage(bm, (uint64) count);
	return ids;
}

static PllmBackendModel *
ModelArg(FunctionCallInfo fcinfo, int i)
{
	return PllmGetModel(PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i)), false);
}

PG_FUNCTION_INFO_V1(pg_llm_tokenize);
Datum
pg_llm_tokenize(PG_FUNCTION_ARGS)
{
	int         n = 0;
	int32	   *ids;
	Datum	   *elems;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	ids = Encode(ModelArg(fcinfo, 1), PG_GETARG_TEXT_PP(0), &n);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		elems[i] = Int32GetDatum(ids[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(pg_llm_token_count);
Datum
pg_llm_token_count(PG_FUNCTION_ARGS)
{
	int         n = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	(void) Encode(ModelArg(fcinfo, 1), PG_GETARG_TEXT_PP(0), &n);
	PG_RETURN_INT32(n);
}

#define DETOKENIZE_FLAGS PLLM_TOK_DECODE_SPECIAL

PG_FUNCTION_INFO_V1(pg_llm_detokenize);
Datum
pg_llm_detokenize(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	PllmBackendModel *bm;
	pllm_tokenizer *tok;
	Datum	   *elems;
	bool	   *nulls;
	int         n;
	int32	   *ids;
	uint32      n_vocab;
	size_t      out_len = 0;
	pllm_status st;
	pllm_error  err;
	char	   *buf;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	bm = ModelArg(fcinfo, 1);
	tok = ModelTokenizer(bm);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("tokens must be a one-dimensional array")));
	deconstruct_array(arr, INT4OID, sizeof(int32), true, TYPALIGN_INT, &elems, &nulls, &n);
	n_vocab = pllm_model_n_vocab(bm->model);
	ids = palloc(sizeof(int32) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("tokens must not contain nulls")));
		ids[i] = DatumGetInt32(elems[i]);
		if (ids[i] < 0 || (uint32) ids[i] >= n_vocab)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("token %d is outside the vocabulary of model \"%s\"", ids[i], bm->name),
							errdetail("Token ids run from 0 to %u.", n_vocab - 1)));
	}
	/*
	 * The BOS that llm.tokenize adds is dropped, so that
	 * llm.detokenize(llm.tokenize(x)) = x (SPM's first token then loses its
	 * prefix space, as the tokenizer added it); other control tokens are shown
	 * as their text. Size the text first, then decode into palloc'd memory
	 * allocated before the engine runs.
	 */
	if (n > 0 && pllm_tok_add_bos(tok) && ids[0] == pllm_tok_bos(tok))
	{
		ids++;
		n--;
	}
	pllm_error_clear(&err);
	st = pllm_tok_decode(tok, ids, (size_t) n, DETOKENIZE_FLAGS, NULL, 0, &out_len, &err);
	if (st != PLLM_OK && st != PLLM_ERR_LIMIT)
		PllmReportError(&err, psprintf("could not detokenize with model \"%s\"", bm->name));
	if (out_len > MaxAllocSize - 1)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("detokenized text would be too long")));
	buf = palloc(out_len + 1);
	pllm_error_clear(&err);
	if (pllm_tok_decode(tok, ids, (size_t) n, DETOKENIZE_FLAGS, buf, out_len + 1,
						&out_len, &err) != PLLM_OK)
		PllmReportError(&err, psprintf("could not detokenize with model \"%s\"", bm->name));
	PllmCountUsage(bm, (uint64) Max(n, 0));
	/* ids may stop inside a character: the text gets U+FFFD there */
	PG_RETURN_TEXT_P(PllmUtf8ToText(buf, out_len));
}

