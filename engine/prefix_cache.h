/*
 * prefix_cache.h -- engine-internal side of the prefix cache: copying cached
 * rows into a KV cache and storing a KV cache's rows, for sessions
 * (session.c) and batches (batch.c), which hold their caches differently.
 */
#ifndef PG_LLM_PREFIX_CACHE_H
#define PG_LLM_PREFIX_CACHE_H

#include "arch.h"
#include "pg_llm/batch.h"

/* True when c can serve KV caches of model m with type t. */
bool        pllm_prefix_cache_fits(const pllm_prefix_cache *c, const pllm_model *m, pllm_kv_type t);

/* Positions of ids[0..n) the cache could supply (no copy, no statistics). */
uint32_t    pllm_prefix_cache_match(const pllm_prefix_cache *c, const int32_t *ids, uint32_t n);

/*
 * Copy the rows of the longest cached prefix of ids[0..n) (at most n positions)
 * into positions 0.. of kv; returns how many. kv must fit the cache.
 */
uint32_t    pllm_prefix_cache_restore(pllm_prefix_cache *c, pllm_kvcache *kv, const int32_t *ids,
									  uint32_t n);

/*
 * Store positions 0..n of kv, which hold ids[0..n). Keeps what fits within
 * max_bytes (a prompt larger than the whole cache is stored up to that size).
 * Fails only with PLLM_ERR_NOMEM.
 */
pllm_status pllm_prefix_cache_store(pllm_prefix_cache *c, const pllm_kvcache *kv, const int32_t *ids,
									uint32_t n, pllm_error *err);

#endif
