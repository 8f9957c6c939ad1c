/*
 * sampler.h -- choosing the next token from logits (greedy, temperature,
 * top-k, top-p, min-p, repetition penalty) with a seeded RNG that gives the
 * same sequence on every machine, and pllm_generate(): prompt in, text pieces
 * out through a UTF-8-safe streaming callback, shared by the CLI and SQL.
 */
#ifndef PG_LLM_SAMPLER_H
#define PG_LLM_SAMPLER_H

#include "pg_llm/pllm.h"
#include "pg_llm/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pllm_sampler_params
{
	float    temperature;     /* <= 0: greedy (argmax, lowest id wins ties) */
	int32_t  top_k;           /* <= 0: off */
	float    top_p;           /* >= 1: off */
	float    min_p;           /* <= 0: off */
	float    repeat_penalty;  /* 1: off; llama.cpp rule (divide positive logits, multiply negative) */
	int32_t  repeat_last_n;   /* tokens the penalty looks back on (0: off, -1: whole context) */
	uint64_t seed;
} pllm_sampler_params;

/* temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1, last_n 64, seed 0. */
pllm_sampler_params pllm_sampler_params_default(void);

typedef struct pllm_sampler pllm_sampler;

/* n_vocab sizes the candidate buffers (allocated here, once). */
pllm_status pllm_sampler_create(const pllm_sampler_params *p, uint32_t n_vocab,
								pllm_sampler **out, pllm_error *err);
void        pllm_sampler_free(pllm_sampler *s);
/* Restart the RNG from seed and forget the token history. */
void        pllm_sampler_reset(pllm_sampler *s, uint64_t seed);
/* Record a token (prompt or generated) for the repetition penalty. */
void        pllm_sampler_accept(pllm_sampler *s, int32_t id);
/* Pick a token from logits[n_vocab] (logits are not modified). */
int32_t     pllm_sampler_sample(pllm_sampler *s, const float *logits);

/* Deterministic RNG (xoshiro256** seeded through splitmix64). */
typedef struct pllm_rng
{
	uint64_t s[4];
} pllm_rng;

void        pllm_rng_seed(pllm_rng *r, uint64_t seed);
uint64_t    pllm_rng_next(pllm_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double      pllm_rng_uniform(pllm_rng *r);

/* ---- generation ----------------------------------------------------------- */

#define PLLM_GEN_MAX_STOP 8

typedef enum pllm_stop_reason
{
	PLLM_STOP_NONE = 0,
	PLLM_STOP_EOG,            /* end-of-generation token */
	PLLM_STOP_STRING,         /* a stop string appeared */
	PLLM_STOP_MAX_TOKENS,
	PLLM_STOP_CONTEXT,        /* the context is full */
	PLLM_STOP_CALLBACK        /* the piece callback asked to stop */
} pllm_stop_reason;

typedef struct pllm_gen_params
{
	int32_t             max_tokens;       /* generated tokens at most (<= 0: until EOG/context) */
	pllm_sampler_params sampling;
	const char         *stop[PLLM_GEN_MAX_STOP];  /* NUL-terminated stop strings, NULL = unused */
	bool                add_special;      /* add BOS etc. as the model says (default true) */
	bool                parse_special;    /* special-token text in the prompt becomes ids */
	bool                ignore_eog;       /* keep going past EOG tokens */
} pllm_gen_params;

pllm_gen_params pllm_gen_params_default(void);

/*
 * Streaming callback: called with successive pieces of the generated text, each
 * valid UTF-8 (never half a character; text of a stop string is never emitted).
 * Return false to stop generating.
 */
typedef bool (*pllm_piece_fn)(const char *text, size_t len, void *user);

typedef struct pllm_gen_result
{
	int32_t          n_prompt;    /* prompt tokens */
	int32_t          n_gen;       /* tokens generated */
	pllm_stop_reason stop;
	char            *text;        /* everything emitted (malloc'd, NUL-terminated); free with pllm_gen_result_free */
	size_t           text_len;
} pllm_gen_result;

/*
 * Reset the session, tokenize prompt[0..len) with the model's tokenizer, run it
 * as one batch, then sample until EOG, a stop string, max_tokens or a full
 * context. PLLM_ERR_LIMIT when the prompt alone does not fit the context.
 * callback may be NULL; result may be NULL.
 */
pllm_status pllm_generate(pllm_session *s, const char *prompt, size_t len, const pllm_gen_params *p,
						  pllm_piece_fn callback, void *user, pllm_gen_result *result, pllm_error *err);
/* Same, from token ids. */
pllm_status pllm_generate_ids(pllm_session *s, const int32_t *ids, int n, const pllm_gen_params *p,
							  pllm_piece_fn callback, void *user, pllm_gen_result *result, pllm_error *err);
void        pllm_gen_result_free(pllm_gen_result *r);

#ifdef __cplusplus
}
#endif
#endif
