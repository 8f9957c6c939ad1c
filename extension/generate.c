/*
 * generate.c -- llm.generate, llm.generate_stream and llm.chat: argument
 * checking, one cached engine session per model, and pllm_generate() doing the
 * work. Engine memory (results, pieces) is malloc'd and freed on every path,
 * ERROR included; no PostgreSQL call runs while the engine is on the stack.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "pg_llm/chat.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"

#include "pg_llm_ext.h"

/* Argument positions shared by generate, generate_stream and chat. */
#define ARG_INPUT		0
#define ARG_MODEL		1
#define ARG_MAX_TOKENS	2
#define ARG_TEMP		3
#define ARG_TOP_K		4
#define ARG_TOP_P		5
#define ARG_MIN_P		6
#define ARG_REPEAT		7
#define ARG_SEED		8
#define ARG_STOP		9
#define ARG_TEMPLATE	10		/* chat only */
#define ARG_THINKING	11		/* chat only */

static void
BadOption(const char *name, const char *rule)
{
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("%s %s", name, rule)));
}

static float
RealArg(FunctionCallInfo fcinfo, int i, float dflt)
{
	return PG_ARGISNULL(i) ? dflt : PG_GETARG_FLOAT4(i);
}

/* Read and check the sampling options; NULL means the documented default. */
void
PllmParseGenArgs(FunctionCallInfo fcinfo, PllmGenArgs *a)
{
	pllm_gen_params *p = &a->params;
	pllm_sampler_params *s = &p->sampling;
	int         max_tokens = PG_ARGISNULL(ARG_MAX_TOKENS) ? 256 : PG_GETARG_INT32(ARG_MAX_TOKENS);

	*p = pllm_gen_params_default();
	a->model = PG_ARGISNULL(ARG_MODEL) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(ARG_MODEL));

	if (max_tokens < 1)
		BadOption("max_tokens", "must be at least 1");
	p->max_tokens = Min(max_tokens, pllm_max_tokens);	/* the hard cap */

	s->temperature = RealArg(fcinfo, ARG_TEMP, 0.8f);
	if (isnan(s->temperature) || s->temperature < 0 || s->temperature > 100)
		BadOption("temperature", "must be between 0 and 100");
	s->top_k = PG_ARGISNULL(ARG_TOP_K) ? 40 : PG_GETARG_INT32(ARG_TOP_K);
	if (s->top_k < 0)
		BadOption("top_k", "must not be negative (0 turns it off)");
	s->top_p = RealArg(fcinfo, ARG_TOP_P, 0.95f);
	if (isnan(s->top_p) || s->top_p <= 0 || s->top_p > 1)
		BadOption("top_p", "must be greater than 0 and at most 1");
	s->min_p = RealArg(fcinfo, ARG_MIN_P, 0.05f);
	if (isnan(s->min_p) || s->min_p < 0 || s->min_p > 1)
		BadOption("min_p", "must be between 0 and 1");
	s->repeat_penalty = RealArg(fcinfo, ARG_REPEAT, 1.0f);
	if (isnan(s->repeat_penalty) || s->repeat_penalty <= 0 || s->repeat_penalty > 100)
		BadOption("repeat_penalty", "must be greater than 0 and at most 100");
	a->seeded = !PG_ARGISNULL(ARG_SEED);
	if (PG_ARGISNULL(ARG_SEED))
		s->seed = pg_prng_uint64(&pg_global_prng_state);
	else
		s->seed = (uint64) PG_GETARG_INT64(ARG_SEED);

	if (!PG_ARGISNULL(ARG_STOP))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(ARG_STOP);
		Datum      *elems;
		bool       *nulls;
		int         n;
		int         k = 0;

		if (ARR_NDIM(arr) > 1)
			BadOption("stop", "must be a one-dimensional array");
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		if (n > PLLM_GEN_MAX_STOP)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("too many stop strings"),
							errdetail("At most %d stop strings can be given.", PLLM_GEN_MAX_STOP)));
		for (int i = 0; i < n; i++)
		{
			char       *str;

			if (nulls[i])
				BadOption("stop", "must not contain null elements");
			str = PllmCStringToUtf8(TextDatumGetCString(elems[i]));
			if (str[0] == '\0')
				BadOption("stop", "must not contain empty strings");
			p->stop[k++] = str;
		}
	}
}

/* Map a failed generation to an ERROR (cancel services the interrupt). */
static void
GenerateFailed(const pllm_error *err, const char *model)
{
	PllmReportError(err, psprintf("could not generate text with model \"%s\"", model));
}

/* ---- one generation, with malloc'd pieces for streaming ------------------- */

typedef struct PieceList
{
	char      **text;
	size_t     *len;
	size_t      n;
	size_t      cap;
	bool        oom;
} PieceList;

/* Engine callback: runs inside pllm_generate, so it only uses malloc. */
static bool
CollectPiece(const char *text, size_t len, void *user)
{
	PieceList  *l = (PieceList *) user;
	char       *copy;

	if (l->oom)
		return false;
	if (l->n == l->cap)
	{
		size_t      cap = l->cap ? l->cap * 2 : 64;
		char      **t = realloc(l->text, cap * sizeof(char *));
		size_t     *n;

		if (t == NULL)
		{
			l->oom = true;
			return false;
		}
		l->text = t;
		n = realloc(l->len, cap * sizeof(size_t));
		if (n == NULL)
		{
			l->oom = true;
			return false;
		}
		l->len = n;
		l->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
	{
		l->oom = true;
		return false;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	l->text[l->n] = copy;
	l->len[l->n] = len;
	l->n++;
	return true;
}

static void
FreePieces(PieceList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->text[i]);
	free(l->text);
	free(l->len);
	memset(l, 0, sizeof(*l));
}

/*
 * Run one generation of prompt[0..len) on the cached session of bm. On success
 * *res holds the malloc'd text (caller frees with pllm_gen_result_free); on
 * failure the session is back in the cache and an ERROR is raised.
 */
static void
RunGeneration(PllmBackendModel *bm, const char *prompt, size_t len, const pllm_gen_params *p,
			  PieceList *pieces, pllm_gen_result *res)
{
	pllm_session *s = PllmAcquireSession(bm);
	pllm_error  err;
	pllm_status st;

	pllm_error_clear(&err);
	st = pllm_generate(s, prompt, len, p, pieces ? CollectPiece : NULL, pieces, res, &err);
	PllmReleaseSession(bm, s);
	PllmCountUsage(bm, (uint64) Max(res->n_prompt, 0) + (uint64) Max(res->n_gen, 0));
	if (st == PLLM_OK && pieces && pieces->oom)
	{
		st = PLLM_ERR_NOMEM;
		pllm_error_set(&err, st, "out of memory collecting generated text");
	}
	if (st != PLLM_OK)
	{
		pllm_gen_result_free(res);
		if (pieces)
			FreePieces(pieces);
		GenerateFailed(&err, bm->name);
	}
}

/* The result text as a text datum; frees the engine's copy on every path. */
static text *
ResultText(pllm_gen_result *res)
{
	text       *volatile out = NULL;

	PG_TRY();
	{
		out = PllmUtf8ToText(res->text ? res->text : "", res->text_len);
	}
	PG_FINALLY();
	{
		pllm_gen_result_free(res);
	}
	PG_END_TRY();
	return out;
}

PG_FUNCTION_INFO_V1(pg_llm_generate);
Datum
pg_llm_generate(PG_FUNCTION_ARGS)
{
	PllmGenArgs a;
	char       *prompt;
	size_t      len;
	PllmBackendModel *bm;
	pllm_gen_result res;

	if (PG_ARGISNULL(ARG_INPUT))
		PG_RETURN_NULL();
	prompt = PllmTextToUtf8(PG_GETARG_TEXT_PP(ARG_INPUT), &len);
	PllmParseGenArgs(fcinfo, &a);
	bm = PllmGetModel(a.model, false);
	memset(&res, 0, sizeof(res));
	RunGeneration(bm, prompt, len, &a.params, NULL, &res);
	PG_RETURN_TEXT_P(ResultText(&res));
}

/* Rows of a materialized SRF from the collected pieces; frees them. */
static void
PutPieces(FunctionCallInfo fcinfo, PieceList *pieces)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	PG_TRY();
	{
		for (size_t i = 0; i < pieces->n; i++)
		{
			Datum       value = PointerGetDatum(PllmUtf8ToText(pieces->text[i], pieces->len[i]));
			bool        isnull = false;

			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		}
	}
	PG_FINALLY();
	{
		FreePieces(pieces);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(pg_llm_generate_stream);
Datum
pg_llm_generate_stream(PG_FUNCTION_ARGS)
{
	PllmGenArgs a;
	char       *prompt;
	size_t      len;
	PllmBackendModel *bm;
	pllm_gen_result res;
	PieceList   pieces;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (PG_ARGISNULL(ARG_INPUT))
		return (Datum) 0;
	prompt = PllmTextToUtf8(PG_GETARG_TEXT_PP(ARG_INPUT), &len);
	PllmParseGenArgs(fcinfo, &a);
	bm = PllmGetModel(a.model, false);
	memset(&res, 0, sizeof(res));
	memset(&pieces, 0, sizeof(pieces));
	RunGeneration(bm, prompt, len, &a.params, &pieces, &res);
	pllm_gen_result_free(&res);
	PutPieces(fcinfo, &pieces);
	return (Datum) 0;
}

/* ---- llm.chat ------------------------------------------------------------- */

/* A text field of a message object, NULL when absent. */
static char *
MessageField(JsonbContainer *obj, const char *key, int index)
{
	JsonbValue  k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("message %d: \"%s\" must be a string", index, key)));
	return PllmCStringToUtf8(pnstrdup(v->val.string.val, v->val.string.len));
}

/* messages: [{"role": "system"|"user"|"assistant", "content": "..."}, ...] */
static pllm_chat_msg *
ParseMessages(Jsonb *jb, int *n_out)
{
	JsonbIterator *it;
	JsonbValue  v;
	JsonbIteratorToken tok;
	pllm_chat_msg *msgs;
	int         n = 0;
	int         cap;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("messages must be a JSON array of {\"role\": ..., \"content\": ...} objects")));
	cap = Max(JB_ROOT_COUNT(jb), 1);
	msgs = palloc0(sizeof(pllm_chat_msg) * cap);
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("message %d is not a JSON object", n + 1)));
		msgs[n].role = MessageField(v.val.binary.data, "role", n + 1);
		msgs[n].content = MessageField(v.val.binary.data, "content", n + 1);
		if (msgs[n].role == NULL || msgs[n].content == NULL)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("message %d needs \"role\" and \"content\"", n + 1)));
		if (strcmp(msgs[n].role, "system") != 0 && strcmp(msgs[n].role, "user") != 0 &&
			strcmp(msgs[n].role, "assistant") != 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("message %d has role \"%s\"", n + 1, msgs[n].role),
							errhint("Roles are \"system\", \"user\" and \"assistant\".")));
		n++;
	}
	if (n == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("messages must not be empty")));
	*n_out = n;
	return msgs;
}

/* The template named by the caller, else the one the model's metadata shows. */
static pllm_chat_template
ChooseTemplate(PllmBackendModel *bm, const char *name)
{
	pllm_chat_template t;
	pllm_str    meta;

	if (name != NULL)
	{
		t = pllm_chat_by_name(name);
		if (t == PLLM_CHAT_NONE)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("unknown chat template \"%s\"", name),
							errhint("Known templates: chatml, llama2, llama3, deepseek3, gemma, phi3, mistral.")));
		return t;
	}
	if (pllm_gguf_get_str(pllm_model_gguf(bm->model), "tokenizer.chat_template", &meta))
	{
		t = pllm_chat_detect(meta.ptr, (size_t) meta.len);
		if (t != PLLM_CHAT_NONE)
			return t;
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("the chat template of model \"%s\" is not one pg_llm knows", bm->name),
						errhint("Name one with template => 'chatml' (or llama2, llama3, deepseek3, gemma, phi3, mistral).")));
	}
	ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("model \"%s\" has no chat template", bm->name),
					errhint("Name one with template => 'chatml' (or llama2, llama3, deepseek3, gemma, phi3, mistral).")));
	return PLLM_CHAT_NONE;
}

PG_FUNCTION_INFO_V1(pg_llm_chat);
Datum
pg_llm_chat(PG_FUNCTION_ARGS)
{
	PllmGenArgs a;
	PllmBackendModel *bm;
	pllm_chat_msg *msgs;
	int         n;
	pllm_chat_template t;
	char       *rendered = NULL;
	size_t      rendered_len = 0;
	char       *prompt;
	pllm_error  err;
	pllm_gen_result res;
	bool        keep_thinking = PG_ARGISNULL(ARG_THINKING) ? true : PG_GETARG_BOOL(ARG_THINKING);

	if (PG_ARGISNULL(ARG_INPUT))
		PG_RETURN_NULL();
	PllmParseGenArgs(fcinfo, &a);
	msgs = ParseMessages(PG_GETARG_JSONB_P(ARG_INPUT), &n);
	bm = PllmGetModel(a.model, false);
	t = ChooseTemplate(bm, PG_ARGISNULL(ARG_TEMPLATE) ? NULL
					   : text_to_cstring(PG_GETARG_TEXT_PP(ARG_TEMPLATE)));

	if (pllm_chat_apply(t, msgs, (size_t) n, true, &rendered, &rendered_len, &err) != PLLM_OK)
		PllmReportError(&err, "could not build the chat prompt");
	prompt = pnstrdup(rendered, rendered_len);
	free(rendered);

	a.params.parse_special = true;	/* the template's markers are special tokens */
	memset(&res, 0, sizeof(res));
	RunGeneration(bm, prompt, strlen(prompt), &a.params, NULL, &res);
	if (!keep_thinking && res.text != NULL)
		res.text_len = pllm_chat_strip_thinking(res.text, res.text_len);
	PG_RETURN_TEXT_P(ResultText(&res));
}
