/*
 * float_rows.c -- scalar reference kernels of the float weight types: F32 (dot
 * with f32 activations), F16 (activations rounded to f16) and BF16 (to bf16).
 * Products are summed in double, as ggml's scalar path does.
 */
#include <string.h>

#include "quant.h"

void
kern_dequant_f32(const void *src, float *dst, int64_t n)
{
	memcpy(dst, src, (size_t) n * sizeof(float));
}

void
kern_quant_f32(const float *src, void *dst, int64_t n)
{
	memcpy(dst, src, (size_t) n * sizeof(float));
}

/* w (n,) . a (n,), both f32 */
float
kern_vec_dot_f32(int64_t n, const void *w, const void *a)
{
	const float *x = w, *y = a;
	double       sum = 0.0;

	for (int64_t i = 0; i < n; i++)
		sum += (double) (x[i] * y[i]);
	return (float) sum;
}

void
kern_dequant_f16(const void *src, float *dst, int64_t n)
{
	kern_fp16_to_fp32_row(src, dst, n);
}

void
kern_quant_f16(const float *src, void *dst, int64_t n)
{
	kern_fp32_to_fp16_row(src, dst, n);
}

/* w (n,) f16 . a (n,) f16; each product is exact in f32 */
float
kern_vec_dot_f16(int64_t n, const void *w, const void *a)
{
	const uint16_t *x = w, *y = a;
	double          sum = 0.0;

	for (int64_t i = 0; i < n; i++)
		sum += (double) (kern_fp16_to_fp32(x[i]) * kern_fp16_to_fp32(y[i]));
	return (float) sum;
}

void
kern_dequant_bf16(const void *src, float *dst, int64_t n)
{
	kern_bf16_to_fp32_row(src, dst, n);
}

void
kern_quant_bf16(const float *src, void *dst, int64_t n)
{
	kern_fp32_to_bf16_row(src, dst, n);
}

/* w (n,) bf16 . a (n,) bf16; each product is exact in f32 */
float
kern_vec_dot_bf16(int64_t n, const void *w, const void *a)
{
	const uint16_t *x = w, *y = a;
	double          sum = 0.0;

	for (int64_t i = 0; i < n; i++)
		sum += (double) (kern_bf16_to_fp32(x[i]) * kern_bf16_to_fp32(y[i]));
	return (float) sum;
}
