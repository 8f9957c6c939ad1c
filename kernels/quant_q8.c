/*
 * quant_q8.c -- Q8_0 (weights and the activations of q8_0/q4_0/q5_0) and Q8_1
 * (activations of q4_1/q5_1), with ggml's reference rounding: d = amax/127,
 * q = roundf(x/d) (ties away from zero), d stored as f16.
 */
#include <math.h>

#include "quant.h"

void
kern_dequant_q8_0(const void *src, float *dst, int64_t n)
{
	const block_q8_0 *b = src;

	for (int64_t i = 0; i < n / QK8_0; i++)
	{
		float d = kern_fp16_to_fp32(b[i].d);

		for (int j = 0; j < QK8_0; j++)
			dst[i * QK8_0 + j] = b[i].qs[j] * d;
	}
}

/* One block of 32: scale (unrounded) and quants; returns the scale. */
static float
q8_block(const float *x, int8_t *qs)
{
	float amax = 0.0f;
	float d, id;

	for (int j = 0; j < 32; j++)
		amax = fmaxf(amax, fabsf(x[j]));
	d = amax / 127.0f;
	id = d != 0.0f ? 1.0f / d : 0.0f;
	for (int j = 0; j < 32; j++)
		qs[j] = (int8_t) roundf(x[j] * id);
	return d;
}

void
kern_quant_q8_0(const float *src, void *dst, int64_t n)
{
	block_q8_0 *b = dst;

	for (int64_t i = 0; i < n / QK8_0; i++)
		b[i].d = kern_fp32_to_fp16(q8_block(src + i * QK8_0, b[i].qs));
}

/* w (n,) q8_0 . a (n,) q8_0 */
float
kern_vec_dot_q8_0(int64_t n, const void *w, const void *a)
{
	const block_q8_0 *x = w, *y = a;
	float             sum = 0.0f;

	for (int64_t i = 0; i < n / QK8_0; i++)
	{
		int32_t isum = 0;

		for (int j = 0; j < QK8_0; j++)
			isum += x[i].qs[j] * y[i].qs[j];
		sum += (float) isum * (kern_fp16_to_fp32(x[i].d) * kern_fp16_to_fp32(y[i].d));
	}
	return sum;
}

void
kern_dequant_q8_1(const void *src, float *dst, int64_t n)
{
	const block_q8_1 *b = src;

	for (int64_t i = 0; i < n / QK8_1; i++)
	{
		float d = kern_fp16_to_fp32(b[i].d);

		for (int j = 0; j < QK8_1; j++)
			dst[i * QK8_1 + j] = b[i].qs[j] * d;
	}
}

void
kern_quant_q8_1(const float *src, void *dst, int64_t n)
{
	block_q8_1 *b = dst;

	for (int64_t i = 0; i < n / QK8_1; i++)
	{
		float d = q8_block(src + i * QK8_1, b[i].qs);
		int   sum = 0;

		for (int j = 0; j < QK8_1; j++)
			sum += b[i].qs[j];
		b[i].d = kern_fp32_to_fp16(d);
		b[i].s = kern_fp32_to_fp16((float) sum * d);
	}
}
