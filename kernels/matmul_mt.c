/*
 * matmul_mt.c -- kern_matmul split over the thread pool: activations are
 * converted once (tokens split over the threads), then each thread takes a
 * slice of the weight rows (kern_matmul_rows). kern_matmul_mt_multi does the
 * same for several weights that read the same activations (q/k/v, gate/up) in
 * one pool run. Called from the computing thread only, never from inside a
 * pool task.
 *
 * F32 stays on our own kernels: OpenBLAS's float summation order moved tiny-llama
 * F32 logits 1.3e-4 from llama.cpp's (the fixture bound is 1e-4), while the
 * double-accumulating rows stay at 5e-5. Encoders, whose bound is looser per
 * step, call kern_sgemm_nt themselves.
 */
#include "kernels.h"
#include "threadpool.h"

/* Below this many multiply-adds, waking the pool costs more than it saves. */
#define MT_MIN_WORK   ((int64_t) 1 << 16)
/* Activations converted on the pool from this many tokens on. */
#define MT_PREP_TOK   4
/* Rows per thread slice are a multiple of this (the row tile is 4). */
#define MT_ROW_ALIGN  16

typedef struct mt_task
{
	uint32_t     wtype;
	const void  *w;
	int64_t      rows, cols, n_tok;
	const float *x;
	float       *out;
	void        *scratch;
	const void  *act;
} mt_task;

/* tokens [b, e) of x -> their converted rows in scratch */
static void
mt_prepare(void *arg, int ith, int nth)
{
	mt_task *t = arg;
	int64_t  b, e;
	size_t   a_row = kern_matmul_scratch_bytes(t->wtype, t->cols, 1);

	kern_split_range(t->n_tok, 1, ith, nth, &b, &e);
	if (b < e)
		kern_matmul_prepare(t->wtype, t->cols, t->x + b * t->cols, e - b, (char *) t->scratch + (size_t) b * a_row);
}

static void
mt_rows(void *arg, int ith, int nth)
{
	mt_task *t = arg;
	int64_t  b, e;

	kern_split_range(t->rows, MT_ROW_ALIGN, ith, nth, &b, &e);
	if (b < e)
		kern_matmul_rows(t->wtype, t->w, t->rows, t->cols, b, e, t->act, t->n_tok, t->out);
}

/* W (rows, cols) of type wtype @ x (n_tok, cols) -> out (n_tok, rows), on the pool */
void
kern_matmul_mt(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
			   const float *x, int64_t n_tok, float *out, void *scratch)
{
	mt_task t = {wtype, w, rows, cols, n_tok, x, out, scratch, NULL};
	int     nth = kern_pool_threads();

	if (nth <= 1 || rows * cols * n_tok < MT_MIN_WORK || rows < 2 * MT_ROW_ALIGN)
	{
		kern_matmul(wtype, w, rows, cols, x, n_tok, out, scratch);
		return;
	}
	if (n_tok >= MT_PREP_TOK && kern_matmul_scratch_bytes(wtype, cols, 1) > 0 &&
		kern_matmul_prepare(wtype, cols, x, 0, scratch) != NULL)
	{
		kern_pool_run(mt_prepare, &t);
		t.act = scratch;
	}
	else
		t.act = kern_matmul_prepare(wtype, cols, x, n_tok, scratch);
	/* an unusable type or shape gives NaN rows, as kern_matmul does */
	kern_pool_run(mt_rows, &t);
}

/* ---- several weights, one activation ------------------------------------- */

typedef struct mt_multi
{
	const kern_mm_part *parts;
	int                 n_parts;
	int64_t             cols, n_tok, total;   /* total: rows of all parts */
	const void         *act;
} mt_multi;

/* rows [b, e) of the parts laid end to end */
static void
mt_multi_rows(void *arg, int ith, int nth)
{
	mt_multi *m = arg;
	int64_t   b, e, base = 0;

	kern_split_range(m->total, MT_ROW_ALIGN, ith, nth, &b, &e);
	for (int i = 0; i < m->n_parts && base < e; base += m->parts[i].rows, i++)
	{
		const kern_mm_part *p = &m->parts[i];
		int64_t             lo = b > base ? b - base : 0, hi = e - base < p->rows ? e - base : p->rows;

		if (lo < hi)
			kern_matmul_rows(p->wtype, p->w, p->rows, m->cols, lo, hi, m->act, m->n_tok, p->out);
	}
}

/* out_i (n_tok, rows_i) = x (n_tok, cols) . W_i^T for every part, on the pool */
void
kern_matmul_mt_multi(const kern_mm_part *parts, int n_parts, int64_t cols, const float *x, int64_t n_tok,
					 void *scratch)
{
	const kern_type_traits *t0 = n_parts > 0 ? kern_traits(parts[0].wtype) : NULL;
	mt_multi                m = {parts, n_parts, cols, n_tok, 0, NULL};
	bool                    same = t0 != NULL;

	for (int i = 0; i < n_parts; i++)
	{
		const kern_type_traits *t = kern_traits(parts[i].wtype);

		same = same && t && t->vec_dot_type == t0->vec_dot_type;
		m.total += parts[i].rows;
	}
	if (!same || n_parts == 1 || kern_pool_threads() <= 1 || m.total * cols * n_tok < MT_MIN_WORK)
	{
		for (int i = 0; i < n_parts; i++)
			kern_matmul_mt(parts[i].wtype, parts[i].w, parts[i].rows, cols, x, n_tok, parts[i].out, scratch);
		return;
	}
	/* every part reads the same converted activations (an unusable shape gives NaN rows) */
	if (n_tok >= MT_PREP_TOK && kern_matmul_scratch_bytes(parts[0].wtype, cols, 1) > 0 &&
		kern_matmul_prepare(parts[0].wtype, cols, x, 0, scratch) != NULL)
	{
		mt_task t = {parts[0].wtype, NULL, 0, cols, n_tok, x, NULL, scratch, NULL};

		kern_pool_run(mt_prepare, &t);
		m.act = scratch;
	}
	else
		m.act = kern_matmul_prepare(parts[0].wtype, cols, x, n_tok, scratch);
	kern_pool_run(mt_multi_rows, &m);
}
