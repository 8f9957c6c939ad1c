/*
 * arch.h -- engine-internal view of a model and a session, and the table of
 * architectures. Each family lives in its own file (arch_llama.c, arch_qwen2.c,
 * later arch_bert.c) and contributes one pllm_arch entry: how to read its
 * hyper-parameters and tensors, how much work memory a session needs, and its
 * forward pass. Tensor names come from one pattern table (pllm_tensor_id).
 */
#ifndef PG_LLM_ARCH_H
#define PG_LLM_ARCH_H

#include "pg_llm/pllm.h"
#include "pg_llm/gguf.h"
#include "pg_llm/mapfile.h"
#include "pg_llm/model.h"
#include "pg_llm/session.h"

struct pllm_tokenizer;

/* A weight tensor referenced in place. data == NULL: absent (optional tensor). */
typedef struct pllm_weight
{
	uint32_t    type;     /* pllm_type */
	const void *data;
	int64_t     ne[4];    /* ne[0] = row length */
	uint32_t    n_dims;
} pllm_weight;

/* Tensor-name patterns, ggml/llama.cpp naming; "%d" is the layer. */
typedef enum pllm_tensor_id
{
	PLLM_T_TOKEN_EMBD,
	PLLM_T_TOKEN_EMBD_NORM,
	PLLM_T_POS_EMBD,
	PLLM_T_TOKEN_TYPES,
	PLLM_T_OUTPUT_NORM,
	PLLM_T_OUTPUT,
	PLLM_T_ROPE_FREQS,
	PLLM_T_ATTN_NORM,
	PLLM_T_ATTN_Q,
	PLLM_T_ATTN_K,
	PLLM_T_ATTN_V,
	PLLM_T_ATTN_QKV,
	PLLM_T_ATTN_OUT,
	PLLM_T_ATTN_OUT_NORM,
	PLLM_T_FFN_NORM,
	PLLM_T_FFN_GATE,
	PLLM_T_FFN_UP,
	PLLM_T_FFN_DOWN,
	PLLM_T_LAYER_OUT_NORM,
	PLLM_T_COUNT
} pllm_tensor_id;

typedef enum pllm_rope_scaling_type
{
	PLLM_ROPE_SCALING_NONE = 0,
	PLLM_ROPE_SCALING_LINEAR,
	PLLM_ROPE_SCALING_LLAMA3
} pllm_rope_scaling_type;

typedef struct pllm_hparams
{
	uint32_t n_layer;
	uint32_t n_embd;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;        /* key/value length per head */
	uint32_t n_rot;           /* rotated dims per head (<= head_dim) */
	uint32_t n_ff;
	uint32_t n_vocab;
	uint32_t n_ctx_train;
	float    rope_base;
	float    rope_freq_scale; /* 1 / linear factor */
	pllm_rope_scaling_type rope_scaling;
	bool     rope_neox;       /* NEOX pairs (i, i+n_rot/2) vs interleaved (2i, 2i+1) */
	float    norm_eps;
	bool     causal;
	/* encoder families (bert) */
	uint32_t n_pos;           /* learned position embeddings, 0 = none */
	uint32_t n_token_types;
	int32_t  pooling;         /* GGUF <arch>.pooling_type, -1 = not given */
} pllm_hparams;

/* Per-layer weights; a family uses the subset it needs, the rest stay NULL. */
typedef struct pllm_layer
{
	pllm_weight attn_norm, attn_norm_b;
	pllm_weight wq, wk, wv, wqkv, wo;
	pllm_weight bq, bk, bv, bqkv, bo;
	pllm_weight attn_out_norm, attn_out_norm_b;
	pllm_weight ffn_norm, ffn_norm_b;
	pllm_weight ffn_gate, ffn_up, ffn_down;
	pllm_weight ffn_gate_b, ffn_up_b, ffn_down_b;
	pllm_weight layer_out_norm, layer_out_norm_b;
} pllm_layer;

typedef struct pllm_arch pllm_arch;

struct pllm_model
{
	pllm_mapped_file  map;        /* owned mapping (open_file), else empty */
	const uint8_t    *buf;
	size_t            len;
	pllm_gguf        *gguf;
	const pllm_arch  *arch;
	pllm_hparams      hp;
	pllm_weight       tok_embd, tok_embd_norm, tok_embd_norm_b, pos_embd, token_types;
	pllm_weight       output_norm, output_norm_b, output, output_b, rope_freqs;
	pllm_layer       *layers;     /* hp.n_layer entries */
	struct pllm_tokenizer *tok;
	void             *arch_data;  /* family-private, freed by arch->free_data */
};

/* Key/value cache of one session: per layer [n_ctx][n_head_kv*head_dim]. */
typedef struct pllm_kvcache
{
	pllm_kv_type type;
	uint32_t     n_layer;
	uint32_t     n_ctx;
	uint32_t     row;            /* n_head_kv * head_dim */
	size_t       elem;           /* 4 or 2 */
	void        *k;
	void        *v;
} pllm_kvcache;

struct pllm_session
{
	const pllm_model *model;
	pllm_session_opts opts;
	uint32_t          n_ctx;
	uint32_t          n_batch;
	uint32_t          n_past;
	pllm_kvcache      kv;
	void             *work;        /* arch-defined layout, work_bytes long */
	size_t            work_bytes;
	float            *logits;      /* n_batch x n_vocab */
	int               n_logit_rows;
	/*
	 * When set, the forward pass writes the output-normed final hidden states
	 * (n x n_embd, all rows) here instead of computing logits (decoder
	 * embeddings). Owned by the caller; n_logit_rows is then 0.
	 */
	float            *hidden_out;
	size_t            total_bytes;
	/* Prompts evaluated by pllm_generate reuse and feed this cache (not owned; may be NULL). */
	struct pllm_prefix_cache *prefix_cache;
};

/* One architecture family. */
struct pllm_arch
{
	const char *name;
	bool        is_encoder;
	/* Read hyper-parameters and tensors into m->hp, m->tok_embd, m->layers, ... */
	pllm_status (*load)(pllm_model *m, pllm_error *err);
	/* Bytes of work memory a session with these sizes needs. */
	size_t      (*work_bytes)(const pllm_model *m, uint32_t n_ctx, uint32_t n_batch);
	/*
	 * Run ids[0..n) (n <= n_batch) at positions n_past.. and write logits rows
	 * into s->logits (all rows or only the last). Does not advance n_past.
	 */
	pllm_status (*forward)(pllm_session *s, const int32_t *ids, int n, bool all_logits,
						   pllm_error *err);
	void        (*free_data)(pllm_model *m);  /* may be NULL */
};

/* Architecture table (arch.c). */
const pllm_arch *pllm_arch_find(const char *name, size_t len);
extern const pllm_arch pllm_arch_llama;
extern const pllm_arch pllm_arch_qwen2;
extern const pllm_arch pllm_arch_bert;

/* ---- loader helpers (arch.c) ---------------------------------------------- */

/* Hyper-parameter `<arch>.<suffix>`; required ones fail with PLLM_ERR_FORMAT. */
pllm_status pllm_hp_u32(const pllm_model *m, const char *suffix, bool required,
						uint32_t *out, pllm_error *err);
pllm_status pllm_hp_f32(const pllm_model *m, const char *suffix, bool required,
						float *out, pllm_error *err);
bool        pllm_hp_str(const pllm_model *m, const char *suffix, pllm_str *out);

/* Read the hyper-parameters every decoder shares (block_count, embedding_length, ...). */
pllm_status pllm_hp_load_decoder(pllm_model *m, pllm_error *err);

#define PLLM_W_OPTIONAL 0x1   /* absent -> data NULL, no error */
#define PLLM_W_F32_ONLY 0x2   /* 1-D norms/biases: must be F32 */

/*
 * Bind tensor `<pattern(id)>.<suffix>` (suffix "weight" or "bias") of layer il
 * (ignored for global tensors) with expected shape ne0 x ne1 (ne1 = 0: 1-D).
 * Missing/wrong shape -> PLLM_ERR_FORMAT; type we cannot compute with ->
 * PLLM_ERR_UNSUPPORTED; both messages name the tensor.
 */
pllm_status pllm_weight_bind(const pllm_model *m, pllm_tensor_id id, int il, const char *suffix,
							 int64_t ne0, int64_t ne1, int flags, pllm_weight *w, pllm_error *err);

/* Formats the full name of a tensor into buf. */
void        pllm_tensor_name(pllm_tensor_id id, int il, const char *suffix, char *buf, size_t cap);

/* ---- llama-style decoder (decoder.c), shared by llama and qwen2 ----------- */
size_t      pllm_decoder_work_bytes(const pllm_model *m, uint32_t n_ctx, uint32_t n_batch);
pllm_status pllm_decoder_forward(pllm_session *s, const int32_t *ids, int n, bool all_logits,
								 pllm_error *err);

/*
 * The tokens of one forward pass, which may belong to several sequences
 * (batch.c): token t is ids[t] at position pos[t] of cache kvs[t]. A single
 * sequence leaves kvs and pos NULL: token t then goes to kv at pos0 + t.
 * Each token's results depend only on its own sequence, never on the others.
 */
typedef struct pllm_fwd_tokens
{
	int                  n;
	const int32_t       *ids;
	pllm_kvcache        *kv;       /* every token's cache when kvs == NULL */
	uint32_t             pos0;
	pllm_kvcache *const *kvs;      /* per token, or NULL */
	const uint32_t      *pos;      /* per token, or NULL */
} pllm_fwd_tokens;

/* Work memory, outputs and cancellation of a forward pass outside a session. */
typedef struct pllm_fwd_ctx
{
	const pllm_model *model;
	void             *work;        /* work_bytes(model, n_ctx, n_batch) bytes */
	uint32_t          n_ctx;       /* longest sequence the work memory serves */
	uint32_t          n_batch;     /* most tokens per pass */
	float            *logits;      /* n_out x n_vocab */
	float            *hidden_out;  /* when set: final hidden states of all n tokens instead of logits */
	pllm_abort_fn     should_abort;
	void             *abort_arg;
} pllm_fwd_ctx;

/*
 * Run tk->n <= n_batch tokens; write the logits of tokens out_rows[0..n_out)
 * (ascending; NULL: the last n_out tokens) as rows 0..n_out of c->logits.
 */
pllm_status pllm_decoder_forward_tokens(const pllm_fwd_ctx *c, const pllm_fwd_tokens *tk,
										const int32_t *out_rows, int n_out, pllm_error *err);

/* Poll the session's abort callback. */
static inline bool
pllm_session_should_abort(const pllm_session *s)
{
	return s->opts.should_abort && s->opts.should_abort(s->opts.abort_arg);
}

#endif
