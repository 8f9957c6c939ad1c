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

/*
 * gemm(cols, w, w_stride, nr, act, a_stride, nt, out, ldo): out[t * ldo + r] =
 * W row r . activation row t for r < nr, t < nt, where rows are w_stride and
 * a_stride bytes apart and act is already in vec_dot_type. Each (r, t) result
 * is the same whatever nr, nt and the split: threads may take any rows.
 */
typedef void  (*kern_gemm_fn)(int64_t cols, const void *w, size_t w_stride, int64_t nr,
							  const void *act, size_t a_stride, int64_t nt, float *out, int64_t ldo);

typedef struct kern_type_traits
{
	const char     *name;          /* "q4_K" */
	int64_t         block_size;    /* elements per block */
	size_t          block_bytes;   /* bytes per block */
	pllm_type       vec_dot_type;  /* what activations become before the dot */
	kern_dequant_fn dequant_row;   /* NULL when the type cannot be read */
	kern_quant_fn   quant_row;     /* NULL unless we can produce this type */
	kern_vec_dot_fn vec_dot;       /* weight row . activation row (vec_dot_type) */
	kern_gemm_fn    gemm;          /* tiled rows x tokens product; NULL: vec_dot per pair */
} kern_type_traits;

/* NULL for unknown or unsupported types. */
const kern_type_traits *kern_traits(uint32_t type);

/*
 * Traits of any type we can produce or read, including the activation-only types
 * Q8_1 and Q8_K (whose vec_dot is NULL); NULL for types we know nothing of.
 */
const kern_type_traits *kern_type_info(uint32_t type);

/*
 * The weight traits of one kernel family (a kern_isa from cpu.h), regardless of
 * PLLM_KERNELS: for tests comparing SIMD variants with the scalar reference.
 * NULL when the type is unsupported or the CPU lacks that family.
 */
const kern_type_traits *kern_traits_for_isa(uint32_t type, int isa);

/* Rows of f16/bf16 from/to f32 (n elements each). */
void   kern_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n);
void   kern_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n);
void   kern_bf16_to_fp32_row(const uint16_t *src, float *dst, int64_t n);
void   kern_fp32_to_bf16_row(const float *src, uint16_t *dst, int64_t n);

/*
 * Matrix product out(n_tok, rows) = x(n_tok, cols) . W(rows, cols)^T, where W
 * is `rows` rows of `cols` elements of type wtype at w. Activations are first
 * converted to the weight's vec_dot_type (as ggml does), into scratch, which
 * must hold kern_matmul_scratch_bytes(wtype, cols, n_tok) bytes. No allocation.
 */
size_t kern_matmul_scratch_bytes(uint32_t wtype, int64_t cols, int64_t n_tok);
void   kern_matmul(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
				   const float *x, int64_t n_tok, float *out, void *scratch);

/*
 * The same product in two steps, so callers can split the rows over threads
 * (kern_matmul itself is single-threaded and may run inside pool tasks):
 * kern_matmul_prepare converts x once into scratch and returns the activations
 * to pass on (x itself for F32 weights; NULL if wtype/cols are unusable);
 * kern_matmul_rows then fills out[t * rows + r] for r in [r0, r1) only.
 */
const void *kern_matmul_prepare(uint32_t wtype, int64_t cols, const float *x, int64_t n_tok,
								void *scratch);
void   kern_matmul_rows(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
						int64_t r0, int64_t r1, const void *act, int64_t n_tok, float *out);

/*
 * The product of kern_matmul split over the thread pool (kern_pool_run), for
 * callers on the computing thread outside pool tasks (never inside one: the
 * pool does not nest). Small products stay on the calling thread. Same scratch
 * as kern_matmul; results are bit-identical to kern_matmul's.
 */
void   kern_matmul_mt(uint32_t wtype, const void *w, int64_t rows, int64_t cols,
					  const float *x, int64_t n_tok, float *out, void *scratch);

/*
 * Several products of the same activations in one pool run (q/k/v, gate/up):
 * part i computes out_i (n_tok, rows_i) = x (n_tok, cols) . W_i^T. Results are
 * bit-identical to kern_matmul per part; scratch as for kern_matmul of any one
 * part. Parts whose weights need different activation types run one by one.
 */
typedef struct kern_mm_part
{
	uint32_t    wtype;
	const void *w;
	int64_t     rows;
	float      *out;
} kern_mm_part;

void   kern_matmul_mt_multi(const kern_mm_part *parts, int n_parts, int64_t cols, const float *x,
							int64_t n_tok, void *scratch);

/*
 * Attention over a key/value cache (attn_rows.c): k . q for an f32 or f16 K row
 * and f32 q, and out += p * v for an f32 or f16 V row, n elements. The active
 * family's SIMD variant; _ref: the scalar ones (float sum in element order).
 * axpy rounds as the scalar code does in every family; dot's order differs.
 */
float  kern_attn_dot_f32(int64_t n, const float *k, const float *q);
float  kern_attn_dot_f16(int64_t n, const uint16_t *k, const float *q);
void   kern_attn_axpy_f32(int64_t n, float p, const float *v, float *out);
void   kern_attn_axpy_f16(int64_t n, float p, const uint16_t *v, float *out);
float  kern_attn_dot_f32_ref(int64_t n, const float *k, const float *q);
float  kern_attn_dot_f16_ref(int64_t n, const uint16_t *k, const float *q);
void   kern_attn_axpy_f32_ref(int64_t n, float p, const float *v, float *out);
void   kern_attn_axpy_f16_ref(int64_t n, float p, const uint16_t *v, float *out);

/* Copy row r of a (rows, cols) matrix of type wtype into dst as f32 (embedding lookup). */
void   kern_get_row(uint32_t wtype, const void *w, int64_t cols, int64_t r, float *dst);

#endif
