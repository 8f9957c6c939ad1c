/*
 * batch.h -- many generations at once, and a cache of prompt-prefix KV state.
 *
 * pllm_batch_generate() decodes up to n_seq sequences together: every forward
 * pass carries one token of each decoding sequence (and chunks of the prompts
 * of sequences joining), so each weight block is read once per step for all of
 * them. Sequences leave when they finish (EOG, stop string, max_tokens, full
 * context) and waiting prompts take their place. Each sequence's output is the
 * one pllm_generate() gives for its prompt alone with the same parameters and
 * seed: every row of a pass is computed exactly as in a single-sequence pass.
 *
 * pllm_prefix_cache keeps the KV rows of prompts already evaluated, in a radix
 * tree of token runs, so a later prompt starting with the same tokens copies
 * those rows instead of recomputing them (a prompt's first L rows depend only
 * on its first L tokens). Bounded by max_bytes; least recently used runs go
 * first. One cache serves one model and one KV type; it is not thread-safe
 * (one per backend or per caller thread).
 */
#ifndef PG_LLM_BATCH_H
#define PG_LLM_BATCH_H

#include "pg_llm/pllm.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- prefix cache ------------------------------------------------------------ */

typedef struct pllm_prefix_cache pllm_prefix_cache;

typedef struct pllm_prefix_cache_stats
{
	uint64_t lookups;         /* prompts looked up */
	uint64_t hits;            /* ... that reused at least one position */
	uint64_t tokens_reused;   /* positions copied instead of computed */
	uint64_t tokens_stored;   /* positions added */
	uint64_t evictions;       /* token runs dropped to stay within max_bytes */
	uint32_t n_nodes;         /* token runs held */
	uint64_t n_tokens;        /* positions held */
	size_t   bytes;           /* memory held (KV rows, ids and nodes) */
	size_t   max_bytes;
} pllm_prefix_cache_stats;

/*
 * A cache for sessions/batches on model m with KV type kv_type, holding at most
 * max_bytes (> 0). The model must outlive the cache.
 */
pllm_status pllm_prefix_cache_create(const pllm_model *m, pllm_kv_type kv_type, size_t max_bytes,
									 pllm_prefix_cache **out, pllm_error *err);
void        pllm_prefix_cache_free(pllm_prefix_cache *c);
/* Drop every entry (statistics are kept). */
void        pllm_prefix_cache_clear(pllm_prefix_cache *c);
void        pllm_prefix_cache_get_stats(const pllm_prefix_cache *c, pllm_prefix_cache_stats *out);
/* Bytes one cached position takes on this cache's model and KV type. */
size_t      pllm_prefix_cache_token_bytes(const pllm_prefix_cache *c);

/*
 * Attach c (NULL detaches) to session s: from then on pllm_generate() and
 * pllm_session_eval_prompt() on s reuse cached prefixes of their prompts and
 * store the prompts they evaluate. c must have the session's model and KV type
 * (PLLM_ERR_INVALID_ARG) and outlive the attachment.
 */
pllm_status pllm_session_set_prefix_cache(pllm_session *s, pllm_prefix_cache *c, pllm_error *err);

/*
 * Reset s and evaluate a prompt ids[0..n), copying its longest cached prefix
 * (at most n - 1 positions: the last token is always evaluated, for its
 * logits) when s has a cache, then storing the prompt in it. Afterwards s is
 * exactly as after pllm_session_reset + pllm_session_eval(ids, n, false).
 * *n_reused (may be NULL) receives the positions copied.
 */
pllm_status pllm_session_eval_prompt(pllm_session *s, const int32_t *ids, int n, uint32_t *n_reused,
									 pllm_error *err);

/* ---- batched generation ----------------------------------------------------- */

#define PLLM_BATCH_DEFAULT_SEQ 16

typedef struct pllm_batch_opts
{
	int                n_seq;        /* sequences decoded together; 0: 16 */
	uint32_t           n_ctx;        /* context of each sequence, as a session's n_ctx (generation
									  * stops at PLLM_STOP_CONTEXT at the same point); 0: the model's
									  * n_ctx_train capped at 4096. Memory is only allocated for what
									  * the prompts and max_tokens can use. */
	uint32_t           n_batch;      /* most tokens per forward pass (prompt chunks included);
									  * 0: 512; at least n_seq */
	pllm_kv_type       kv_type;
	int                n_threads;    /* > 0 resizes the process pool, as sessions do */
	pllm_abort_fn      should_abort; /* polled between layers and steps; may be NULL */
	void              *abort_arg;
	pllm_prefix_cache *prefix_cache; /* may be NULL; same model and kv_type */
} pllm_batch_opts;

pllm_batch_opts pllm_batch_opts_default(void);

/* What a batch did (for statistics and benchmarks). */
typedef struct pllm_batch_stats
{
	int64_t n_forward;        /* forward passes */
	int64_t n_prompt_tokens;  /* prompt positions evaluated */
	int64_t n_reused_tokens;  /* prompt positions copied from the prefix cache */
	int64_t n_gen_tokens;     /* tokens sampled */
} pllm_batch_stats;

/*
 * Generate for n prompts: prompts[i] is lens[i] bytes (lens NULL: NUL-terminated),
 * tokenized as pllm_generate() does (p->add_special, p->parse_special). p may be
 * NULL (defaults); opts may be NULL (defaults). seeds (may be NULL) gives each
 * sequence's sampler seed; otherwise every sequence uses p->sampling.seed, as n
 * separate pllm_generate() calls would. results[0..n) receive each sequence's
 * text, counts and stop reason (free each with pllm_gen_result_free, also after
 * a failure: results are always initialised). stats may be NULL.
 *
 * Errors: PLLM_ERR_INVALID_ARG (bad arguments, an encoder model, a model without
 * tokenizer, a cache of another model), PLLM_ERR_UNSUPPORTED (an architecture
 * without a multi-sequence forward), PLLM_ERR_LIMIT (prompt i does not fit the
 * context: nothing is generated; the message names i), PLLM_ERR_NOMEM,
 * PLLM_ERR_CANCELLED (results hold the text generated so far).
 */
pllm_status pllm_batch_generate(const pllm_model *m, const char *const *prompts, const size_t *lens, int n,
								const pllm_gen_params *p, const uint64_t *seeds,
								const pllm_batch_opts *opts, pllm_gen_result *results,
								pllm_batch_stats *stats, pllm_error *err);

/* The same from token ids: ids[i] holds n_ids[i] >= 1 ids, used as given. */
pllm_status pllm_batch_generate_ids(const pllm_model *m, const int32_t *const *ids, const int *n_ids, int n,
									const pllm_gen_params *p, const uint64_t *seeds,
									const pllm_batch_opts *opts, pllm_gen_result *results,
									pllm_batch_stats *stats, pllm_error *err);

#ifdef __cplusplus
}
#endif
#endif
