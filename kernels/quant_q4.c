/*
 * quant_q4.c -- Q4_0 (x = d*(q-8), dotted with Q8_0 activations) and Q4_1
 * (x = d*q + m, dotted with Q8_1, whose s = d*sum(q) carries the min term).
 * The quantizers follow ggml's reference ones (used to make test data).
 */
#include <float.h>
#include <math.h>

#include "quant.h"

void
kern_dequant_q4_0(const void *src, float *dst, int64_t n)
{
	const block_q4_0 *b = src;

	for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0)
	{
		float d = kern_fp16_to_fp32(b[i].d);

		for (int j = 0; j < QK4_0 / 2; j++)
		{
			dst[j] = ((b[i].qs[j] & 0x0F) - 8) * d;
			dst[j + QK4_0 / 2] = ((b[i].qs[j] >> 4) - 8) * d;
		}
	}
}

/* d = (the value of largest magnitude) / -8, so that value maps to q = 0 exactly. */
void
kern_quant_q4_0(const float *src, void *dst, int64_t n)
{
	block_q4_0 *b = dst;

	for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0)
	{
		float amax = 0.0f, max = 0.0f, d, id;

		for (int j = 0; j < QK4_0; j++)
			if (amax < fabsf(src[j]))
			{
				amax = fabsf(src[j]);
				max = src[j];
			}
		d = max / -8.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		b[i].d = kern_fp32_to_fp16(d);
		for (int j = 0; j < QK4_0 / 2; j++)
		{
			int q0 = (int8_t) (src[j] * id + 8.5f);
			int q1 = (int8_t) (src[j + QK4_0 / 2] * id + 8.5f);

			b[i].qs[j] = (uint8_t) ((q0 < 15 ? q0 : 15) | ((q1 < 15 ? q1 : 15) << 4));
		}
	}
}

/* w (n,) q4_0 . a (n,) q8_0 */
float
kern_vec_dot_q4_0(int64_t n, const void *w, const void *a)
{
	const block_q4_0 *x = w;
	const block_q8_0 *y = a;
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK4_0; i++)
	{
		int32_t isum = 0;

		for (int j = 0; j < QK4_0 / 2; j++)
			isum += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j] +
				((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
		sum += (float) isum * kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d);
	}
	return sum;
}

void
kern_dequant_q4_1(const void *src, float *dst, int64_t n)
{
	const block_q4_1 *b = src;

	for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1)
	{
		float d = kern_fp16_to_fp32(b[i].d);
		float m = kern_fp16_to_fp32(b[i].m);

		for (int j = 0; j < QK4_1 / 2; j++)
		{
			dst[j] = (b[i].qs[j] & 0x0F) * d + m;
			dst[j + QK4_1 / 2] = (b[i].qs[j] >> 4) * d + m;
		}
	}
}

void
kern_quant_q4_1(const float *src, void *dst, int64_t n)
{
	block_q4_1 *b = dst;

	for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1)
	{
		float min = FLT_MAX, max = -FLT_MAX, d, id;

		for (int j = 0; j < QK4_1; j++)
		{
			if (src[j] < min)
				min = src[j];
			if (src[j] > max)
				max = src[j];
		}
		d = (max - min) / 15.0f;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		b[i].d = kern_fp32_to_fp16(d);
		b[i].m = kern_fp32_to_fp16(min);
		for (int j = 0; j < QK4_1 / 2; j++)
		{
			int q0 = (int8_t) ((src[j] - min) * id + 0.5f);
			int q1 = (int8_t) ((src[j + QK4_1 / 2] - min) * id + 0.5f);

			b[i].qs[j] = (uint8_t) ((q0 < 15 ? q0 : 15) | ((q1 < 15 ? q1 : 15) << 4));
		}
	}
}

/* w (n,) q4_1 . a (n,) q8_1: d_w*d_a*sum(q_w*q_a) + m_w*s_a */
float
kern_vec_dot_q4_1(int64_t n, const void *w, const void *a)
{
	const block_q4_1 *x = w;
	const block_q8_1 *y = a;
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK4_1; i++)
	{
		int32_t isum = 0;

		for (int j = 0; j < QK4_1 / 2; j++)
			isum += (x[i].qs[j] & 0x0F) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
		sum += (kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d)) * (float) isum +
			kern_fp16_to_fp32(x[i].m) * kern_fp16_to_fp32(y[i].s);
	}
	return sum;
}
