/*
 * vec_dot_avx512.c -- AVX-512 (F, BW, VL) dot products for F32, F16, Q8_0, Q4_0,
 * Q4_K and Q6_K weights: 512-bit registers hold two 32-quant blocks (or two sub-blocks
 * of a K-quant) at once; masked loads take the float tails. Same arithmetic as
 * the scalar references; only the order of the float additions differs.
 */
#include <immintrin.h>

#include "quant.h"

#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* 16 int32 lanes of x.y for 64 signed bytes each (y must not hold -128). */
AVX512_TARGET static inline __m512i
dot_i8_512(__m512i x, __m512i y)
{
	__mmask64 neg = _mm512_movepi8_mask(x);
	__m512i   sy = _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y);

	return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(x), sy), _mm512_set1_epi16(1));
}

/* Two 256-bit halves into one register: a in the low lanes, b in the high ones. */
AVX512_TARGET static inline __m512i
join_si256(__m256i a, __m256i b)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

AVX512_TARGET static inline __m512
join_scales(float a, float b)
{
	__m512d v = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(_mm256_set1_ps(a))),
								   _mm256_castps_pd(_mm256_set1_ps(b)), 1);

	return _mm512_castpd_ps(v);
}

AVX512_TARGET static inline __m256i
q4_0_unpack_256(const uint8_t *qs)
{
	__m128i q = _mm_loadu_si128((const __m128i *) qs);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);

	return _mm256_sub_epi8(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

AVX512_TARGET float
kern_vec_dot_f32_avx512(int64_t n, const void *w, const void *a)
{
	const float *x = w, *y = a;
	__m512       acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
	int64_t      i = 0;

	for (; i + 32 <= n; i += 32)
	{
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), acc1);
	}
	for (; i < n; i += 16)
	{
		__mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);

		acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), acc0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

AVX512_TARGET float
kern_vec_dot_f16_avx512(int64_t n, const void *w, const void *a)
{
	const uint16_t *x = w, *y = a;
	__m512          acc = _mm512_setzero_ps();

	for (int64_t i = 0; i < n; i += 16)
	{
		__mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1);
		__m512    xv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i));
		__m512    yv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, y + i));

		acc = _mm512_fmadd_ps(xv, yv, acc);
	}
	return _mm512_reduce_add_ps(acc);
}

AVX512_TARGET float
kern_vec_dot_q8_0_avx512(int64_t n, const void *w, const void *a)
{
	const block_q8_0 *x = w, *y = a;
	int64_t           nb = n / QK8_0, i = 0;
	__m512            acc = _mm512_setzero_ps();
	float             sum;

	for (; i + 2 <= nb; i += 2)
	{
		__m512i xv = join_si256(_mm256_loadu_si256((const __m256i *) x[i].qs),
								_mm256_loadu_si256((const __m256i *) x[i + 1].qs));
		__m512i yv = join_si256(_mm256_loadu_si256((const __m256i *) y[i].qs),
								_mm256_loadu_si256((const __m256i *) y[i + 1].qs));
		__m512  d = join_scales(kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d),
								kern_fp16_to_fp32(x[i + 1].d) * kern_fp16_to_fp32(y[i + 1].d));

		acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot_i8_512(xv, yv)), d, acc);
	}
	sum = _mm512_reduce_add_ps(acc);
	if (i < nb)
		sum += kern_vec_dot_q8_0(QK8_0, &x[i], &y[i]);
	return sum;
}

AVX512_TARGET float
kern_vec_dot_q4_0_avx512(int64_t n, const void *w, const void *a)
{
	const block_q4_0 *x = w;
	const block_q8_0 *y = a;
	int64_t           nb = n / QK4_0, i = 0;
	__m512            acc = _mm512_setzero_ps();
	float             sum;

	for (; i + 2 <= nb; i += 2)
	{
		__m512i xv = join_si256(q4_0_unpack_256(x[i].qs), q4_0_unpack_256(x[i + 1].qs));
		__m512i yv = join_si256(_mm256_loadu_si256((const __m256i *) y[i].qs),
								_mm256_loadu_si256((const __m256i *) y[i + 1].qs));
		__m512  d = join_scales(kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d),
								kern_fp16_to_fp32(x[i + 1].d) * kern_fp16_to_fp32(y[i + 1].d));

		acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot_i8_512(xv, yv)), d, acc);
	}
	sum = _mm512_reduce_add_ps(acc);
	if (i < nb)
		sum += kern_vec_dot_q4_0(QK4_0, &x[i], &y[i]);
	return sum;
}

AVX512_TARGET float
kern_vec_dot_q4_K_avx512(int64_t n, const void *w, const void *a)
{
	const block_q4_K *x = w;
	const block_q8_K *y = a;
	const __m256i     low4 = _mm256_set1_epi8(0x0F);
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		__m512i acc = _mm512_setzero_si512();
		int32_t msum = 0;

		for (int k = 0; k < QK_K / 64; k++)
		{
			uint8_t sc0, m0, sc1, m1;
			__m256i q = _mm256_loadu_si256((const __m256i *) (x[i].qs + 32 * k));
			/* sub-block 2k (low nibbles) then 2k+1 (high nibbles): elements 64k..64k+63 */
			__m512i qv = join_si256(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
			__m512i yv = _mm512_loadu_si512((const void *) (y[i].qs + 64 * k));
			__m512i sc;

			kern_k4_scale_min(2 * k, x[i].scales, &sc0, &m0);
			kern_k4_scale_min(2 * k + 1, x[i].scales, &sc1, &m1);
			sc = join_si256(_mm256_set1_epi16(sc0), _mm256_set1_epi16(sc1));
			acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(qv, yv), sc));
			msum += m0 * (y[i].bsums[4 * k] + y[i].bsums[4 * k + 1]) +
				m1 * (y[i].bsums[4 * k + 2] + y[i].bsums[4 * k + 3]);
		}
		sum += kern_fp16_to_fp32(x[i].d) * y[i].d * (float) _mm512_reduce_add_epi32(acc) -
			kern_fp16_to_fp32(x[i].dmin) * y[i].d * (float) msum;
	}
	return sum;
}

/*
 * Q6_K: per 128-element half, the low nibbles of ql give elements 0-63 and the
 * high ones 64-127; qh adds bits 4-5 (2 bits per element, shifted per 32). The
 * unsigned q (0..63) times the signed activations (maddubs: pairs fit int16),
 * then each 16-element group's int16 pairs times its scale (madd); the -32 of
 * every q comes back as 32 * sum_g sc_g * bsum_g. Exact integers, then the
 * reference's float expression, so results equal kern_vec_dot_q6_K's.
 */
AVX512_TARGET float
kern_vec_dot_q6_K_avx512(int64_t n, const void *w, const void *a)
{
	const block_q6_K *x = w;
	const block_q8_K *y = a;
	const __m512i     low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
	/* int16 lanes of 128-bit lane j take scale g0 + j; shift counts for the qh halves */
	const __m512i     gidx[4] = {
		_mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
		_mm512_set_epi16(7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4),
		_mm512_set_epi16(11, 11, 11, 11, 11, 11, 11, 11, 10, 10, 10, 10, 10, 10, 10, 10,
						 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8),
		_mm512_set_epi16(15, 15, 15, 15, 15, 15, 15, 15, 14, 14, 14, 14, 14, 14, 14, 14,
						 13, 13, 13, 13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12, 12, 12)};
	const __m512i     sh01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
	const __m512i     sh23 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		__m512i sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *) x[i].scales)));
		__m512i acc = _mm512_setzero_si512();
		__m256i corr = _mm256_madd_epi16(_mm512_castsi512_si256(sc), _mm256_loadu_si256((const __m256i *) y[i].bsums));
		int32_t isum;

		for (int h = 0; h < 2; h++)
		{
			__m512i ql = _mm512_loadu_si512((const void *) (x[i].ql + 64 * h));
			__m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (x[i].qh + 32 * h)));
			__m512i q0 = _mm512_or_si512(_mm512_and_si512(ql, low4),
										 _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh01), low2), 4));
			__m512i q1 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
										 _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, sh23), low2), 4));
			__m512i a0 = _mm512_loadu_si512((const void *) (y[i].qs + 128 * h));
			__m512i a1 = _mm512_loadu_si512((const void *) (y[i].qs + 128 * h + 64));

			acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(q0, a0),
														  _mm512_permutexvar_epi16(gidx[2 * h], sc)));
			acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(q1, a1),
														  _mm512_permutexvar_epi16(gidx[2 * h + 1], sc)));
		}
		{
			__m128i c = _mm_add_epi32(_mm256_castsi256_si128(corr), _mm256_extracti128_si256(corr, 1));

			c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0x4E));
			c = _mm_add_epi32(c, _mm_shuffle_epi32(c, 0xB1));
			isum = _mm512_reduce_add_epi32(acc) - 32 * _mm_cvtsi128_si32(c);
		}
		{
			float p = kern_fp16_to_fp32(x[i].d) * y[i].d * (float) isum;

			__asm__("" : "+x"(p));   /* no FMA into sum: round as the reference does */
			sum += p;
		}
	}
	return sum;
}
