/*
 * model.h -- opening a GGUF model: the architecture is looked up in a table,
 * hyper-parameters are read from `<arch>.*` keys and weights are referenced
 * where they lie (an mmap'd file or a caller's buffer), never copied.
 */
#ifndef PG_LLM_MODEL_H
#define PG_LLM_MODEL_H

#include "pg_llm/pllm.h"
#include "pg_llm/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pllm_model pllm_model;
struct pllm_tokenizer;

typedef struct pllm_model_opts
{
	/* Load the tokenizer too (default true via pllm_model_opts_default). */
	bool load_tokenizer;
} pllm_model_opts;

#define PLLM_MODEL_MAX_TYPES 8

/* What pllm_model_info reports: enough for `pg_llm info` and the llm.models view. */
typedef struct pllm_model_info
{
	char     arch[32];           /* "llama", "qwen2" */
	char     name[64];           /* general.name, "" when absent */
	bool     is_encoder;
	uint32_t n_layer;
	uint32_t n_embd;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;
	uint32_t n_ff;
	uint32_t n_vocab;
	uint32_t n_ctx_train;
	float    rope_base;
	float    rope_freq_scale;    /* 1 / linear scaling factor (1 = none) */
	char     rope_scaling[16];   /* "none", "linear", "llama3" */
	bool     rope_neox;          /* NEOX pairs (x[i], x[i+d/2]) vs interleaved */
	float    norm_eps;
	bool     tied_output;        /* logits use token_embd.weight */
	uint64_t n_params;           /* elements over all tensors */
	uint64_t n_bytes;            /* bytes of tensor data */
	uint64_t file_bytes;         /* bytes of the whole file/buffer */
	uint32_t n_tensors;
	/* Tensor type histogram: n_types entries of (ggml type number, count). */
	uint32_t n_types;
	uint32_t type_id[PLLM_MODEL_MAX_TYPES];
	uint32_t type_count[PLLM_MODEL_MAX_TYPES];
} pllm_model_info;

pllm_model_opts pllm_model_opts_default(void);

/* mmap path read-only and open it; the model owns the mapping. opts may be NULL. */
pllm_status pllm_model_open_file(const char *path, const pllm_model_opts *opts,
								 pllm_model **out, pllm_error *err);
/*
 * Open a model held in buf[0..len) (e.g. a shared-memory segment). The model
 * borrows buf, which must stay mapped until pllm_model_close.
 */
pllm_status pllm_model_open_buffer(const void *buf, size_t len, const pllm_model_opts *opts,
								   pllm_model **out, pllm_error *err);
void        pllm_model_close(pllm_model *m);

/* Fill *out (architecture, hyper-parameters, sizes, tensor types). */
void        pllm_model_get_info(const pllm_model *m, pllm_model_info *out);

/* The model's tokenizer (owned by the model), NULL if it was not loaded. */
struct pllm_tokenizer *pllm_model_tokenizer(const pllm_model *m);
/* The parsed GGUF index (owned by the model). */
const pllm_gguf *pllm_model_gguf(const pllm_model *m);
uint32_t    pllm_model_n_vocab(const pllm_model *m);
uint32_t    pllm_model_n_embd(const pllm_model *m);
uint32_t    pllm_model_n_ctx_train(const pllm_model *m);
bool        pllm_model_is_encoder(const pllm_model *m);

#ifdef __cplusplus
}
#endif
#endif
