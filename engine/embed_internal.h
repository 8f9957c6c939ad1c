/*
 * embed_internal.h -- what the embedding front end (embed.c) and the encoder
 * forward pass (arch_bert.c) share: the packed batch, the per-call control
 * block, and the numeric helpers (embed_ops.c) that imitate ggml's CPU ops.
 */
#ifndef PG_LLM_EMBED_INTERNAL_H
#define PG_LLM_EMBED_INTERNAL_H

#include "arch.h"
#include "pg_llm/embed.h"

/*
 * n_seq sequences laid end to end: sequence s is ids[off[s] .. off[s+1]),
 * positions 0.. within it. Attention never crosses a sequence boundary.
 */
typedef struct pllm_embed_batch
{
	const int32_t *ids;      /* n_tok ids */
	const int     *off;      /* n_seq + 1 offsets, off[0] = 0, off[n_seq] = n_tok */
	int            n_seq;
	int            n_tok;
	int            max_len;  /* longest sequence */
} pllm_embed_batch;

/* Per-call settings the forward pass needs. */
typedef struct pllm_embed_ctl
{
	int           n_threads;     /* threads for this call's own work, >= 1 */
	pllm_abort_fn should_abort;
	void         *abort_arg;
} pllm_embed_ctl;

static inline bool
pllm_embed_should_abort(const pllm_embed_ctl *c)
{
	return c->should_abort && c->should_abort(c->abort_arg);
}

/* ---- bert forward (arch_bert.c) ------------------------------------------ */

/* Bytes of work memory for a batch of n_tok tokens, sequences up to max_len. */
size_t      pllm_bert_work_bytes(const pllm_model *m, int n_tok, int max_len, int n_threads);
/*
 * Run the encoder over the packed batch; hidden (n_tok x n_embd) receives the
 * final hidden state of every token (after the last layer norm). work is
 * pllm_bert_work_bytes() bytes, 64-byte aligned. Ids must be in the vocabulary
 * and no sequence longer than the position table (the caller checks).
 */
pllm_status pllm_bert_encode(const pllm_model *m, const pllm_embed_batch *b, const pllm_embed_ctl *c,
							 void *work, float *hidden, pllm_error *err);

/* ---- numeric helpers (embed_ops.c) ---------------------------------------- */

/* fn(arg, begin, end, ith) over a split of [0, n) on up to n_threads pool threads. */
typedef void (*pllm_range_fn)(void *arg, int64_t begin, int64_t end, int ith);
void        pllm_embed_parallel(int n_threads, int64_t n, pllm_range_fn fn, void *arg);

/*
 * out (n_tok, rows) = x (n_tok, cols) . W^T (+ bias b when b->data): F32 weights
 * through kern_sgemm_nt (OpenBLAS), others through kern_matmul (activations
 * rounded to the weight's vec_dot type, as ggml does), split over tokens.
 * scratch holds pllm_embed_linear_scratch(W, n_tok) bytes.
 */
size_t      pllm_embed_linear_scratch(const pllm_weight *w, int64_t n_tok);
void        pllm_embed_linear(const pllm_weight *w, const pllm_weight *b, const float *x,
							  int64_t n_tok, float *out, void *scratch, int n_threads);

/* y = (x - mean) / sqrt(var + eps) * w + b over one row of n (ggml_norm, mul, add). */
void        pllm_embed_layer_norm(const float *x, const float *w, const float *b, float *y,
								  int64_t n, float eps);

/* In place: GELU through ggml's F16 table (x -> fp16 -> table; <= -10: 0; >= 10: x). */
void        pllm_embed_gelu(float *x, int64_t n);

#endif
