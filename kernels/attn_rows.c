/*
 * attn_rows.c -- the row primitives of attention over a key/value cache:
 * dot(K row, q) and out += p * V row, with K/V rows in f32 or f16 and q, out in
 * f32. Scalar references (a float sum in element order; one rounding per
 * multiply and per add) and AVX2 / AVX-512 variants chosen by the active kernel
 * family. The axpy variants round exactly as the scalar one (multiply, then
 * add: no FMA), so only the dot's order of additions differs between families.
 */
#include <immintrin.h>

#include "cpu.h"
#include "kernels.h"

#define AVX2_TARGET   __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* An empty asm on the product keeps compilers from fusing it with the add (FMA). */
#define NO_FUSE(v) __asm__("" : "+x"(v))

/* ---- scalar references ------------------------------------------------------ */

float
kern_attn_dot_f32_ref(int64_t n, const float *k, const float *q)
{
	float sum = 0.0f;

	for (int64_t i = 0; i < n; i++)
		sum += k[i] * q[i];
	return sum;
}

float
kern_attn_dot_f16_ref(int64_t n, const uint16_t *k, const float *q)
{
	float sum = 0.0f;

	for (int64_t i = 0; i < n; i++)
		sum += kern_fp16_to_fp32(k[i]) * q[i];
	return sum;
}

void
kern_attn_axpy_f32_ref(int64_t n, float p, const float *v, float *out)
{
	for (int64_t i = 0; i < n; i++)
		out[i] += p * v[i];
}

void
kern_attn_axpy_f16_ref(int64_t n, float p, const uint16_t *v, float *out)
{
	for (int64_t i = 0; i < n; i++)
		out[i] += p * kern_fp16_to_fp32(v[i]);
}

/* ---- AVX2 (8 lanes; two accumulators for the dot) ----------------------------- */

AVX2_TARGET static float
hsum256(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

AVX2_TARGET static float
dot_f32_avx2(int64_t n, const float *k, const float *q)
{
	__m256  a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	int64_t i = 0;
	float   sum;

	for (; i + 16 <= n; i += 16)
	{
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i), _mm256_loadu_ps(q + i), a0);
		a1 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i + 8), _mm256_loadu_ps(q + i + 8), a1);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(_mm256_loadu_ps(k + i), _mm256_loadu_ps(q + i), a0);
	sum = hsum256(_mm256_add_ps(a0, a1));
	for (; i < n; i++)
		sum += k[i] * q[i];
	return sum;
}

AVX2_TARGET static float
dot_f16_avx2(int64_t n, const uint16_t *k, const float *q)
{
	__m256  a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
	int64_t i = 0;
	float   sum;

	for (; i + 16 <= n; i += 16)
	{
		a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (k + i))), _mm256_loadu_ps(q + i), a0);
		a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (k + i + 8))), _mm256_loadu_ps(q + i + 8), a1);
	}
	for (; i + 8 <= n; i += 8)
		a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (k + i))), _mm256_loadu_ps(q + i), a0);
	sum = hsum256(_mm256_add_ps(a0, a1));
	for (; i < n; i++)
		sum += kern_fp16_to_fp32(k[i]) * q[i];
	return sum;
}

AVX2_TARGET static void
axpy_f32_avx2(int64_t n, float p, const float *v, float *out)
{
	__m256  pv = _mm256_set1_ps(p);
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256 pr = _mm256_mul_ps(pv, _mm256_loadu_ps(v + i));

		NO_FUSE(pr);
		_mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), pr));
	}
	for (; i < n; i++)
	{
		float pr = p * v[i];

		NO_FUSE(pr);
		out[i] += pr;
	}
}

AVX2_TARGET static void
axpy_f16_avx2(int64_t n, float p, const uint16_t *v, float *out)
{
	__m256  pv = _mm256_set1_ps(p);
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256 pr = _mm256_mul_ps(pv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (v + i))));

		NO_FUSE(pr);
		_mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(out + i), pr));
	}
	for (; i < n; i++)
	{
		float pr = p * kern_fp16_to_fp32(v[i]);

		NO_FUSE(pr);
		out[i] += pr;
	}
}

/* ---- AVX-512 (16 lanes, masked tails) ------------------------------------------ */

AVX512_TARGET static inline __mmask16
tail_mask(int64_t left)
{
	return left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1);
}

AVX512_TARGET static float
dot_f32_avx512(int64_t n, const float *k, const float *q)
{
	__m512  a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	int64_t i = 0;

	for (; i + 32 <= n; i += 32)
	{
		a0 = _mm512_fmadd_ps(_mm512_loadu_ps(k + i), _mm512_loadu_ps(q + i), a0);
		a1 = _mm512_fmadd_ps(_mm512_loadu_ps(k + i + 16), _mm512_loadu_ps(q + i + 16), a1);
	}
	for (; i < n; i += 16)
	{
		__mmask16 m = tail_mask(n - i);

		a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, k + i), _mm512_maskz_loadu_ps(m, q + i), a0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

AVX512_TARGET static float
dot_f16_avx512(int64_t n, const uint16_t *k, const float *q)
{
	__m512  a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
	int64_t i = 0;

	for (; i + 32 <= n; i += 32)
	{
		a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (k + i))), _mm512_loadu_ps(q + i), a0);
		a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (k + i + 16))),
							 _mm512_loadu_ps(q + i + 16), a1);
	}
	for (; i < n; i += 16)
	{
		__mmask16 m = tail_mask(n - i);

		a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, k + i)), _mm512_maskz_loadu_ps(m, q + i), a0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

AVX512_TARGET static void
axpy_f32_avx512(int64_t n, float p, const float *v, float *out)
{
	__m512 pv = _mm512_set1_ps(p);

	for (int64_t i = 0; i < n; i += 16)
	{
		__mmask16 m = tail_mask(n - i);
		__m512    pr = _mm512_mul_ps(pv, _mm512_maskz_loadu_ps(m, v + i));

		NO_FUSE(pr);
		_mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + i), pr));
	}
}

AVX512_TARGET static void
axpy_f16_avx512(int64_t n, float p, const uint16_t *v, float *out)
{
	__m512 pv = _mm512_set1_ps(p);

	for (int64_t i = 0; i < n; i += 16)
	{
		__mmask16 m = tail_mask(n - i);
		__m512    pr = _mm512_mul_ps(pv, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, v + i)));

		NO_FUSE(pr);
		_mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, out + i), pr));
	}
}

/* ---- dispatch ---------------------------------------------------------------------- */

float
kern_attn_dot_f32(int64_t n, const float *k, const float *q)
{
	switch (kern_isa_active())
	{
		case KERN_ISA_AVX512:
			return dot_f32_avx512(n, k, q);
		case KERN_ISA_AVX2:
			return dot_f32_avx2(n, k, q);
		default:
			return kern_attn_dot_f32_ref(n, k, q);
	}
}

float
kern_attn_dot_f16(int64_t n, const uint16_t *k, const float *q)
{
	switch (kern_isa_active())
	{
		case KERN_ISA_AVX512:
			return dot_f16_avx512(n, k, q);
		case KERN_ISA_AVX2:
			return dot_f16_avx2(n, k, q);
		default:
			return kern_attn_dot_f16_ref(n, k, q);
	}
}

void
kern_attn_axpy_f32(int64_t n, float p, const float *v, float *out)
{
	switch (kern_isa_active())
	{
		case KERN_ISA_AVX512:
			axpy_f32_avx512(n, p, v, out);
			break;
		case KERN_ISA_AVX2:
			axpy_f32_avx2(n, p, v, out);
			break;
		default:
			kern_attn_axpy_f32_ref(n, p, v, out);
	}
}

void
kern_attn_axpy_f16(int64_t n, float p, const uint16_t *v, float *out)
{
	switch (kern_isa_active())
	{
		case KERN_ISA_AVX512:
			axpy_f16_avx512(n, p, v, out);
			break;
		case KERN_ISA_AVX2:
			axpy_f16_avx2(n, p, v, out);
			break;
		default:
			kern_attn_axpy_f16_ref(n, p, v, out);
	}
}
