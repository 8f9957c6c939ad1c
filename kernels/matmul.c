/*
 * matmul.c -- the matrix products of the forward passes: activations are first
 * converted to the weight type's vec_dot_type (as ggml does, so results match its
 * rounding), then every weight row is dotted with every token's row. Single
 * threaded (callers split tokens, or rows through kern_matmul_rows, over the
 * pool); allocates nothing.
 */
#include <math.h>

#include "kernels.h"

/* Bytes of one converted activation row; F32 weights use x as it is. */
static size_t
act_row_bytes(const kern_type_traits *tr, int64_t cols)
{
	if (tr->vec_dot_type == PLLM_TYPE_F32)
		return 0;
	return pllm_type_row_bytes(tr->vec_dot_type, cols);
}

size_t
kern_matmul_scratch_bytes(uint32_t wtype, int64_t cols, int64_t n_tok)
{
	const kern_type_traits *tr = kern_traits(wtype);

	if (!tr || n_tok <= 0)
		return 0;
	return act_row_bytes(tr, cols) * (size_t) n_tok;
}

/* Traits of wtype when a (rows, cols) product is computable, else NULL. */
static const kern_type_traits *
matmul_traits(uint32_t wtype, int64_t cols)
{
	const kern_type_traits *tr = kern_traits(wtype);
	const kern_type_traits *at = tr ? kern_type_info(tr->vec_dot_type) : NULL;

	if (!tr || !at || !at->quant_row || cols <= 0 || pllm_type_row_bytes(wtype, cols) == 0 ||
		pllm_type_row_bytes(tr->vec_dot_type, cols) == 0)
		return NULL;
	return tr;
}

/* x (n_tok, cols) f32 -> activations of wtype's vec_dot_type, in scratch */
const void *
kern_matmul_prepare(uint32_t wtype, int64_t cols, const float *x, int64_t n_tok, void *scratch)
{
	const kern_type_traits *tr = matmul_traits(wtype, cols);
	const kern_type_traits *at;
	size_t                  a_row;

	if (!tr)
		return NULL;
	if (tr->vec_dot_type == PLLM_TYPE_F32)
		return x;
	/* the active family's converter when it has one (same results as the reference) */
	at = kern_traits(tr->vec_dot_type);
	if (!at || !at->quant_row)
		at = kern_type_info(tr->vec_dot_type);
	a_row = act_row_bytes(tr, cols);
	for (int64_t t = 0; t < n_tok; t++)
		at->quant_row(x + t * cols, (char *) scratch + (size_t) t * a_row, cols);
	return scratch;
}

/* W[r0:r1] (r1-r0, cols) @ act (n_tok, cols) -> out[t * rows + r], r in [r0, r1) */
void
kern_matmul_rows(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
				 int64_t r0, int64_t r1, const void *act, int64_t n_tok, float *out)
{
	const kern_type_traits *tr = matmul_traits(wtype, cols);
	size_t                  w_row, a_row;

	if (!tr || !act)
	{
		for (int64_t t = 0; t < n_tok; t++)
			for (int64_t r = r0; r < r1; r++)
				out[t * rows + r] = NAN;
		return;
	}
	w_row = pllm_type_row_bytes(wtype, cols);
	a_row = tr->vec_dot_type == PLLM_TYPE_F32 ? (size_t) cols * sizeof(float) : act_row_bytes(tr, cols);
	if (tr->gemm)
	{
		if (r1 > r0)
			tr->gemm(cols, (const char *) w + (size_t) r0 * w_row, w_row, r1 - r0, act, a_row, n_tok,
					 out + r0, rows);
		return;
	}
	for (int64_t r = r0; r < r1; r++)
	{
		const char *wr = (const char *) w + (size_t) r * w_row;

		for (int64_t t = 0; t < n_tok; t++)
			out[t * rows + r] = tr->vec_dot(cols, wr, (const char *) act + (size_t) t * a_row);
	}
}

/*
 * W (rows, cols) of type wtype @ x (n_tok, cols) -> out (n_tok, rows).
 * Unsupported types or a cols that is not a whole number of blocks cannot be
 * reported from here (callers validate tensors when a model is opened), so
 * they produce NaN outputs rather than garbage.
 */
void
kern_matmul(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
			const float *x, int64_t n_tok, float *out, void *scratch)
{
	const void *act = kern_matmul_prepare(wtype, cols, x, n_tok, scratch);

	kern_matmul_rows(wtype, w, rows, cols, 0, rows, act, n_tok, out);
}

/* dst (cols,) = row r of W (rows, cols) as f32 */
void
kern_get_row(uint32_t wtype, const void *w, int64_t cols, int64_t r, float *dst)
{
	const kern_type_traits *tr = kern_type_info(wtype);
	size_t                  rb = pllm_type_row_bytes(wtype, cols);

	if (!tr || !tr->dequant_row || rb == 0)
	{
		for (int64_t i = 0; i < cols; i++)
			dst[i] = NAN;
		return;
	}
	tr->dequant_row((const char *) w + (size_t) r * rb, dst, cols);
}
