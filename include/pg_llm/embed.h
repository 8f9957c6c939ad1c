/*
 * embed.h -- sentence embeddings: one vector per input text (or token-id
 * sequence), from an encoder model (bert family: all-MiniLM, bge, e5, gte) or a
 * decoder model (mean or last-token pooling of the final, output-normed hidden
 * state, as llama.cpp does). Many inputs of different lengths run in one packed
 * pass; the result of an input never depends on what it was batched with.
 *
 * Thread safety: every call takes a const model and allocates its own work
 * memory (once per call, sized for the batch; nothing per token), so concurrent
 * calls on one model are safe.
 */
#ifndef PG_LLM_EMBED_H
#define PG_LLM_EMBED_H

#include "pg_llm/pllm.h"
#include "pg_llm/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pooling types, numbered as GGUF's <arch>.pooling_type. */
typedef enum pllm_pooling
{
	PLLM_POOLING_MODEL = -1,  /* the model's own (bert.pooling_type; decoders: LAST) */
	PLLM_POOLING_NONE = 0,    /* per-token states only: an error for pllm_embed_* */
	PLLM_POOLING_MEAN = 1,
	PLLM_POOLING_CLS = 2,     /* first token */
	PLLM_POOLING_LAST = 3     /* last token */
} pllm_pooling;

typedef struct pllm_embed_opts
{
	bool          normalize;        /* L2-normalise each vector (computed in double); default true */
	bool          truncate;         /* too-long input: cut it, keeping a final [SEP]/EOS (default
									 * true); false: fail with PLLM_ERR_LIMIT */
	int           pooling;          /* a pllm_pooling; default PLLM_POOLING_MODEL */
	int           n_threads;        /* compute threads (> 0 resizes the process pool, as sessions
									 * do); 0: the pool as it is */
	int           max_batch_tokens; /* tokens per forward pass (0: 2048); an input longer than
									 * this still runs, alone */
	pllm_abort_fn should_abort;     /* polled between layers; may be NULL */
	void         *abort_arg;
} pllm_embed_opts;

pllm_embed_opts pllm_embed_opts_default(void);

/* Length of the vectors (the model's n_embd). */
uint32_t    pllm_embed_dim(const pllm_model *m);
/* Longest input in tokens (specials included) the model takes without truncation. */
uint32_t    pllm_embed_max_tokens(const pllm_model *m);
/* The pooling PLLM_POOLING_MODEL resolves to for this model (may be NONE). */
pllm_pooling pllm_embed_model_pooling(const pllm_model *m);

/*
 * Embed n texts: texts[i] is lens[i] bytes (lens may be NULL: NUL-terminated).
 * Each is tokenized with the model's special tokens ([CLS] ... [SEP] for bert).
 * out receives n rows of pllm_embed_dim() floats; truncated (may be NULL)
 * receives, per input, whether it was cut to fit the context.
 * opts may be NULL (defaults). Errors: PLLM_ERR_INVALID_ARG (bad arguments,
 * pooling NONE, model without tokenizer), PLLM_ERR_UNSUPPORTED (the model's
 * pooling type is none or unknown), PLLM_ERR_LIMIT (too long with
 * truncate=false), PLLM_ERR_NOMEM, PLLM_ERR_CANCELLED.
 */
pllm_status pllm_embed_texts(const pllm_model *m, const char *const *texts, const size_t *lens,
							 int n, const pllm_embed_opts *opts, float *out, bool *truncated,
							 pllm_error *err);

/*
 * The same for token-id sequences, bypassing the tokenizer: ids[i] holds
 * n_ids[i] >= 1 ids, used as given (no specials added).
 */
pllm_status pllm_embed_ids(const pllm_model *m, const int32_t *const *ids, const int *n_ids,
						   int n, const pllm_embed_opts *opts, float *out, bool *truncated,
						   pllm_error *err);

/*
 * Per-token final hidden states of one sequence (after the last layer norm; for
 * decoders after the output norm), not pooled or normalised: out is
 * n_ids x pllm_embed_dim(). n_ids must fit pllm_embed_max_tokens() (PLLM_ERR_LIMIT).
 * opts->pooling, normalize and truncate are ignored.
 */
pllm_status pllm_embed_token_states(const pllm_model *m, const int32_t *ids, int n_ids,
									const pllm_embed_opts *opts, float *out, pllm_error *err);

#ifdef __cplusplus
}
#endif
#endif
