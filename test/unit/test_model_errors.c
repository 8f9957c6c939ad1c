/*
 * test_model_errors.c -- broken model files must give a clear error naming
 * the problem, never a crash: truncated file, unknown architecture, missing
 * tensor, wrong tensor shape, missing hyper-parameter, missing file; and the
 * session limits: context overflow (PLLM_ERR_LIMIT), the abort callback
 * (PLLM_ERR_CANCELLED), bad ids; chunked evaluation equals one batch.
 */
#include <stdint.h>

#include "pg_llm/model.h"
#include "pg_llm/session.h"
#include "unit.h"

static char  *model_buf;
static size_t model_len;

static bool
load_tiny(void)
{
	if (!model_buf)
		model_buf = unit_read_file(unit_data("models/tiny-llama-f32.gguf"), &model_len);
	CHECK(model_buf != NULL, "cannot read tiny-llama-f32.gguf");
	return model_buf != NULL;
}

/* Copy of the model with every occurrence of `from` replaced by `to` (same length). */
static char *
patched(const char *from, const char *to, int max_hits)
{
	char  *b = malloc(model_len);
	size_t fl = strlen(from), i;
	int    hits = 0;

	memcpy(b, model_buf, model_len);
	for (i = 0; i + fl <= model_len && hits < max_hits; i++)
		if (memcmp(b + i, from, fl) == 0)
		{
			memcpy(b + i, to, fl);
			hits++;
		}
	CHECK(hits > 0, "pattern %s not found", from);
	return b;
}

static pllm_status
open_buf(const char *buf, size_t len, pllm_error *err)
{
	pllm_model *m = NULL;
	pllm_status st = pllm_model_open_buffer(buf, len, NULL, &m, err);

	CHECK((st == PLLM_OK) == (m != NULL), "status %d but model %p", st, (void *) m);
	pllm_model_close(m);
	return st;
}

static void
test_truncated(void)
{
	pllm_error err;
	size_t     cuts[] = {0, 3, 20, 200, 4096, 100000};
	size_t     i;

	if (!load_tiny())
		return;
	CHECK(open_buf(model_buf, model_len, &err) == PLLM_OK, "intact file: %s", err.msg);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
	{
		pllm_status st = open_buf(model_buf, cuts[i], &err);

		CHECK(st == PLLM_ERR_FORMAT, "cut at %zu: status %d (%s)", cuts[i], st, err.msg);
	}
	/* cut inside the tensor data */
	CHECK(open_buf(model_buf, model_len - 1000, &err) == PLLM_ERR_FORMAT, "cut data: %s", err.msg);
}

static void
test_unknown_arch(void)
{
	pllm_error err;
	char      *b;

	if (!load_tiny())
		return;
	/* the arch value and every "llama.*" key renamed consistently */
	b = patched("llama", "llamz", 1000);
	CHECK(open_buf(b, model_len, &err) == PLLM_ERR_UNSUPPORTED, "status %d: %s", err.code, err.msg);
	CHECK(strstr(err.msg, "llamz") != NULL, "message does not name the architecture: %s", err.msg);
	free(b);
}

static void
test_missing_tensor(void)
{
	pllm_error err;
	char      *b;

	if (!load_tiny())
		return;
	b = patched("blk.1.ffn_down.weight", "blk.1.ffn_dowX.weight", 1);
	CHECK(open_buf(b, model_len, &err) == PLLM_ERR_FORMAT, "status %d: %s", err.code, err.msg);
	CHECK(strstr(err.msg, "blk.1.ffn_down.weight") != NULL, "message does not name the tensor: %s", err.msg);
	free(b);
	b = patched("output_norm.weight", "output_norX.weight", 1);
	CHECK(open_buf(b, model_len, &err) == PLLM_ERR_FORMAT && strstr(err.msg, "output_norm.weight"),
		  "output_norm: %s", err.msg);
	free(b);
}

static void
test_missing_key(void)
{
	pllm_error err;
	char      *b;

	if (!load_tiny())
		return;
	b = patched("llama.block_count", "llama.block_cXunt", 1);
	CHECK(open_buf(b, model_len, &err) == PLLM_ERR_FORMAT, "status %d: %s", err.code, err.msg);
	CHECK(strstr(err.msg, "llama.block_count") != NULL, "message does not name the key: %s", err.msg);
	free(b);
}

/* Swap the shapes of two tensors' names so one has the wrong shape. */
static void
test_wrong_shape(void)
{
	pllm_error err;
	char      *b;

	if (!load_tiny())
		return;
	/* blk.0.attn_k (256 x 128) renamed to attn_q's name and vice versa */
	b = patched("blk.0.attn_q.weight", "blk.0.attn_T.weight", 1);
	{
		char  *k = NULL;
		size_t i;

		for (i = 0; i + 19 <= model_len; i++)
			if (memcmp(b + i, "blk.0.attn_k.weight", 19) == 0)
			{
				k = b + i;
				break;
			}
		CHECK(k != NULL, "attn_k not found");
		if (k)
			memcpy(k, "blk.0.attn_q.weight", 19);
	}
	CHECK(open_buf(b, model_len, &err) == PLLM_ERR_FORMAT, "status %d: %s", err.code, err.msg);
	CHECK(strstr(err.msg, "blk.0.attn_q.weight") && strstr(err.msg, "shape"), "message: %s", err.msg);
	free(b);
}

static void
test_missing_file(void)
{
	pllm_error  err;
	pllm_model *m = NULL;

	CHECK(pllm_model_open_file("test/data/no/such/model.gguf", NULL, &m, &err) == PLLM_ERR_IO && !m,
		  "missing file: %d %s", err.code, err.msg);
	CHECK(err.sys_errno != 0, "errno not kept");
}

/* ---- sessions --------------------------------------------------------------- */

static int abort_calls;
static int abort_after;

static bool
abort_cb(void *arg)
{
	(void) arg;
	return ++abort_calls > abort_after;
}

static void
test_session_limits(void)
{
	pllm_error        err;
	pllm_model       *m = NULL;
	pllm_session     *s = NULL;
	pllm_session_opts so = pllm_session_opts_default();
	int32_t           ids[40];
	int               i;

	if (!load_tiny())
		return;
	for (i = 0; i < 40; i++)
		ids[i] = (i * 37) % 509;
	CHECK(pllm_model_open_buffer(model_buf, model_len, NULL, &m, &err) == PLLM_OK, "%s", err.msg);
	if (!m)
		return;
	so.n_ctx = 32;
	so.n_batch = 8;
	CHECK(pllm_session_create(m, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
	{
		pllm_model_close(m);
		return;
	}
	CHECK(pllm_session_n_ctx(s) == 32 && pllm_session_n_batch(s) == 8, "sizes");
	/* 33 tokens cannot fit 32 */
	CHECK(pllm_session_eval(s, ids, 33, false, &err) == PLLM_ERR_LIMIT, "overflow: %d %s", err.code, err.msg);
	CHECK(pllm_session_n_past(s) == 0, "a failed eval moved the position");
	CHECK(pllm_session_eval(s, ids, 30, false, &err) == PLLM_OK, "30 tokens: %s", err.msg);
	CHECK(pllm_session_eval(s, ids, 3, false, &err) == PLLM_ERR_LIMIT, "30 + 3 > 32 must fail");
	CHECK(pllm_session_eval(s, ids, 2, false, &err) == PLLM_OK, "30 + 2 fits: %s", err.msg);
	CHECK(pllm_session_eval(s, ids, 1, false, &err) == PLLM_ERR_LIMIT, "full context must refuse");
	/* all logits for more than a batch */
	pllm_session_reset(s);
	CHECK(pllm_session_eval(s, ids, 9, true, &err) == PLLM_ERR_LIMIT, "9 rows > batch of 8");
	/* bad ids */
	ids[3] = 512;
	CHECK(pllm_session_eval(s, ids, 5, false, &err) == PLLM_ERR_INVALID_ARG, "id 512 accepted");
	ids[3] = -1;
	CHECK(pllm_session_eval(s, ids, 5, false, &err) == PLLM_ERR_INVALID_ARG, "id -1 accepted");
	ids[3] = 3;

	/* abort: at once, and after a few polls (between layers / passes) */
	pllm_session_reset(s);
	abort_calls = 0;
	abort_after = 0;
	pllm_session_set_abort(s, abort_cb, NULL);
	CHECK(pllm_session_eval(s, ids, 20, false, &err) == PLLM_ERR_CANCELLED, "abort: %d %s", err.code, err.msg);
	CHECK(abort_calls >= 1, "callback never polled");
	abort_calls = 0;
	abort_after = 4;
	pllm_session_reset(s);
	CHECK(pllm_session_eval(s, ids, 20, false, &err) == PLLM_ERR_CANCELLED, "late abort: %d", err.code);
	CHECK(abort_calls == 5, "polled %d times, expected to stop at the 5th poll", abort_calls);
	pllm_session_set_abort(s, NULL, NULL);
	pllm_session_free(s);
	pllm_model_close(m);
}

/* n tokens in passes of 8, or one by one, give the logits of one batch; f16 KV is close. */
static void
test_session_chunks(void)
{
	pllm_error        err;
	pllm_model       *m = NULL;
	pllm_session     *big = NULL, *small = NULL, *half = NULL;
	pllm_session_opts so = pllm_session_opts_default();
	int32_t           ids[20];
	float             ref[512], got[512];
	double            d_chunk = 0, d_one = 0, d_f16 = 0;
	int               i, j;

	if (!load_tiny())
		return;
	for (i = 0; i < 20; i++)
		ids[i] = (i * 101 + 7) % 509;
	CHECK(pllm_model_open_buffer(model_buf, model_len, NULL, &m, &err) == PLLM_OK, "%s", err.msg);
	if (!m)
		return;
	so.n_ctx = 64;
	so.n_batch = 64;
	pllm_session_create(m, &so, &big, &err);
	so.n_batch = 8;
	pllm_session_create(m, &so, &small, &err);
	so.kv_type = PLLM_KV_F16;
	pllm_session_create(m, &so, &half, &err);
	CHECK(big && small && half, "sessions: %s", err.msg);
	if (big && small && half)
	{
		CHECK(pllm_session_eval(big, ids, 20, false, &err) == PLLM_OK, "%s", err.msg);
		memcpy(ref, pllm_session_logits(big, 0), sizeof(ref));
		CHECK(pllm_session_eval(small, ids, 20, false, &err) == PLLM_OK, "%s", err.msg);
		memcpy(got, pllm_session_logits(small, 0), sizeof(got));
		for (j = 0; j < 512; j++)
			d_chunk = fmax(d_chunk, fabs(ref[j] - got[j]));
		pllm_session_reset(small);
		for (i = 0; i < 20; i++)
			CHECK(pllm_session_eval(small, ids + i, 1, false, &err) == PLLM_OK, "%s", err.msg);
		for (j = 0; j < 512; j++)
			d_one = fmax(d_one, fabs(ref[j] - pllm_session_logits(small, 0)[j]));
		CHECK(pllm_session_eval(half, ids, 20, false, &err) == PLLM_OK, "%s", err.msg);
		for (j = 0; j < 512; j++)
			d_f16 = fmax(d_f16, fabs(ref[j] - pllm_session_logits(half, 0)[j]));
		/* same arithmetic per token, only the batching differs: F32-level agreement */
		CHECK(d_chunk <= 1e-4, "chunked vs one batch: %g", d_chunk);
		CHECK(d_one <= 1e-4, "token by token vs one batch: %g", d_one);
		/* F16 keys/values: rounding of ~1e-3 relative, well under the f16 weight tolerance 0.5 */
		CHECK(d_f16 > 0 && d_f16 <= 0.5, "f16 kv cache: %g", d_f16);
		printf("# chunked %.3g, one-by-one %.3g, f16 kv %.3g\n", d_chunk, d_one, d_f16);
	}
	pllm_session_free(big);
	pllm_session_free(small);
	pllm_session_free(half);
	pllm_model_close(m);
}

int
main(void)
{
	RUN(test_truncated);
	RUN(test_unknown_arch);
	RUN(test_missing_tensor);
	RUN(test_missing_key);
	RUN(test_wrong_shape);
	RUN(test_missing_file);
	RUN(test_session_limits);
	RUN(test_session_chunks);
	free(model_buf);
	return UNIT_DONE();
}
