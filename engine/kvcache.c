/*
 * kvcache.c -- the key/value cache of a session (f32 or f16 rows), and the two
 * primitives attention needs from it: K row . q and out += a * V row.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kvcache.h"

size_t
pllm_kv_bytes(pllm_kv_type type, uint32_t n_layer, uint32_t n_ctx, uint32_t row)
{
	size_t elem = type == PLLM_KV_F16 ? 2 : 4;
	size_t n = (size_t) n_layer * n_ctx;

	if (n_ctx && n / n_ctx != n_layer)
		return 0;
	if (row && n > SIZE_MAX / row / elem / 2)
		return 0;
	return n * row * elem * 2;
}

pllm_status
pllm_kv_init(pllm_kvcache *kv, pllm_kv_type type, uint32_t n_layer, uint32_t n_ctx, uint32_t row,
			 pllm_error *err)
{
	size_t total = pllm_kv_bytes(type, n_layer, n_ctx, row);

	memset(kv, 0, sizeof(*kv));
	if (type != PLLM_KV_F32 && type != PLLM_KV_F16)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "unknown kv cache type %d", (int) type);
	if (total == 0)
		return pllm_error_set(err, PLLM_ERR_LIMIT, "kv cache size overflows");
	kv->type = type;
	kv->n_layer = n_layer;
	kv->n_ctx = n_ctx;
	kv->row = row;
	kv->elem = type == PLLM_KV_F16 ? 2 : 4;
	kv->k = aligned_alloc(64, (total / 2 + 63) & ~(size_t) 63);
	kv->v = aligned_alloc(64, (total / 2 + 63) & ~(size_t) 63);
	if (!kv->k || !kv->v)
	{
		pllm_kv_free(kv);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a %zu-byte kv cache", total);
	}
	return PLLM_OK;
}

void
pllm_kv_free(pllm_kvcache *kv)
{
	free(kv->k);
	free(kv->v);
	kv->k = kv->v = NULL;
}

static inline size_t
kv_index(const pllm_kvcache *kv, uint32_t il, uint32_t pos)
{
	return ((size_t) il * kv->n_ctx + pos) * kv->row;
}

void
pllm_kv_store(pllm_kvcache *kv, uint32_t il, uint32_t pos, const float *k, const float *v)
{
	size_t   at = kv_index(kv, il, pos);
	uint32_t i;

	if (kv->type == PLLM_KV_F32)
	{
		memcpy((float *) kv->k + at, k, kv->row * sizeof(float));
		memcpy((float *) kv->v + at, v, kv->row * sizeof(float));
		return;
	}
	for (i = 0; i < kv->row; i++)
	{
		((uint16_t *) kv->k)[at + i] = kern_fp32_to_fp16(k[i]);
		((uint16_t *) kv->v)[at + i] = kern_fp32_to_fp16(v[i]);
	}
}

float
pllm_kv_dot_k(const pllm_kvcache *kv, uint32_t il, uint32_t pos, uint32_t off, const float *q,
			  uint32_t n)
{
	size_t at = kv_index(kv, il, pos) + off;

	if (kv->type == PLLM_KV_F32)
		return kern_attn_dot_f32(n, (const float *) kv->k + at, q);
	return kern_attn_dot_f16(n, (const uint16_t *) kv->k + at, q);
}

void
pllm_kv_axpy_v(const pllm_kvcache *kv, uint32_t il, uint32_t pos, uint32_t off, float a, float *out,
			   uint32_t n)
{
	size_t at = kv_index(kv, il, pos) + off;

	if (kv->type == PLLM_KV_F32)
		kern_attn_axpy_f32(n, a, (const float *) kv->v + at, out);
	else
		kern_attn_axpy_f16(n, a, (const uint16_t *) kv->v + at, out);
}
