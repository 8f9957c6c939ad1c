/*
 * test_embed_decoder.c -- embeddings from decoder models (tiny-llama): the
 * per-token states are the output-normed final hidden states (checked by
 * projecting them through output.weight onto llama.cpp's logits), last-token
 * and mean pooling, normalisation, batch == single and truncation.
 */
#include <stdint.h>

#include "arch.h"
#include "kernels.h"
#include "pg_llm/embed.h"
#include "pg_llm/model.h"
#include "unit.h"

#define E      256
#define VOCAB  512
#define N_SEQ  4

/* fixtures/README.md, recommended tolerances, f32 logits: 1e-4 abs (+1e-6 |ref| above 100). */
#define LOGIT_TOL(ref) (1e-4 + (fabs(ref) > 100.0 ? 1e-6 * fabs(ref) : 0.0))
/* batch must equal one-at-a-time within this (the task's requirement) */
#define BATCH_TOL 1e-5

static int32_t seq_ids[N_SEQ][128];
static int     seq_len[N_SEQ];

static void
load_inputs(void)
{
	if (unit_read_id_lines(unit_data("fixtures/tiny-llama/inputs.txt"), &seq_ids[0][0], seq_len, N_SEQ, 128) != N_SEQ)
	{
		fprintf(stderr, "cannot read fixtures/tiny-llama/inputs.txt\n");
		exit(1);
	}
}

static pllm_model *
open_llama(void)
{
	pllm_model_opts mo = pllm_model_opts_default();
	pllm_model     *m = NULL;
	pllm_error      err = {0};

	mo.load_tokenizer = false;
	if (pllm_model_open_file(unit_data("models/tiny-llama-f32.gguf"), &mo, &m, &err) != PLLM_OK)
		printf("# open tiny-llama-f32: %s\n", err.msg);
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
			mx = d;
	}
	return mx;
}

/* output.weight . hidden state == llama.cpp's logits at every position. */
static void
test_decoder_states_match_logits(void)
{
	pllm_model  *m = open_llama();
	static float h[128 * E], logits[128 * VOCAB];
	pllm_error   err = {0};
	double       worst = 0.0;

	CHECK(m != NULL, "open");
	if (!m)
		return;
	CHECK(pllm_embed_dim(m) == E, "dim");
	CHECK(pllm_embed_model_pooling(m) == PLLM_POOLING_LAST, "decoder pooling %d", (int) pllm_embed_model_pooling(m));
	for (int s = 0; s < N_SEQ; s++)
	{
		char   name[128];
		size_t len = 0;
		float *ref;
		void  *scratch = malloc(kern_matmul_scratch_bytes(m->output.type, E, seq_len[s]) + 64);

		snprintf(name, sizeof(name), "fixtures/tiny-llama/f32/s%d.logits.f32", s);
		ref = (float *) unit_read_file(unit_data(name), &len);
		CHECK(ref && len == (size_t) seq_len[s] * VOCAB * sizeof(float), "%s", name);
		CHECK(pllm_embed_token_states(m, seq_ids[s], seq_len[s], NULL, h, &err) == PLLM_OK, "%s", err.msg);
		if (ref && scratch && len == (size_t) seq_len[s] * VOCAB * sizeof(float))
		{
			int bad = 0;

			kern_matmul(m->output.type, m->output.data, VOCAB, E, h, seq_len[s], logits, scratch);
			for (size_t i = 0; i < (size_t) seq_len[s] * VOCAB; i++)
			{
				double d = fabs((double) logits[i] - ref[i]);

				if (!(d <= LOGIT_TOL(ref[i])))
					bad++;
				if (d > worst)
					worst = d;
			}
			CHECK(bad == 0, "seq %d: %d logits outside the f32 bound", s, bad);
		}
		free(ref);
		free(scratch);
	}
	printf("# tiny-llama f32: logits from embedding states vs llama.cpp max abs %.3g\n", worst);
	pllm_model_close(m);
}

/* Pooling of the states: last (default) and mean; normalised; batch == single. */
static void
test_decoder_pooling_and_batch(void)
{
	pllm_model     *m = open_llama();
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static float    h[128 * E], single[N_SEQ][E], batch[N_SEQ][E], v[E];
	const int32_t  *ids[N_SEQ];
	int             s = 2, n = seq_len[2];
	double          nrm = 0.0;

	CHECK(m != NULL, "open");
	if (!m)
		return;
	for (int i = 0; i < N_SEQ; i++)
		ids[i] = seq_ids[i];
	CHECK(pllm_embed_token_states(m, seq_ids[s], n, NULL, h, &err) == PLLM_OK, "%s", err.msg);
	o.normalize = false;
	CHECK(pllm_embed_ids(m, &ids[s], &n, 1, &o, v, NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(max_abs_diff(v, h + (size_t) (n - 1) * E, E) == 0.0, "last-token pooling differs");
	o.pooling = PLLM_POOLING_MEAN;
	CHECK(pllm_embed_ids(m, &ids[s], &n, 1, &o, v, NULL, &err) == PLLM_OK, "%s", err.msg);
	for (int e = 0; e < E; e++)
	{
		double sum = 0.0;

		for (int t = 0; t < n; t++)
			sum += h[t * E + e];
		CHECK_NEAR(v[e], sum / n, 1e-5);
		if (fabs(v[e] - sum / n) > 1e-5)
			break;
	}
	o = pllm_embed_opts_default();
	for (int i = 0; i < N_SEQ; i++)
		CHECK(pllm_embed_ids(m, &ids[i], &seq_len[i], 1, &o, single[i], NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_embed_ids(m, ids, seq_len, N_SEQ, &o, batch[0], NULL, &err) == PLLM_OK, "%s", err.msg);
	CHECK(max_abs_diff(batch[0], single[0], N_SEQ * E) <= BATCH_TOL, "batch differs from single");
	for (int e = 0; e < E; e++)
		nrm += (double) batch[3][e] * batch[3][e];
	CHECK_NEAR(nrm, 1.0, 1e-6);
	pllm_model_close(m);
}

/* Longer than the training context (256): cut and flagged, or PLLM_ERR_LIMIT. */
static void
test_decoder_truncation(void)
{
	pllm_model     *m = open_llama();
	pllm_embed_opts o = pllm_embed_opts_default();
	pllm_error      err = {0};
	static int32_t  ids[300];
	static float    v[E], w[E];
	const int32_t  *p = ids;
	int             n = 300, n_cut = 256;
	bool            trunc = false;

	CHECK(m != NULL, "open");
	if (!m)
		return;
	CHECK(pllm_embed_max_tokens(m) == 256, "max tokens %u", pllm_embed_max_tokens(m));
	for (int i = 0; i < n; i++)
		ids[i] = (int32_t) ((i * 131 + 7) % 509);
	CHECK(pllm_embed_ids(m, &p, &n, 1, &o, v, &trunc, &err) == PLLM_OK, "%s", err.msg);
	CHECK(trunc, "not flagged");
	CHECK(pllm_embed_ids(m, &p, &n_cut, 1, &o, w, &trunc, &err) == PLLM_OK, "%s", err.msg);
	CHECK(!trunc, "flagged");
	CHECK(max_abs_diff(v, w, E) <= BATCH_TOL, "truncated differs from its head");
	o.truncate = false;
	CHECK(pllm_embed_ids(m, &p, &n, 1, &o, v, &trunc, &err) == PLLM_ERR_LIMIT, "limit not enforced");
	pllm_model_close(m);
}

int
main(void)
{
	load_inputs();
	RUN(test_decoder_states_match_logits);
	RUN(test_decoder_pooling_and_batch);
	RUN(test_decoder_truncation);
	return UNIT_DONE();
}
