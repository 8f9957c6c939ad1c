/*
 * fp16.c -- IEEE half and bfloat16 conversions in integer arithmetic, so results
 * are bit-exact on every CPU and do not depend on the FPU rounding mode.
 * fp32->fp16 matches F16C's VCVTPS2PH with round-to-nearest-even (ggml on x86);
 * fp32->bf16 matches ggml's reference conversion.
 */
#include <immintrin.h>
#include <string.h>

#include "cpu.h"
#include "kernels.h"

static inline uint32_t
fp32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float
fp32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

float
kern_fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;

	if (exp == 0)
	{
		/* zero or subnormal: mant * 2^-24, exact in f32 */
		float v = (float) mant * 0x1p-24f;

		return sign ? -v : v;
	}
	if (exp == 31)               /* inf or NaN (payload kept) */
		return fp32_from_bits(sign | 0x7f800000u | (mant << 13));
	return fp32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Shift m right by s (1..31) rounding to nearest, ties to even. */
static inline uint32_t
shift_round_even(uint32_t m, int s)
{
	uint32_t q = m >> s;
	uint32_t rem = m & ((1u << s) - 1);
	uint32_t half = 1u << (s - 1);

	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q;
}

uint16_t
kern_fp32_to_fp16(float f)
{
	uint32_t u = fp32_bits(f);
	uint16_t sign = (uint16_t) ((u >> 16) & 0x8000);
	uint32_t a = u & 0x7fffffffu;

	if (a > 0x7f800000u)         /* NaN: quiet it, keep the top payload bits */
		return (uint16_t) (sign | 0x7e00 | ((a >> 13) & 0x3ff));
	if (a >= 0x477ff000u)        /* >= 65520 rounds to infinity (and inf stays inf) */
		return (uint16_t) (sign | 0x7c00);
	if (a < 0x38800000u)         /* below 2^-14: half subnormal or zero */
	{
		uint32_t e = a >> 23;
		uint32_t m = (a & 0x7fffffu) | (e ? 0x800000u : 0);
		int      s = 126 - (int) e;  /* value * 2^24 = m * 2^(e - 126) */

		if (e == 0 || s > 24)
			return sign;             /* below half the smallest subnormal */
		/* a carry into 0x400 is the smallest normal, which is the right encoding */
		return (uint16_t) (sign | shift_round_even(m, s));
	}
	/* normal: rebias the exponent (127 -> 15) and round the mantissa to 10 bits */
	return (uint16_t) (sign | shift_round_even(a - (112u << 23), 13));
}

float
kern_bf16_to_fp32(uint16_t h)
{
	return fp32_from_bits((uint32_t) h << 16);
}

uint16_t
kern_fp32_to_bf16(float f)
{
	uint32_t u = fp32_bits(f);

	if ((u & 0x7fffffffu) > 0x7f800000u)  /* NaN: keep sign and payload top, force quiet */
		return (uint16_t) ((u >> 16) | 64);
	return (uint16_t) ((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

/*
 * Rows through F16C when the active family has it: VCVTPH2PS is exact and
 * VCVTPS2PH with round-to-nearest-even gives the same bits as the integer code
 * above (the tests compare them), 8 at a time; the tail stays scalar.
 */
__attribute__((target("avx2,f16c"))) static int64_t
fp16_to_fp32_f16c(const uint16_t *src, float *dst, int64_t n)
{
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (src + i)));

		/* the hardware quiets signalling NaNs; the scalar code keeps them as they are */
		if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)))
			for (int j = 0; j < 8; j++)
				dst[i + j] = kern_fp16_to_fp32(src[i + j]);
		else
			_mm256_storeu_ps(dst + i, v);
	}
	return i;
}

__attribute__((target("avx2,f16c"))) static int64_t
fp32_to_fp16_f16c(const float *src, uint16_t *dst, int64_t n)
{
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *) (dst + i),
						 _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	return i;
}

void
kern_fp16_to_fp32_row(const uint16_t *src, float *dst, int64_t n)
{
	int64_t i = kern_isa_active() >= KERN_ISA_AVX2 ? fp16_to_fp32_f16c(src, dst, n) : 0;

	for (; i < n; i++)
		dst[i] = kern_fp16_to_fp32(src[i]);
}

void
kern_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n)
{
	int64_t i = kern_isa_active() >= KERN_ISA_AVX2 ? fp32_to_fp16_f16c(src, dst, n) : 0;

	for (; i < n; i++)
		dst[i] = kern_fp32_to_fp16(src[i]);
}

void
kern_bf16_to_fp32_row(const uint16_t *src, float *dst, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		dst[i] = kern_bf16_to_fp32(src[i]);
}

void
kern_fp32_to_bf16_row(const float *src, uint16_t *dst, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		dst[i] = kern_fp32_to_bf16(src[i]);
}
