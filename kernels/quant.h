/*
 * quant.h -- block layouts of the quantized types (byte-compatible with ggml/GGUF)
 * and the prototypes of every per-type kernel. Internal to kernels/: the engine
 * reaches these through kern_traits().
 *
 * Naming: kern_dequant_<type>, kern_quant_<type>, kern_vec_dot_<weight type>
 * (whose activation is the type's vec_dot_type), and _avx2/_avx512 suffixes for
 * SIMD variants of the same arithmetic.
 */
#ifndef PG_LLM_KERNELS_QUANT_H
#define PG_LLM_KERNELS_QUANT_H

#include <stdint.h>

#include "kernels.h"

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K  256
#define K_SCALE_SIZE 12

/* x = d * (q - 8), q in 0..15; element j in the low nibble of qs[j], j+16 in the high one. */
typedef struct { uint16_t d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
/* x = d * q + m */
typedef struct { uint16_t d; uint16_t m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
/* x = d * (q - 16); bit 4 of element j is bit j of the little-endian qh word. */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
/* x = d * q */
typedef struct { uint16_t d; int8_t qs[QK8_0]; } block_q8_0;
/* as q8_0, plus s = d * sum(qs) (both fp16) for the min terms of q4_1/q5_1 */
typedef struct { uint16_t d; uint16_t s; int8_t qs[QK8_1]; } block_q8_1;

/*
 * Super-blocks of 256. q4_K/q5_K: 8 sub-blocks of 32, each with a 6-bit scale
 * and 6-bit min packed into scales[12]; x = d*sc*q - dmin*m.
 */
typedef struct
{
	uint16_t d;
	uint16_t dmin;
	uint8_t  scales[K_SCALE_SIZE];
	uint8_t  qs[QK_K / 2];
} block_q4_K;

typedef struct
{
	uint16_t d;
	uint16_t dmin;
	uint8_t  scales[K_SCALE_SIZE];
	uint8_t  qh[QK_K / 8];
	uint8_t  qs[QK_K / 2];
} block_q5_K;

/* 16 sub-blocks of 16 with int8 scales; x = d * sc * (q - 32), q 6 bits. */
typedef struct
{
	uint8_t  ql[QK_K / 2];
	uint8_t  qh[QK_K / 4];
	int8_t   scales[QK_K / 16];
	uint16_t d;
} block_q6_K;

/* Activation type of the K-quants: f32 scale, sums of each 16 quants. */
typedef struct
{
	float   d;
	int8_t  qs[QK_K];
	int16_t bsums[QK_K / 16];
} block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 block size");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 block size");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 block size");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 block size");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 block size");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 block size");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K block size");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K block size");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K block size");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K block size");

/* Scale and min of sub-block j (0..7) of a q4_K/q5_K super-block, 6 bits each. */
static inline void
kern_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4)
	{
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	}
	else
	{
		*sc = (uint8_t) ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t) ((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
	}
}

/* f32 / f16 / bf16 rows (float_rows.c) */
void  kern_dequant_f32(const void *src, float *dst, int64_t n);
void  kern_quant_f32(const float *src, void *dst, int64_t n);
float kern_vec_dot_f32(int64_t n, const void *w, const void *a);
void  kern_dequant_f16(const void *src, float *dst, int64_t n);
void  kern_quant_f16(const float *src, void *dst, int64_t n);
float kern_vec_dot_f16(int64_t n, const void *w, const void *a);
void  kern_dequant_bf16(const void *src, float *dst, int64_t n);
void  kern_quant_bf16(const float *src, void *dst, int64_t n);
float kern_vec_dot_bf16(int64_t n, const void *w, const void *a);

/* q8_0, q8_1 (quant_q8.c) */
void  kern_dequant_q8_0(const void *src, float *dst, int64_t n);
void  kern_quant_q8_0(const float *src, void *dst, int64_t n);
float kern_vec_dot_q8_0(int64_t n, const void *w, const void *a);
void  kern_dequant_q8_1(const void *src, float *dst, int64_t n);
void  kern_quant_q8_1(const float *src, void *dst, int64_t n);

/* q4_0, q4_1 (quant_q4.c) */
void  kern_dequant_q4_0(const void *src, float *dst, int64_t n);
void  kern_quant_q4_0(const float *src, void *dst, int64_t n);
float kern_vec_dot_q4_0(int64_t n, const void *w, const void *a);
void  kern_dequant_q4_1(const void *src, float *dst, int64_t n);
void  kern_quant_q4_1(const float *src, void *dst, int64_t n);
float kern_vec_dot_q4_1(int64_t n, const void *w, const void *a);

/* q5_0, q5_1 (quant_q5.c) */
void  kern_dequant_q5_0(const void *src, float *dst, int64_t n);
void  kern_quant_q5_0(const float *src, void *dst, int64_t n);
float kern_vec_dot_q5_0(int64_t n, const void *w, const void *a);
void  kern_dequant_q5_1(const void *src, float *dst, int64_t n);
void  kern_quant_q5_1(const float *src, void *dst, int64_t n);
float kern_vec_dot_q5_1(int64_t n, const void *w, const void *a);

/* q8_K, q4_K, q5_K, q6_K (quant_k.c) */
void  kern_dequant_q8_K(const void *src, float *dst, int64_t n);
void  kern_quant_q8_K(const float *src, void *dst, int64_t n);
void  kern_dequant_q4_K(const void *src, float *dst, int64_t n);
float kern_vec_dot_q4_K(int64_t n, const void *w, const void *a);
void  kern_dequant_q5_K(const void *src, float *dst, int64_t n);
float kern_vec_dot_q5_K(int64_t n, const void *w, const void *a);
void  kern_dequant_q6_K(const void *src, float *dst, int64_t n);
float kern_vec_dot_q6_K(int64_t n, const void *w, const void *a);

/* SIMD variants (vec_dot_avx2.c, vec_dot_avx512.c); only called when the CPU has them. */
float kern_vec_dot_f32_avx2(int64_t n, const void *w, const void *a);
float kern_vec_dot_f16_avx2(int64_t n, const void *w, const void *a);
float kern_vec_dot_q8_0_avx2(int64_t n, const void *w, const void *a);
float kern_vec_dot_q4_0_avx2(int64_t n, const void *w, const void *a);
float kern_vec_dot_q4_K_avx2(int64_t n, const void *w, const void *a);
float kern_vec_dot_f32_avx512(int64_t n, const void *w, const void *a);
float kern_vec_dot_f16_avx512(int64_t n, const void *w, const void *a);
float kern_vec_dot_q8_0_avx512(int64_t n, const void *w, const void *a);
float kern_vec_dot_q4_0_avx512(int64_t n, const void *w, const void *a);
float kern_vec_dot_q4_K_avx512(int64_t n, const void *w, const void *a);
float kern_vec_dot_q6_K_avx512(int64_t n, const void *w, const void *a);


/* Tiled products (gemm_avx512.c; AVX-512 F/BW/VL + VNNI). */
void  kern_gemm_q8_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
							int64_t nt, float *out, int64_t ldo);
void  kern_gemm_q4_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
							int64_t nt, float *out, int64_t ldo);
void  kern_gemm_q5_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
							int64_t nt, float *out, int64_t ldo);
void  kern_gemm_q4_K_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
							int64_t nt, float *out, int64_t ldo);
void  kern_quant_q8_0_avx512(const float *src, void *dst, int64_t n);

#endif
