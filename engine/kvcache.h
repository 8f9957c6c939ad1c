/*
 * kvcache.h -- a session's key/value cache: per layer, n_ctx rows of
 * n_head_kv*head_dim values, stored as f32 or f16. Allocated once per session.
 */
#ifndef PG_LLM_KVCACHE_H
#define PG_LLM_KVCACHE_H

#include "arch.h"

/* Bytes the cache needs; 0 on overflow. */
size_t      pllm_kv_bytes(pllm_kv_type type, uint32_t n_layer, uint32_t n_ctx, uint32_t row);
pllm_status pllm_kv_init(pllm_kvcache *kv, pllm_kv_type type, uint32_t n_layer, uint32_t n_ctx,
						 uint32_t row, pllm_error *err);
void        pllm_kv_free(pllm_kvcache *kv);

/* Store the k and v rows (row floats each) of position pos in layer il. */
void        pllm_kv_store(pllm_kvcache *kv, uint32_t il, uint32_t pos, const float *k, const float *v);
/* K[il][pos][off..off+n) . q */
float       pllm_kv_dot_k(const pllm_kvcache *kv, uint32_t il, uint32_t pos, uint32_t off,
						  const float *q, uint32_t n);
/* out[0..n) += a * V[il][pos][off..off+n) */
void        pllm_kv_axpy_v(const pllm_kvcache *kv, uint32_t il, uint32_t pos, uint32_t off,
						   float a, float *out, uint32_t n);

#endif
