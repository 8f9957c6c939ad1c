/*
 * session.h -- one conversation's state on a decoder model: the KV cache, the
 * activations for a batch of tokens and the matmul scratch, all allocated when
 * the session is created. Evaluating tokens allocates nothing.
 */
#ifndef PG_LLM_SESSION_H
#define PG_LLM_SESSION_H

#include "pg_llm/pllm.h"
#include "pg_llm/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pllm_session pllm_session;

typedef enum pllm_kv_type
{
	PLLM_KV_F32 = 0,
	PLLM_KV_F16 = 1
} pllm_kv_type;

/* Cap on n_ctx when it defaults to the model's training context. */
#define PLLM_SESSION_DEFAULT_CTX_CAP 4096
#define PLLM_SESSION_DEFAULT_BATCH   512

typedef struct pllm_session_opts
{
	uint32_t      n_ctx;      /* 0: model's n_ctx_train, capped at 4096 */
	uint32_t      n_batch;    /* tokens per forward pass; 0: min(n_ctx, 512) */
	pllm_kv_type  kv_type;
	int           n_threads;  /* 0: kernels' default */
	pllm_abort_fn should_abort;   /* may be NULL */
	void         *abort_arg;
} pllm_session_opts;

pllm_session_opts pllm_session_opts_default(void);

/* The model must outlive the session. opts may be NULL (defaults). */
pllm_status pllm_session_create(const pllm_model *model, const pllm_session_opts *opts,
								pllm_session **out, pllm_error *err);
void        pllm_session_free(pllm_session *s);

/*
 * Append ids[0..n) at the current position and run the model. The batch is cut
 * into n_batch-sized passes. all_logits: keep the logits of every position
 * (then n must be <= n_batch); otherwise only the last position's.
 * PLLM_ERR_LIMIT when n_past + n would exceed n_ctx (nothing is evaluated),
 * PLLM_ERR_INVALID_ARG for ids outside the vocabulary, PLLM_ERR_CANCELLED when
 * should_abort said so (the tokens of the interrupted pass are dropped).
 */
pllm_status pllm_session_eval(pllm_session *s, const int32_t *ids, int n, bool all_logits,
							  pllm_error *err);

/* Forget everything: position back to 0 (the cache is not cleared, just reused). */
void        pllm_session_reset(pllm_session *s);
/* Drop positions >= n_past (n_past <= current position), e.g. to reuse a prefix. */
pllm_status pllm_session_truncate(pllm_session *s, uint32_t n_past, pllm_error *err);

void        pllm_session_set_abort(pllm_session *s, pllm_abort_fn fn, void *arg);

/*
 * Logits (n_vocab floats) of row i of the last eval: i in [0, n_rows); with
 * all_logits=false there is one row (the last token). NULL when out of range.
 */
const float *pllm_session_logits(const pllm_session *s, int i);
int          pllm_session_n_logit_rows(const pllm_session *s);

uint32_t     pllm_session_n_past(const pllm_session *s);
uint32_t     pllm_session_n_ctx(const pllm_session *s);
uint32_t     pllm_session_n_batch(const pllm_session *s);
const pllm_model *pllm_session_model(const pllm_session *s);
/* Bytes the session allocated (KV cache + activations + scratch). */
size_t       pllm_session_bytes(const pllm_session *s);

#ifdef __cplusplus
}
#endif
#endif
