/*
 * kernels.h -- CPU math used by the engine: per-type traits (block layout,
 * dequantize, activation quantize, dot product), fp16/bf16 conversion, and the
 * matrix products the forward passes call. Every operation has a scalar
 * reference (the test oracle); SIMD variants are chosen at run time.
 *
 * Conventions: a weight matrix W has `rows` rows of `cols` elements (cols = ne[0],
 * the GGUF row length), stored row by row in its type's blocks. Activations are
 * f32 row-major: x is (n_tok, cols), out is (n_tok, rows).
 */
#ifndef PG_LLM_KERNELS_H
#define PG_LLM_KERNELS_H

#include "pg_llm/types.h"

/* Half-precision conversions, bit-exact with IEEE round-to-nearest-even. */
float    kern_fp16_to_fp32(uint16_t h);
uint16_t kern_fp32_to_fp16(float f);
float    kern_bf16_to_fp32(uint16_t h);
uint16_t kern_fp32_to_bf16(float f);   /* round to nearest even, NaN kept quiet */

/*
 * dot(n, w_row, a_row): one weight row (type T) with one activation row already
 * converted to T's vec_dot_type. Returns the f32 result.
 */
typedef float (*kern_vec_dot_fn)(int64_t n, const void *w, const void *a);
typedef void  (*kern_dequant_fn)(const void *src, float *dst, int64_t n);
typedef void  (*kern_quant_fn)(const float *src, void *dst, int64_t n);

typedef struct kern_type_traits
{
	const char     *name;          /* "q4_K" */
	int64_t         block_size;    /* elements per block */
	size_t          block_bytes;   /* bytes per block */
	pllm_type       vec_dot_type;  /* what activations become before the dot */
	kern_dequant_fn dequant_row;   /* NULL when the type cannot be read */
	kern_quant_fn   quant_row;     /* NULL unless we can produce this type */
	kern_vec_dot_fn vec_dot;       /* weight row . activation row (vec_dot_type) */
} kern_type_traits;

/* NULL for unknown or unsupported types. */
const kern_type_traits *kern_traits(uint32_t type);

/*
 * Matrix product out(n_tok, rows) = x(n_tok, cols) . W(rows, cols)^T, where W
 * is `rows` rows of `cols` elements of type wtype at w. Activations are first
 * converted to the weight's vec_dot_type (as ggml does), into scratch, which
 * must hold kern_matmul_scratch_bytes(wtype, cols, n_tok) bytes. No allocation.
 */
size_t kern_matmul_scratch_bytes(uint32_t wtype, int64_t cols, int64_t n_tok);
void   kern_matmul(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
				   const float *x, int64_t n_tok, float *out, void *scratch);

/* Copy row r of a (rows, cols) matrix of type wtype into dst as f32 (embedding lookup). */
void   kern_get_row(uint32_t wtype, const void *w, int64_t cols, int64_t r, float *dst);

#endif
