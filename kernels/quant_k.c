/*
 * quant_k.c -- the K-quants: Q8_K activations (ggml's reference quantizer:
 * scale from the signed value of largest magnitude, iscale = -127/max, ties to
 * even, sums of each 16 quants in bsums) and the Q4_K, Q5_K, Q6_K weights
 * (super-blocks of 256), dequantized and dotted with Q8_K as ggml does: integer
 * sums per sub-block times the 6/8-bit scales, mins applied through bsums.
 */
#include <math.h>
#include <string.h>

#include "quant.h"

void
kern_dequant_q8_K(const void *src, float *dst, int64_t n)
{
	const block_q8_K *b = src;

	for (int64_t i = 0; i < n / QK_K; i++)
		for (int j = 0; j < QK_K; j++)
			dst[i * QK_K + j] = b[i].d * b[i].qs[j];
}

void
kern_quant_q8_K(const float *src, void *dst, int64_t n)
{
	block_q8_K *b = dst;

	for (int64_t i = 0; i < n / QK_K; i++, src += QK_K)
	{
		float max = 0.0f, amax = 0.0f, iscale;

		for (int j = 0; j < QK_K; j++)
			if (fabsf(src[j]) > amax)
			{
				amax = fabsf(src[j]);
				max = src[j];
			}
		if (amax == 0.0f)
		{
			memset(&b[i], 0, sizeof(b[i]));
			continue;
		}
		iscale = -127.0f / max;
		for (int j = 0; j < QK_K; j++)
		{
			long v = lrintf(iscale * src[j]);   /* nearest, ties to even */

			b[i].qs[j] = (int8_t) (v < 127 ? v : 127);
		}
		for (int g = 0; g < QK_K / 16; g++)
		{
			int sum = 0;

			for (int j = 0; j < 16; j++)
				sum += b[i].qs[g * 16 + j];
			b[i].bsums[g] = (int16_t) sum;
		}
		b[i].d = 1.0f / iscale;
	}
}

/* The 256 unsigned quants (0..15, or 0..31 with qh) of a q4_K/q5_K super-block. */
static void
k4_unpack(const uint8_t *qs, const uint8_t *qh, uint8_t q[QK_K])
{
	for (int k = 0; k < QK_K / 64; k++)
		for (int l = 0; l < 32; l++)
		{
			uint8_t lo = qs[32 * k + l] & 0x0F, hi = qs[32 * k + l] >> 4;

			if (qh)
			{
				lo |= (uint8_t) (((qh[l] >> (2 * k)) & 1) << 4);
				hi |= (uint8_t) (((qh[l] >> (2 * k + 1)) & 1) << 4);
			}
			q[64 * k + l] = lo;
			q[64 * k + 32 + l] = hi;
		}
}

static void
k4_dequant(uint16_t d16, uint16_t dmin16, const uint8_t *scales, const uint8_t q[QK_K], float *dst)
{
	float d = kern_fp16_to_fp32(d16), dmin = kern_fp16_to_fp32(dmin16);

	for (int j = 0; j < QK_K / 32; j++)
	{
		uint8_t sc, m;
		float   dl, ml;

		kern_k4_scale_min(j, scales, &sc, &m);
		dl = d * sc;
		ml = dmin * m;
		for (int l = 0; l < 32; l++)
			dst[32 * j + l] = dl * q[32 * j + l] - ml;
	}
}

/* One super-block: d*sum_j sc_j*(q.q8)_j - dmin*sum_j m_j*bsum_j. */
static float
k4_dot_block(uint16_t d16, uint16_t dmin16, const uint8_t *scales, const uint8_t q[QK_K], const block_q8_K *y)
{
	int32_t isum = 0, msum = 0;

	for (int j = 0; j < QK_K / 32; j++)
	{
		uint8_t sc, m;
		int32_t dot = 0;

		kern_k4_scale_min(j, scales, &sc, &m);
		for (int l = 0; l < 32; l++)
			dot += q[32 * j + l] * y->qs[32 * j + l];
		isum += sc * dot;
		msum += m * (y->bsums[2 * j] + y->bsums[2 * j + 1]);
	}
	return kern_fp16_to_fp32(d16) * y->d * (float) isum - kern_fp16_to_fp32(dmin16) * y->d * (float) msum;
}

void
kern_dequant_q4_K(const void *src, float *dst, int64_t n)
{
	const block_q4_K *b = src;
	uint8_t           q[QK_K];

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		k4_unpack(b[i].qs, NULL, q);
		k4_dequant(b[i].d, b[i].dmin, b[i].scales, q, dst + i * QK_K);
	}
}

/* w (n,) q4_K . a (n,) q8_K */
float
kern_vec_dot_q4_K(int64_t n, const void *w, const void *a)
{
	const block_q4_K *x = w;
	const block_q8_K *y = a;
	uint8_t           q[QK_K];
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		k4_unpack(x[i].qs, NULL, q);
		sum += k4_dot_block(x[i].d, x[i].dmin, x[i].scales, q, &y[i]);
	}
	return sum;
}

void
kern_dequant_q5_K(const void *src, float *dst, int64_t n)
{
	const block_q5_K *b = src;
	uint8_t           q[QK_K];

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		k4_unpack(b[i].qs, b[i].qh, q);
		k4_dequant(b[i].d, b[i].dmin, b[i].scales, q, dst + i * QK_K);
	}
}

/* w (n,) q5_K . a (n,) q8_K */
float
kern_vec_dot_q5_K(int64_t n, const void *w, const void *a)
{
	const block_q5_K *x = w;
	const block_q8_K *y = a;
	uint8_t           q[QK_K];
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		k4_unpack(x[i].qs, x[i].qh, q);
		sum += k4_dot_block(x[i].d, x[i].dmin, x[i].scales, q, &y[i]);
	}
	return sum;
}

/*
 * The 256 signed quants (-32..31) of a q6_K super-block, in element order. Each
 * half of 128 uses 64 bytes of ql and 32 of qh: element 32k+l takes nibble k/2 of
 * ql[l + 32*(k&1)] and bits 2k..2k+1 of qh[l].
 */
static void
q6_unpack(const block_q6_K *b, int8_t q[QK_K])
{
	for (int h = 0; h < 2; h++)
	{
		const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;

		for (int k = 0; k < 4; k++)
			for (int l = 0; l < 32; l++)
			{
				int lo = (ql[l + 32 * (k & 1)] >> (4 * (k >> 1))) & 0x0F;
				int hi = (qh[l] >> (2 * k)) & 3;

				q[128 * h + 32 * k + l] = (int8_t) ((lo | (hi << 4)) - 32);
			}
	}
}

void
kern_dequant_q6_K(const void *src, float *dst, int64_t n)
{
	const block_q6_K *b = src;
	int8_t            q[QK_K];

	for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
	{
		float d = kern_fp16_to_fp32(b[i].d);

		q6_unpack(&b[i], q);
		for (int j = 0; j < QK_K; j++)
			dst[j] = d * b[i].scales[j / 16] * q[j];
	}
}

/* w (n,) q6_K . a (n,) q8_K: d * sum_g sc_g * (q.q8)_g over 16 groups of 16 */
float
kern_vec_dot_q6_K(int64_t n, const void *w, const void *a)
{
	const block_q6_K *x = w;
	const block_q8_K *y = a;
	int8_t            q[QK_K];
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++)
	{
		int32_t isum = 0;

		q6_unpack(&x[i], q);
		for (int g = 0; g < QK_K / 16; g++)
		{
			int32_t dot = 0;

			for (int l = 0; l < 16; l++)
				dot += q[16 * g + l] * y[i].qs[16 * g + l];
			isum += x[i].scales[g] * dot;
		}
		sum += kern_fp16_to_fp32(x[i].d) * y[i].d * (float) isum;
	}
	return sum;
}
