/*
 * quant_q5.c -- Q5_0 (x = d*(q-16), dotted with Q8_0) and Q5_1 (x = d*q + m,
 * dotted with Q8_1). The low 4 bits of element j sit in qs as in Q4_0; its 5th
 * bit is bit j of the 32-bit little-endian word qh.
 */
#include <float.h>
#include <math.h>

#include "quant.h"

static inline uint32_t
q5_high_bits(const uint8_t qh[4])
{
	return (uint32_t) qh[0] | ((uint32_t) qh[1] << 8) | ((uint32_t) qh[2] << 16) | ((uint32_t) qh[3] << 24);
}

static inline void
q5_store_high_bits(uint8_t qh[4], uint32_t h)
{
	for (int k = 0; k < 4; k++)
		qh[k] = (uint8_t) (h >> (8 * k));
}

/* The 32 unsigned 5-bit quants of a block, in element order. */
static inline void
q5_unpack(const uint8_t *qs, const uint8_t qh_bytes[4], int q[32])
{
	uint32_t qh = q5_high_bits(qh_bytes);

	for (int j = 0; j < 16; j++)
	{
		q[j] = (qs[j] & 0x0F) | (int) (((qh >> j) & 1) << 4);
		q[j + 16] = (qs[j] >> 4) | (int) (((qh >> (j + 16)) & 1) << 4);
	}
}

/* Pack 32 quants (0..31) into qs/qh. */
static inline void
q5_pack(const int q[32], uint8_t *qs, uint8_t qh_bytes[4])
{
	uint32_t qh = 0;

	for (int j = 0; j < 16; j++)
	{
		qs[j] = (uint8_t) ((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
		qh |= (uint32_t) ((q[j] >> 4) & 1) << j;
		qh |= (uint32_t) ((q[j + 16] >> 4) & 1) << (j + 16);
	}
	q5_store_high_bits(qh_bytes, qh);
}

void
kern_dequant_q5_0(const void *src, float *dst, int64_t n)
{
	const block_q5_0 *b = src;

	for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0)
	{
		float d = kern_fp16_to_fp32(b[i].d);
		int   q[32];

		q5_unpack(b[i].qs, b[i].qh, q);
		for (int j = 0; j < QK5_0; j++)
			dst[j] = (q[j] - 16) * d;
	}
}

void
kern_quant_q5_0(const float *src, void *dst, int64_t n)
{
	block_q5_0 *b = dst;

	for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0)
	{
		float amax = 0.0f, max = 0.0f, d, id;
		int   q[32];

		for (int j = 0; j < QK5_0; j++)
			if (amax < fabsf(src[j]))
			{
				amax = fabsf(src[j]);
				max = src[j];
			}
		d = max / -16.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		b[i].d = kern_fp32_to_fp16(d);
		for (int j = 0; j < QK5_0; j++)
		{
			int v = (int8_t) (src[j] * id + 16.5f);

			q[j] = v < 31 ? v : 31;
		}
		q5_pack(q, b[i].qs, b[i].qh);
	}
}

/* w (n,) q5_0 . a (n,) q8_0 */
float
kern_vec_dot_q5_0(int64_t n, const void *w, const void *a)
{
	const block_q5_0 *x = w;
	const block_q8_0 *y = a;
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK5_0; i++)
	{
		int     q[32];
		int32_t isum = 0;

		q5_unpack(x[i].qs, x[i].qh, q);
		for (int j = 0; j < QK5_0; j++)
			isum += (q[j] - 16) * y[i].qs[j];
		sum += (kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d)) * (float) isum;
	}
	return sum;
}

void
kern_dequant_q5_1(const void *src, float *dst, int64_t n)
{
	const block_q5_1 *b = src;

	for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1)
	{
		float d = kern_fp16_to_fp32(b[i].d);
		float m = kern_fp16_to_fp32(b[i].m);
		int   q[32];

		q5_unpack(b[i].qs, b[i].qh, q);
		for (int j = 0; j < QK5_1; j++)
			dst[j] = q[j] * d + m;
	}
}

void
kern_quant_q5_1(const float *src, void *dst, int64_t n)
{
	block_q5_1 *b = dst;

	for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1)
	{
		float min = FLT_MAX, max = -FLT_MAX, d, id;
		int   q[32];

		for (int j = 0; j < QK5_1; j++)
		{
			if (src[j] < min)
				min = src[j];
			if (src[j] > max)
				max = src[j];
		}
		d = (max - min) / 31.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		b[i].d = kern_fp32_to_fp16(d);
		b[i].m = kern_fp32_to_fp16(min);
		for (int j = 0; j < QK5_1; j++)
			q[j] = (uint8_t) ((src[j] - min) * id + 0.5f);
		q5_pack(q, b[i].qs, b[i].qh);
	}
}

/* w (n,) q5_1 . a (n,) q8_1: d_w*d_a*sum(q_w*q_a) + m_w*s_a */
float
kern_vec_dot_q5_1(int64_t n, const void *w, const void *a)
{
	const block_q5_1 *x = w;
	const block_q8_1 *y = a;
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK5_1; i++)
	{
		int     q[32];
		int32_t isum = 0;

		q5_unpack(x[i].qs, x[i].qh, q);
		for (int j = 0; j < QK5_1; j++)
			isum += q[j] * y[i].qs[j];
		sum += (kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d)) * (float) isum +
			kern_fp16_to_fp32(x[i].m) * kern_fp16_to_fp32(y[i].s);
	}
	return sum;
}
