/*
 * vec_dot_avx2.c -- AVX2+FMA+F16C dot products for F32, F16, Q8_0, Q4_0 and Q4_K
 * weights. Same arithmetic as the scalar references in quant_*.c/float_rows.c
 * (integer sums per block times the scales); only the order of the float
 * additions differs. Compiled with target attributes, called only when cpu.c
 * says the CPU has these instructions.
 */
#include <immintrin.h>

#include "quant.h"

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

AVX2_TARGET static inline float
hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

AVX2_TARGET static inline int32_t
hsum_epi32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(s);
}

/* 8 int32 lanes of x.y for 32 signed bytes each (x may be -128, y must not be). */
AVX2_TARGET static inline __m256i
dot_i8(__m256i x, __m256i y)
{
	__m256i ax = _mm256_sign_epi8(x, x);
	__m256i sy = _mm256_sign_epi8(y, x);

	return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}

/* The 32 quants of a q4_0 block as signed bytes (-8..7), in element order. */
AVX2_TARGET static inline __m256i
q4_0_unpack(const uint8_t *qs)
{
	__m128i q = _mm_loadu_si128((const __m128i *) qs);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);

	return _mm256_sub_epi8(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

AVX2_TARGET float
kern_vec_dot_f32_avx2(int64_t n, const void *w, const void *a)
{
	const float *x = w, *y = a;
	__m256       acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t      i = 0;
	float        sum;

	for (; i + 16 <= n; i += 16)
	{
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
	sum = hsum_ps(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += x[i] * y[i];
	return sum;
}

AVX2_TARGET float
kern_vec_dot_f16_avx2(int64_t n, const void *w, const void *a)
{
	const uint16_t *x = w, *y = a;
	__m256          acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int64_t         i = 0;
	float           sum;

	for (; i + 16 <= n; i += 16)
	{
		acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))),
							   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (y + i))), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i + 8))),
							   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (y + i + 8))), acc1);
	}
	for (; i + 8 <= n; i += 8)
		acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (x + i))),
							   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (y + i))), acc0);
	sum = hsum_ps(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		sum += kern_fp16_to_fp32(x[i]) * kern_fp16_to_fp32(y[i]);
	return sum;
}

AVX2_TARGET float
kern_vec_dot_q8_0_avx2(int64_t n, const void *w, const void *a)
{
	const block_q8_0 *x = w, *y = a;
	__m256            acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK8_0; i++)
	{
		__m256i p = dot_i8(_mm256_loadu_si256((const __m256i *) x[i].qs),
						   _mm256_loadu_si256((const __m256i *) y[i].qs));
		__m256  d = _mm256_set1_ps(kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d));

		acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
	}
	return hsum_ps(acc);
}

AVX2_TARGET float
kern_vec_dot_q4_0_avx2(int64_t n, const void *w, const void *a)
{
	const block_q4_0 *x = w;
	const block_q8_0 *y = a;
	__m256            acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK4_0; i++)
	{
		__m256i p = dot_i8(q4_0_unpack(x[i].qs), _mm256_loadu_si256((const __m256i *) y[i].qs));
		__m256  d = _mm256_set1_ps(kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d));

		acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), d, acc);
	}
	return hsum_ps(acc);
}

AVX2_TARGET float
kern_vec_dot_q4_K_avx2(int64_t n, const void *w, const void *a)
{
	const block_q4_K *x = w;
	const block_q8_K *y = a;
	const __m256i     low4 = _mm256_set1_epi8(0x0F);
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		__m256i acc = _mm256_setzero_si256();
		int32_t msum = 0;

		for (int k = 0; k < QK_K / 64; k++)
		{
			uint8_t sc0, m0, sc1, m1;
			__m256i q = _mm256_loadu_si256((const __m256i *) (x[i].qs + 32 * k));
			__m256i lo = _mm256_and_si256(q, low4);
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
			__m256i y0 = _mm256_loadu_si256((const __m256i *) (y[i].qs + 64 * k));
			__m256i y1 = _mm256_loadu_si256((const __m256i *) (y[i].qs + 64 * k + 32));

			kern_k4_scale_min(2 * k, x[i].scales, &sc0, &m0);
			kern_k4_scale_min(2 * k + 1, x[i].scales, &sc1, &m1);
			/* unsigned quants x signed activations, then times the sub-block scale */
			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(sc0)));
			acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(sc1)));
			msum += m0 * (y[i].bsums[4 * k] + y[i].bsums[4 * k + 1]) +
				m1 * (y[i].bsums[4 * k + 2] + y[i].bsums[4 * k + 3]);
		}
		sum += kern_fp16_to_fp32(x[i].d) * y[i].d * (float) hsum_epi32(acc) -
			kern_fp16_to_fp32(x[i].dmin) * y[i].d * (float) msum;
	}
	return sum;
}
