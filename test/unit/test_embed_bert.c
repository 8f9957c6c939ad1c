/*
 * test_embed_bert.c -- the bert encoder and the embedding API against llama.cpp's
 * outputs on the tiny-bert fixtures (test/data/fixtures/tiny-bert, copied from
 * ../shared/fixtures): pooled + normalised vectors, raw pooled vectors, per-token
 * states, batch == single, and the error/truncation behaviour.
 */
#include <pthread.h>
#include <stdint.h>

#include "pg_llm/embed.h"
#include "pg_llm/model.h"
#include "unit.h"

#define E        256
#define N_SEQ    5
#define MAX_IDS  128

/*
 * Tolerances: fixtures/README.md, "Encoder" table of "Recommended tolerances"
 * (normalised pooled max abs, per-token max abs, min cosine). F32 uses the
 * table-GELU row (we emulate ggml's F16 GELU table). Raw pooled vectors use the
 * normalised bound multiplied by the reference vector's norm, as the README says.
 * The README's "1.00000" min cosine for f16 is that figure at 5 decimals, i.e. >= 0.999995.
 */
typedef struct bert_type
{
	const char *name;
	double      pooled_norm_max;
	double      token_max;
	double      min_cos;
} bert_type;

static const bert_type types[] = {
	{"f32", 3e-5, 2e-3, 0.99999},
	{"f16", 0.0005, 0.01, 0.999995},
	{"q8_0", 0.01, 0.2, 0.99962},
	{"q4_0", 0.2, 5, 0.93365},
	{"q4_k", 0.1, 2, 0.95362},
	{"q6_k", 0.05, 0.5, 0.99760},
};

/* Batch must equal one-at-a-time within this (the task's requirement). */
#define BATCH_TOL 1e-5

static int32_t seq_ids[N_SEQ][MAX_IDS];
static int     seq_len[N_SEQ];

static void
load_inputs(void)
{
	if (unit_read_id_lines(unit_data("fixtures/tiny-bert/inputs.txt"), &seq_ids[0][0], seq_len, N_SEQ, MAX_IDS) != N_SEQ)
	{
		fprintf(stderr, "cannot read fixtures/tiny-bert/inputs.txt\n");
		exit(1);
	}
}

static float *
load_f32(const char *type, const char *file, size_t n_expect)
{
	char   name[256];
	size_t len = 0;
	char  *data;

	snprintf(name, sizeof(name), "fixtures/tiny-bert/%s/%s", type, file);
	data = unit_read_file(unit_data(name), &len);
	if (!data || len != n_expect * sizeof(float))
	{
		printf("# cannot read %s (%zu bytes)\n", name, len);
		free(data);
		return NULL;
	}
	return (float *) data;
}

static pllm_model *
open_type(const char *type)
{
	char            name[256];
	pllm_model_opts mo = pllm_model_opts_default();
	pllm_model     *m = NULL;
	pllm_error      err = {0};

	mo.load_tokenizer = false;   /* ids are given: this test does not depend on the tokenizer */
	snprintf(name, sizeof(name), "fixtures/tiny-bert/tiny-bert-%s.gguf", type);
	if (pllm_model_open_file(unit_data(name), &mo, &m, &err) != PLLM_OK)
		printf("# open %s: %s\n", name, err.msg);
	return m;
}

static double
max_abs_diff(const float *a, const float *b, size_t n)
{
	double mx = 0.0;

	for (size_t i = 0; i < n; i++)
	{
		double d = fabs((double) a[i] - (double) b[i]);

		if (!(d <= mx))
			mx = d;   /* NaN propagates */
	}
	return mx;
}

static double
cosine(const float *a, const float *b, size_t n)
{
	double ab = 0, aa = 0, bb = 0;

	for (size_t i = 0; i < n; i++)
	{
		ab += (double) a[i] * b[i];
		aa += (double) a[i] * a[i];
		bb += (double) b[i] * b[i];
	}
	return ab / sqrt(aa * bb);
}

static double
norm(const float *a, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double) a[i] * a[i];
	return sqrt(s);
}

/* Every shipped type: single, batched, raw, per-token, against llama.cpp. */
static void
check_type(const bert_type *bt)
{
	pllm_model     *m = open_type(bt->name);
	float          *ref_norm = load_f32(bt->name, "emb.pooled_norm.f32", N_SEQ * E);
	float          *ref_raw = load_f32(bt->name, "emb.pooled.f32", N_SEQ * E);
	float          *ref_tok = load_f32(bt->name, "emb.tokens.f32", 143 * E);
	static float    single[N_SEQ][E], batch[N_SEQ][E], chunked[N_SEQ][E], raw[N_SEQ][E];
	static float    tok[MAX_IDS * E];
	const int32_t  *ids[N_SEQ];
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	bool            trunc[N_SEQ];
	double          worst_cos = 1.0, worst_abs = 0.0, worst_raw = 0.0, worst_tok = 0.0, worst_batch = 0.0;
	size_t          tok_off = 0;

	CHECK(m && ref_norm && ref_raw && ref_tok, "%s: fixtures missing", bt->name);
	if (!m || !ref_norm || !ref_raw || !ref_tok)
		goto done;
	CHECK(pllm_embed_dim(m) == E, "dim %u", pllm_embed_dim(m));
	CHECK(pllm_embed_max_tokens(m) == 128, "max tokens %u", pllm_embed_max_tokens(m));
	CHECK(pllm_embed_model_pooling(m) == PLLM_POOLING_MEAN, "pooling %d", (int) pllm_embed_model_pooling(m));
	for (int s = 0; s < N_SEQ; s++)
		ids[s] = seq_ids[s];

	for (int s = 0; s < N_SEQ; s++)
	{
		pllm_status st = pllm_embed_ids(m, &ids[s], &seq_len[s], 1, &o, single[s], &trunc[s], &err);
		double      c, d;

		CHECK(st == PLLM_OK, "%s seq %d: %s", bt->name, s, err.msg);
		CHECK(!trunc[s], "seq %d flagged truncated", s);
		c = cosine(single[s], ref_norm + s * E, E);
		d = max_abs_diff(single[s], ref_norm + s * E, E);
		CHECK(c >= bt->min_cos, "%s seq %d: cosine %.8f < %.8f", bt->name, s, c, bt->min_cos);
		CHECK(d <= bt->pooled_norm_max, "%s seq %d: normalised max abs %.3g > %.3g", bt->name, s, d,
			  bt->pooled_norm_max);
		if (c < worst_cos)
			worst_cos = c;
		if (!(d <= worst_abs))
			worst_abs = d;
	}

	/* raw pooled: bound scaled by the reference norm */
	o.normalize = false;
	CHECK(pllm_embed_ids(m, ids, seq_len, N_SEQ, &o, raw[0], NULL, &err) == PLLM_OK, "%s", err.msg);
	for (int s = 0; s < N_SEQ; s++)
	{
		double nrm = norm(ref_raw + s * E, E);
		double d = max_abs_diff(raw[s], ref_raw + s * E, E);

		CHECK(d <= bt->pooled_norm_max * nrm, "%s seq %d: raw max abs %.3g > %.3g", bt->name, s, d,
			  bt->pooled_norm_max * nrm);
		if (!(d / nrm <= worst_raw))
			worst_raw = d / nrm;
	}
	o.normalize = true;

	/* per-token final states */
	for (int s = 0; s < N_SEQ; s++)
	{
		double d;

		CHECK(pllm_embed_token_states(m, seq_ids[s], seq_len[s], &o, tok, &err) == PLLM_OK, "%s", err.msg);
		d = max_abs_diff(tok, ref_tok + tok_off * E, (size_t) seq_len[s] * E);
		CHECK(d <= bt->token_max, "%s seq %d: per-token max abs %.3g > %.3g", bt->name, s, d, bt->token_max);
		if (!(d <= worst_tok))
			worst_tok = d;
		tok_off += (size_t) seq_len[s];
	}

	/* all together in one pass, and in several small passes */
	CHECK(pllm_embed_ids(m, ids, seq_len, N_SEQ, &o, batch[0], trunc, &err) == PLLM_OK, "%s", err.msg);
	o.max_batch_tokens = 8;
	CHECK(pllm_embed_ids(m, ids, seq_len, N_SEQ, &o, chunked[0], trunc, &err) == PLLM_OK, "%s", err.msg);
	for (int s = 0; s < N_SEQ; s++)
	{
		double d = max_abs_diff(batch[s], single[s], E);
		double d2 = max_abs_diff(chunked[s], single[s], E);

		CHECK(d <= BATCH_TOL, "%s seq %d: batch differs from single by %.3g", bt->name, s, d);
		CHECK(d2 <= BATCH_TOL, "%s seq %d: chunked batch differs from single by %.3g", bt->name, s, d2);
		if (d > worst_batch)
			worst_batch = d;
		if (d2 > worst_batch)
			worst_batch = d2;
	}
	printf("# %-5s min cos %.8f (>= %.5f)  norm max abs %.3g (<= %g)  raw max abs/norm %.3g  "
		   "token max abs %.3g (<= %g)  batch-single %.3g\n",
		   bt->name, worst_cos, bt->min_cos, worst_abs, bt->pooled_norm_max, worst_raw, worst_tok,
		   bt->token_max, worst_batch);
done:
	free(ref_norm);
	free(ref_raw);
	free(ref_tok);
	pllm_model_close(m);
}

static void test_bert_f32(void) { check_type(&types[0]); }
static void test_bert_f16(void) { check_type(&types[1]); }
static void test_bert_q8_0(void) { check_type(&types[2]); }
static void test_bert_q4_0(void) { check_type(&types[3]); }
static void test_bert_q4_k(void) { check_type(&types[4]); }
static void test_bert_q6_k(void) { check_type(&types[5]); }

/* CLS and LAST pooling pick rows of the per-token states. */
static void
test_embed_pooling_kinds(void)
{
	pllm_model     *m = open_type("f32");
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static float    tok[MAX_IDS * E], v[E];
	const int32_t  *ids = seq_ids[3];
	int             n = seq_len[3];

	CHECK(m != NULL, "open");
	if (!m)
		return;
	o.normalize = false;
	CHECK(pllm_embed_token_states(m, ids, n, &o, tok, &err) == PLLM_OK, "%s", err.msg);
	o.pooling = PLLM_POOLING_CLS;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, &o, v, NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(max_abs_diff(v, tok, E) == 0.0, "cls differs");
	o.pooling = PLLM_POOLING_LAST;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, &o, v, NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(max_abs_diff(v, tok + (n - 1) * E, E) == 0.0, "last differs");
	o.pooling = 7;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, &o, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "pooling 7 accepted");
	pllm_model_close(m);
}

/* A model whose bert.pooling_type is 0 (none): embed fails unless the caller picks a pooling. */
static void
test_embed_pooling_none(void)
{
	size_t          len = 0;
	char           *buf = unit_read_file(unit_data("fixtures/tiny-bert/tiny-bert-f32.gguf"), &len);
	const char      key[] = "bert.pooling_type";
	pllm_model_opts mo = pllm_model_opts_default();
	pllm_model     *m = NULL, *ref = open_type("f32");
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static float    v[E], w[E];
	const int32_t  *ids = seq_ids[2];
	int             n = seq_len[2];
	char           *hit = NULL;

	CHECK(buf && ref, "fixture");
	if (!buf || !ref)
		goto done;
	for (size_t i = 0; i + sizeof(key) + 8 < len && !hit; i++)
		if (memcmp(buf + i, key, sizeof(key) - 1) == 0)
			hit = buf + i + sizeof(key) - 1;
	CHECK(hit != NULL, "key not found");
	if (!hit)
		goto done;
	memset(hit + 4, 0, 4);   /* value after the u32 type tag */
	mo.load_tokenizer = false;
	CHECK(pllm_model_open_buffer(buf, len, &mo, &m, &err) == PLLM_OK, "%s", err.msg);
	if (!m)
		goto done;
	CHECK(pllm_embed_model_pooling(m) == PLLM_POOLING_NONE, "pooling %d", (int) pllm_embed_model_pooling(m));
	CHECK(pllm_embed_ids(m, &ids, &n, 1, &o, v, NULL, &err) == PLLM_ERR_UNSUPPORTED, "pooling none accepted");
	CHECK(strstr(err.msg, "none") != NULL, "message: %s", err.msg);
	o.pooling = PLLM_POOLING_NONE;
	CHECK(pllm_embed_ids(ref, &ids, &n, 1, &o, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "explicit none accepted");
	/* the caller may still choose a pooling: same result as the model with MEAN */
	o.pooling = PLLM_POOLING_MEAN;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, &o, v, NULL, &err) == PLLM_OK, "%s", err.msg);
	o.pooling = PLLM_POOLING_MODEL;
	CHECK(pllm_embed_ids(ref, &ids, &n, 1, &o, w, NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(max_abs_diff(v, w, E) == 0.0, "explicit mean differs");
done:
	pllm_model_close(m);
	pllm_model_close(ref);
	free(buf);
}

/* Inputs longer than the 128 positions: truncated (keeping [SEP]) and flagged, or LIMIT. */
static void
test_embed_truncation(void)
{
	pllm_model     *m = open_type("f32");
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static int32_t  longer[150], cut[128];
	static float    v[3][E], w[E];
	const int32_t  *ids[3];
	int             n[3] = {150, 128, 7};
	bool            trunc[3] = {false, true, true};

	CHECK(m != NULL, "open");
	if (!m)
		return;
	longer[0] = 101;
	for (int i = 1; i < 149; i++)
		longer[i] = 104 + (i * 37) % 400;
	longer[149] = 102;
	memcpy(cut, longer, 127 * sizeof(int32_t));
	cut[127] = 102;
	ids[0] = longer;
	ids[1] = cut;
	ids[2] = seq_ids[2];
	CHECK(pllm_embed_ids(m, ids, n, 3, &o, v[0], trunc, &err) == PLLM_OK, "%s", err.msg);
	CHECK(trunc[0] && !trunc[1] && !trunc[2], "flags %d %d %d", trunc[0], trunc[1], trunc[2]);
	CHECK(max_abs_diff(v[0], v[1], E) <= BATCH_TOL, "truncated input differs from [head..., SEP]");

	/* no final [SEP]: just the first 128 */
	longer[149] = 200;
	CHECK(pllm_embed_ids(m, ids, n, 1, &o, v[0], trunc, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_embed_ids(m, (const int32_t *const[]) {longer}, (int[]) {128}, 1, &o, w, NULL, &err) == PLLM_OK,
		  "%s", err.msg);
	CHECK(trunc[0], "flag");
	CHECK(max_abs_diff(v[0], w, E) <= BATCH_TOL, "truncated input differs from its head");

	o.truncate = false;
	CHECK(pllm_embed_ids(m, ids, n, 3, &o, v[0], trunc, &err) == PLLM_ERR_LIMIT, "limit not enforced");
	CHECK(pllm_embed_ids(m, ids + 1, n + 1, 2, &o, v[0], trunc, &err) == PLLM_OK, "%s", err.msg);
	pllm_model_close(m);
}

static void
test_embed_bad_args(void)
{
	pllm_model     *m = open_type("f32");
	pllm_error      err = {0};
	static float    v[E];
	int32_t         bad[3] = {101, 512, 102};
	const int32_t  *ids = bad;
	int             n = 3, zero = 0;

	CHECK(m != NULL, "open");
	if (!m)
		return;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, NULL, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "id 512 accepted");
	bad[1] = -1;
	CHECK(pllm_embed_ids(m, &ids, &n, 1, NULL, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "id -1 accepted");
	CHECK(pllm_embed_ids(m, &ids, &zero, 1, NULL, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "empty accepted");
	CHECK(pllm_embed_ids(m, &ids, &n, -1, NULL, v, NULL, &err) == PLLM_ERR_INVALID_ARG, "n -1 accepted");
	CHECK(pllm_embed_ids(m, NULL, NULL, 0, NULL, NULL, NULL, &err) == PLLM_OK, "n 0");
	{
		static int32_t many[129];
		static float   states[129 * E];

		for (int i = 0; i < 129; i++)
			many[i] = 104 + i;
		CHECK(pllm_embed_token_states(m, many, 129, NULL, states, &err) == PLLM_ERR_LIMIT, "129 states");
	}
	pllm_model_close(m);
}

static bool
abort_now(void *arg)
{
	(void) arg;
	return true;
}

static void
test_embed_cancel(void)
{
	pllm_model     *m = open_type("f32");
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static float    v[E];
	const int32_t  *ids = seq_ids[3];

	CHECK(m != NULL, "open");
	if (!m)
		return;
	o.should_abort = abort_now;
	CHECK(pllm_embed_ids(m, &ids, &seq_len[3], 1, &o, v, NULL, &err) == PLLM_ERR_CANCELLED, "not cancelled");
	pllm_model_close(m);
}

/* Concurrent calls on one const model give the single-threaded answer. */
typedef struct conc_arg
{
	const pllm_model *m;
	float             out[N_SEQ][E];
	pllm_status       st;
} conc_arg;

static void *
conc_run(void *p)
{
	conc_arg       *a = p;
	const int32_t  *ids[N_SEQ];
	pllm_error      err;

	for (int s = 0; s < N_SEQ; s++)
		ids[s] = seq_ids[s];
	for (int r = 0; r < 3 && (a->st = pllm_embed_ids(a->m, ids, seq_len, N_SEQ, NULL, a->out[0], NULL, &err)) == PLLM_OK; r++)
		;
	return NULL;
}

static void
test_embed_concurrent(void)
{
	pllm_model     *m = open_type("q8_0");
	static conc_arg a[3];
	pthread_t       th[3];

	CHECK(m != NULL, "open");
	if (!m)
		return;
	for (int i = 0; i < 3; i++)
	{
		a[i].m = m;
		CHECK(pthread_create(&th[i], NULL, conc_run, &a[i]) == 0, "thread");
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 3; i++)
	{
		CHECK(a[i].st == PLLM_OK, "thread %d failed", i);
		CHECK(max_abs_diff(a[i].out[0], a[0].out[0], N_SEQ * E) == 0.0, "thread %d differs", i);
	}
	pllm_model_close(m);
}

int
main(void)
{
	load_inputs();
	RUN(test_bert_f32);
	RUN(test_bert_f16);
	RUN(test_bert_q8_0);
	RUN(test_bert_q4_0);
	RUN(test_bert_q4_k);
	RUN(test_bert_q6_k);
	RUN(test_embed_pooling_kinds);
	RUN(test_embed_pooling_none);
	RUN(test_embed_truncation);
	RUN(test_embed_bad_args);
	RUN(test_embed_cancel);
	RUN(test_embed_concurrent);
	return UNIT_DONE();
}
