/*
 * embed_ops.c -- numeric helpers of the embedding path, written to reproduce
 * ggml's CPU ops (so F32 files agree with llama.cpp to ~1e-5): layer norm with
 * double sums, GELU through ggml's F16 lookup table, linear layers through
 * OpenBLAS (F32) or kern_matmul (F16/quantized), and a parallel-for on the pool.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "blas.h"
#include "embed_internal.h"
#include "kernels.h"
#include "threadpool.h"

/* ---- parallel for ---------------------------------------------------------- */

typedef struct par_task
{
	pllm_range_fn fn;
	void         *arg;
	int64_t       n;
	int           cap;
} par_task;

static void
par_run(void *p, int ith, int nth)
{
	par_task *t = p;
	int       use = nth < t->cap ? nth : t->cap;
	int64_t   b, e;

	if (ith >= use)
		return;
	kern_split_range(t->n, 1, ith, use, &b, &e);
	if (b < e)
		t->fn(t->arg, b, e, ith);
}

void
pllm_embed_parallel(int n_threads, int64_t n, pllm_range_fn fn, void *arg)
{
	par_task t = {fn, arg, n, n_threads < 1 ? 1 : n_threads};

	if (n <= 0)
		return;
	if (t.cap == 1 || n == 1)
	{
		fn(arg, 0, n, 0);
		return;
	}
	if (t.cap > n)
		t.cap = (int) n;
	kern_pool_run(par_run, &t);
}

/* ---- linear layers ------------------------------------------------------- */

/*
 * OpenBLAS takes a different path (other summation order) for products with
 * very few rows (m <= 4 measured with 0.3.21), and for m >= 5 each output row is
 * bit-identical whatever m is. Padding small products to this many rows keeps a
 * sequence's result independent of the batch it runs in.
 */
#define LIN_MIN_ROWS 8

size_t
pllm_embed_linear_scratch(const pllm_weight *w, int64_t n_tok)
{
	if (w->type == PLLM_TYPE_F32)
		return n_tok < LIN_MIN_ROWS ? (size_t) LIN_MIN_ROWS * (size_t) (w->ne[0] + w->ne[1]) * sizeof(float) : 0;
	return kern_matmul_scratch_bytes(w->type, w->ne[0], n_tok);
}

typedef struct lin_task
{
	const pllm_weight *w, *b;
	const float       *x;
	float             *out;
	char              *scratch;
	size_t             act_row;   /* scratch bytes per token */
} lin_task;

static void
lin_add_bias(const pllm_weight *b, float *out, int64_t n_tok, int64_t rows)
{
	const float *bv = b ? b->data : NULL;

	if (!bv)
		return;
	for (int64_t t = 0; t < n_tok; t++)
		for (int64_t r = 0; r < rows; r++)
			out[t * rows + r] += bv[r];
}

/* Tokens [t0, t1): every token's row is computed alone, so splits don't change results. */
static void
lin_range(void *p, int64_t t0, int64_t t1, int ith)
{
	lin_task *L = p;
	int64_t   cols = L->w->ne[0], rows = L->w->ne[1];

	(void) ith;
	kern_matmul(L->w->type, L->w->data, rows, cols, L->x + t0 * cols, t1 - t0,
				L->out + t0 * rows, L->scratch + (size_t) t0 * L->act_row);
	lin_add_bias(L->b, L->out + t0 * rows, t1 - t0, rows);
}

void
pllm_embed_linear(const pllm_weight *w, const pllm_weight *b, const float *x, int64_t n_tok,
				  float *out, void *scratch, int n_threads)
{
	int64_t cols = w->ne[0], rows = w->ne[1];

	if (w->type == PLLM_TYPE_F32)
	{
		/* x (n_tok, cols) . W (rows, cols)^T -> out (n_tok, rows) */
		if (n_tok < LIN_MIN_ROWS)
		{
			float *xp = scratch, *op = xp + LIN_MIN_ROWS * cols;

			memcpy(xp, x, (size_t) (n_tok * cols) * sizeof(float));
			memset(xp + n_tok * cols, 0, (size_t) ((LIN_MIN_ROWS - n_tok) * cols) * sizeof(float));
			kern_sgemm_nt(LIN_MIN_ROWS, rows, cols, xp, cols, w->data, cols, op, rows);
			memcpy(out, op, (size_t) (n_tok * rows) * sizeof(float));
		}
		else if (n_threads > 1)
			kern_sgemm_nt_mt(n_tok, rows, cols, x, cols, w->data, cols, out, rows);
		else
			kern_sgemm_nt(n_tok, rows, cols, x, cols, w->data, cols, out, rows);
		lin_add_bias(b, out, n_tok, rows);
	}
	else
	{
		lin_task L = {w, b, x, out, scratch, kern_matmul_scratch_bytes(w->type, cols, 1)};

		/* kern_matmul is single-threaded: we split tokens over the pool here. */
		pllm_embed_parallel(n_threads, n_tok, lin_range, &L);
	}
}

/* ---- layer norm ---------------------------------------------------------- */

void
pllm_embed_layer_norm(const float *x, const float *w, const float *b, float *y, int64_t n,
					  float eps)
{
	double sum = 0.0, sum2 = 0.0;
	float  mean, scale;
	int64_t i;

	for (i = 0; i < n; i++)
		sum += (double) x[i];
	mean = (float) (sum / (double) n);
	for (i = 0; i < n; i++)
	{
		float v = x[i] - mean;

		y[i] = v;
		sum2 += (double) (v * v);
	}
	scale = 1.0f / sqrtf((float) (sum2 / (double) n) + eps);
	for (i = 0; i < n; i++)
		y[i] = (y[i] * scale) * w[i] + b[i];
}

/* ---- GELU ---------------------------------------------------------------- */

/*
 * ggml_table_gelu_f16, indexed by the fp16 bits of x and holding fp16(gelu_tanh(x))
 * computed in float as ggml does; stored here already widened to f32.
 */
static float          gelu_table[1 << 16];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static void
gelu_table_build(void)
{
	const float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
	const float coef_a = 0.044715f;

	for (uint32_t i = 0; i < (1u << 16); i++)
	{
		float x = kern_fp16_to_fp32((uint16_t) i);
		float g = 0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * x * (1.0f + coef_a * x * x)));

		gelu_table[i] = kern_fp16_to_fp32(kern_fp32_to_fp16(g));
	}
}

void
pllm_embed_gelu(float *x, int64_t n)
{
	uint16_t h[256];

	pthread_once(&gelu_once, gelu_table_build);
	for (int64_t i0 = 0; i0 < n; i0 += 256)
	{
		int64_t m = n - i0 < 256 ? n - i0 : 256;
		float  *v = x + i0;

		kern_fp32_to_fp16_row(v, h, m);
		for (int64_t i = 0; i < m; i++)
		{
			if (v[i] <= -10.0f)
				v[i] = 0.0f;
			else if (v[i] < 10.0f)
				v[i] = gelu_table[h[i]];
		}
	}
}
