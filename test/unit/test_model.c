/*
 * test_model.c -- decoder logits against llama.cpp's reference fixtures
 * (test/data/fixtures, from ../shared/fixtures; see README there): tiny-llama
 * and tiny-qwen2 in every shipped file type. Each sequence is run as ONE batch
 * (every position's logits compared), then the 16 greedy steps are replayed one
 * token at a time with llama.cpp's own greedy ids, comparing each gen_logits row.
 * Tolerances are the README's "Recommended tolerances" table, never widened.
 * Greedy ids must equal the reference where the reference margin (top1 - top2)
 * exceeds twice the max-abs tolerance (then no legitimate drift can flip it).
 */
#include <cjson/cJSON.h>
#include <stdint.h>

#include "pg_llm/model.h"
#include "pg_llm/session.h"
#include "unit.h"

typedef struct type_tol
{
	const char *type;
	double      max_abs;
	double      mean_abs;
	double      min_top1;   /* README's measured top-1 agreement of llama.cpp's type T with F32 */
} type_tol;

/*
 * fixtures/README.md, "Recommended tolerances" (decoder logits). Our top-1
 * (argmax) agreement with the same-type reference must be at least the
 * agreement llama.cpp's own type-T run has with F32 (the table's last column).
 */
static const type_tol tolerances[] = {
	{"f32", 1e-4, 5e-6, 1.000},
	{"f16", 0.5, 0.02, 0.993},
	{"bf16", 5, 0.1, 0.986},
	{"q8_0", 20, 0.5, 0.979},
	{"q4_0", 100, 5, 0.688},
	{"q4_1", 100, 5, 0.645},
	{"q5_0", 50, 2, 0.752},
	{"q5_1", 50, 2, 0.887},
	{"q4_k", 100, 5, 0.695},
	{"q5_k", 50, 2, 0.830},
	{"q6_k", 20, 1, 0.915},
};

#define N_VOCAB 512
#define N_GEN   16

typedef struct err_acc
{
	double max_abs;
	double sum_abs;
	long   n;
	long   over;        /* elements over the max-abs limit */
	long   argmax_checked;
	long   argmax_bad;
	long   rows;
	long   top1_same;    /* rows whose argmax equals the reference argmax */
} err_acc;

static int
argmax_row(const float *row)
{
	int i, best = 0;

	for (i = 1; i < N_VOCAB; i++)
		if (row[i] > row[best])
			best = i;
	return best;
}

/* Compare one row; f32 allows +1e-6*|ref| for |ref| > 100 (README). */
static void
acc_row(err_acc *a, const float *got, const float *ref, const type_tol *tol, bool is_f32)
{
	int i;

	for (i = 0; i < N_VOCAB; i++)
	{
		double d = fabs((double) got[i] - (double) ref[i]);
		double lim = tol->max_abs;

		if (is_f32 && fabs(ref[i]) > 100.0)
			lim += 1e-6 * fabs(ref[i]);
		if (d > a->max_abs)
			a->max_abs = d;
		if (d > lim)
			a->over++;
		a->sum_abs += d;
		a->n++;
	}
}

static void
acc_argmax(err_acc *a, const float *got, int ref_id, double ref_margin, const type_tol *tol)
{
	a->rows++;
	a->top1_same += argmax_row(got) == ref_id;
	if (ref_margin > 2.0 * tol->max_abs)
	{
		a->argmax_checked++;
		if (argmax_row(got) != ref_id)
			a->argmax_bad++;
	}
}

static float *
read_f32(const char *path, size_t n_expected)
{
	size_t len = 0;
	char  *data = unit_read_file(path, &len);

	if (data && len != n_expected * sizeof(float))
	{
		free(data);
		return NULL;
	}
	return (float *) data;
}

static int
json_int_at(const cJSON *arr, int i)
{
	const cJSON *it = cJSON_GetArrayItem(arr, i);

	return it ? (int) it->valuedouble : -1;
}

static double
json_num_at(const cJSON *arr, int i)
{
	const cJSON *it = cJSON_GetArrayItem(arr, i);

	return it ? it->valuedouble : 0.0;
}

/* Run one model file against its fixture directory. */
static void
check_model_type(const char *model, const type_tol *tol)
{
	char            path[512], rel[256];
	pllm_error      err;
	pllm_model     *m = NULL;
	pllm_session   *s = NULL;
	pllm_session_opts so = pllm_session_opts_default();
	char           *jsonl, *line, *save = NULL;
	err_acc         a;
	bool            is_f32 = strcmp(tol->type, "f32") == 0;
	int             seq = 0;

	memset(&a, 0, sizeof(a));
	snprintf(rel, sizeof(rel), "fixtures/%s/%s/results.jsonl", model, tol->type);
	jsonl = unit_read_file(unit_data(rel), NULL);
	if (!jsonl)
		return;     /* type not shipped for this model */
	snprintf(rel, sizeof(rel), "models/%s-%s.gguf", model, tol->type);
	snprintf(path, sizeof(path), "%s", unit_data(rel));
	CHECK(pllm_model_open_file(path, NULL, &m, &err) == PLLM_OK, "%s: %s", path, err.msg);
	if (!m)
	{
		free(jsonl);
		return;
	}
	so.n_ctx = 256;
	so.n_batch = 256;
	CHECK(pllm_session_create(m, &so, &s, &err) == PLLM_OK, "session: %s", err.msg);
	for (line = strtok_r(jsonl, "\n", &save); s && line; line = strtok_r(NULL, "\n", &save), seq++)
	{
		cJSON       *j = cJSON_Parse(line);
		const cJSON *ids = cJSON_GetObjectItem(j, "ids");
		const cJSON *argm = cJSON_GetObjectItem(j, "argmax");
		const cJSON *marg = cJSON_GetObjectItem(j, "margin");
		const cJSON *gen = cJSON_GetObjectItem(j, "gen_ids");
		const cJSON *gmarg = cJSON_GetObjectItem(j, "gen_margin");
		int          n = cJSON_GetArraySize(ids), p, k;
		int32_t      tok[256];
		float       *ref, *gref;

		CHECK(j && n > 0 && n <= 200 && cJSON_GetArraySize(gen) == N_GEN, "%s seq %d: bad results.jsonl", rel, seq);
		if (!j || n <= 0 || n > 200)
		{
			cJSON_Delete(j);
			continue;
		}
		for (p = 0; p < n; p++)
			tok[p] = json_int_at(ids, p);
		snprintf(rel, sizeof(rel), "fixtures/%s/%s/s%d.logits.f32", model, tol->type, seq);
		ref = read_f32(unit_data(rel), (size_t) n * N_VOCAB);
		snprintf(rel, sizeof(rel), "fixtures/%s/%s/s%d.gen_logits.f32", model, tol->type, seq);
		gref = read_f32(unit_data(rel), (size_t) N_GEN * N_VOCAB);
		CHECK(ref && gref, "missing logits for %s %s seq %d", model, tol->type, seq);
		if (ref && gref)
		{
			/* prompt: one batch, all logits */
			pllm_session_reset(s);
			CHECK(pllm_session_eval(s, tok, n, true, &err) == PLLM_OK, "eval: %s", err.msg);
			CHECK(pllm_session_n_logit_rows(s) == n, "rows %d != %d", pllm_session_n_logit_rows(s), n);
			for (p = 0; p < n && pllm_session_logits(s, p); p++)
			{
				acc_row(&a, pllm_session_logits(s, p), ref + (size_t) p * N_VOCAB, tol, is_f32);
				acc_argmax(&a, pllm_session_logits(s, p), json_int_at(argm, p), json_num_at(marg, p), tol);
			}
			/* greedy steps, one token per eval, fed with the reference ids */
			for (k = 0; k < N_GEN; k++)
			{
				const float *row;

				if (k > 0)
				{
					int32_t id = json_int_at(gen, k - 1);

					if (pllm_session_eval(s, &id, 1, false, &err) != PLLM_OK)
					{
						CHECK(0, "decode step %d: %s", k, err.msg);
						break;
					}
				}
				row = pllm_session_logits(s, pllm_session_n_logit_rows(s) - 1);
				acc_row(&a, row, gref + (size_t) k * N_VOCAB, tol, is_f32);
				acc_argmax(&a, row, json_int_at(gen, k), json_num_at(gmarg, k), tol);
			}
		}
		free(ref);
		free(gref);
		cJSON_Delete(j);
	}
	printf("# %-10s %-5s max abs %.3g (limit %g), mean abs %.3g (limit %g), top-1 %.3f (min %.3f), "
		   "decisive argmax checked %ld bad %ld\n",
		   model, tol->type, a.max_abs, tol->max_abs, a.n ? a.sum_abs / a.n : 0.0, tol->mean_abs,
		   a.rows ? (double) a.top1_same / a.rows : 0.0, tol->min_top1, a.argmax_checked, a.argmax_bad);
	CHECK(a.rows == 205 && (double) a.top1_same / a.rows >= tol->min_top1, "%s %s: top-1 agreement %ld/%ld < %g",
		  model, tol->type, a.top1_same, a.rows, tol->min_top1);
	CHECK(seq == 4, "%s %s: %d sequences", model, tol->type, seq);
	CHECK(a.n > 0 && a.over == 0, "%s %s: %ld logits over max abs %g (max %g)", model, tol->type, a.over,
		  tol->max_abs, a.max_abs);
	CHECK(a.n > 0 && a.sum_abs / a.n <= tol->mean_abs, "%s %s: mean abs %g > %g", model, tol->type,
		  a.n ? a.sum_abs / a.n : 0.0, tol->mean_abs);
	CHECK(a.argmax_bad == 0, "%s %s: %ld greedy ids differ where the margin is decisive", model, tol->type,
		  a.argmax_bad);
	if (is_f32)
		CHECK(a.argmax_checked > 150, "f32: only %ld rows checked for argmax", a.argmax_checked);
	pllm_session_free(s);
	pllm_model_close(m);
	free(jsonl);
}

static void
test_tiny_llama_types(void)
{
	size_t i;
	int    found = 0;

	for (i = 0; i < sizeof(tolerances) / sizeof(tolerances[0]); i++)
	{
		char rel[128];
		char *probe;

		snprintf(rel, sizeof(rel), "fixtures/tiny-llama/%s/results.jsonl", tolerances[i].type);
		probe = unit_read_file(unit_data(rel), NULL);
		found += probe != NULL;
		free(probe);
		check_model_type("tiny-llama", &tolerances[i]);
	}
	CHECK(found == 11, "tiny-llama: %d of 11 fixture types found", found);
}

static void
test_tiny_qwen2_types(void)
{
	size_t i;
	int    found = 0;

	for (i = 0; i < sizeof(tolerances) / sizeof(tolerances[0]); i++)
	{
		char rel[128];
		char *probe;

		snprintf(rel, sizeof(rel), "fixtures/tiny-qwen2/%s/results.jsonl", tolerances[i].type);
		probe = unit_read_file(unit_data(rel), NULL);
		found += probe != NULL;
		free(probe);
		check_model_type("tiny-qwen2", &tolerances[i]);
	}
	CHECK(found == 8, "tiny-qwen2: %d of 8 fixture types found", found);
}

/* Hyper-parameters read from the files match fixtures/README.md. */
static void
test_model_info(void)
{
	pllm_error      err;
	pllm_model     *m = NULL;
	pllm_model_info in;

	CHECK(pllm_model_open_file(unit_data("models/tiny-llama-f32.gguf"), NULL, &m, &err) == PLLM_OK, "%s", err.msg);
	if (m)
	{
		pllm_model_get_info(m, &in);
		CHECK(strcmp(in.arch, "llama") == 0, "arch %s", in.arch);
		CHECK(in.n_layer == 2 && in.n_embd == 256 && in.n_head == 8 && in.n_head_kv == 4 &&
			  in.head_dim == 32 && in.n_ff == 512 && in.n_vocab == 512 && in.n_ctx_train == 256,
			  "llama hparams %u %u %u %u %u %u %u %u", in.n_layer, in.n_embd, in.n_head, in.n_head_kv,
			  in.head_dim, in.n_ff, in.n_vocab, in.n_ctx_train);
		CHECK(in.rope_base == 10000.0f && !in.rope_neox && !in.tied_output, "rope %g neox %d tied %d",
			  in.rope_base, in.rope_neox, in.tied_output);
		CHECK_NEAR(in.norm_eps, 1e-5, 1e-12);
		CHECK(in.n_tensors == 21 && in.n_types == 1 && in.type_id[0] == 0 && in.type_count[0] == 21,
			  "tensors %u types %u", in.n_tensors, in.n_types);
		CHECK(in.file_bytes == 5784448, "bytes %llu", (unsigned long long) in.file_bytes);
		pllm_model_close(m);
	}
	m = NULL;
	CHECK(pllm_model_open_file(unit_data("models/tiny-qwen2-q8_0.gguf"), NULL, &m, &err) == PLLM_OK, "%s", err.msg);
	if (m)
	{
		pllm_model_get_info(m, &in);
		CHECK(strcmp(in.arch, "qwen2") == 0 && in.rope_neox && in.tied_output, "qwen2 %s neox %d tied %d",
			  in.arch, in.rope_neox, in.tied_output);
		CHECK(in.n_head == 4 && in.n_head_kv == 2 && in.head_dim == 64 && in.n_ff == 768,
			  "qwen2 heads %u/%u dim %u ff %u", in.n_head, in.n_head_kv, in.head_dim, in.n_ff);
		CHECK(in.rope_base == 1e6f, "rope base %g", in.rope_base);
		CHECK(in.n_types == 2, "types %u", in.n_types);
		pllm_model_close(m);
	}
}

int
main(void)
{
	RUN(test_model_info);
	RUN(test_tiny_llama_types);
	RUN(test_tiny_qwen2_types);
	return UNIT_DONE();
}
