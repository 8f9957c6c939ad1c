/*
 * arch.c -- the table of model architectures and the helpers every family's
 * loader uses: `<arch>.*` hyper-parameter lookup and binding tensors by name
 * pattern with shape and type checks. Adding a family = one table line plus
 * its own arch_<family>.c.
 */
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "kernels.h"
#include "pg_llm/types.h"

/* The architecture table. Encoder families (bert) are added here too. */
static const pllm_arch *const arch_table[] = {
	&pllm_arch_llama,
	&pllm_arch_qwen2,
	&pllm_arch_bert,
};

/* Tensor-name patterns (llama.cpp's LLM_TENSOR_NAMES for these tensors). */
static const char *const tensor_patterns[PLLM_T_COUNT] = {
	[PLLM_T_TOKEN_EMBD] = "token_embd",
	[PLLM_T_TOKEN_EMBD_NORM] = "token_embd_norm",
	[PLLM_T_POS_EMBD] = "position_embd",
	[PLLM_T_TOKEN_TYPES] = "token_types",
	[PLLM_T_OUTPUT_NORM] = "output_norm",
	[PLLM_T_OUTPUT] = "output",
	[PLLM_T_ROPE_FREQS] = "rope_freqs",
	[PLLM_T_ATTN_NORM] = "blk.%d.attn_norm",
	[PLLM_T_ATTN_Q] = "blk.%d.attn_q",
	[PLLM_T_ATTN_K] = "blk.%d.attn_k",
	[PLLM_T_ATTN_V] = "blk.%d.attn_v",
	[PLLM_T_ATTN_QKV] = "blk.%d.attn_qkv",
	[PLLM_T_ATTN_OUT] = "blk.%d.attn_output",
	[PLLM_T_ATTN_OUT_NORM] = "blk.%d.attn_output_norm",
	[PLLM_T_FFN_NORM] = "blk.%d.ffn_norm",
	[PLLM_T_FFN_GATE] = "blk.%d.ffn_gate",
	[PLLM_T_FFN_UP] = "blk.%d.ffn_up",
	[PLLM_T_FFN_DOWN] = "blk.%d.ffn_down",
	[PLLM_T_LAYER_OUT_NORM] = "blk.%d.layer_output_norm",
};

const pllm_arch *
pllm_arch_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(arch_table) / sizeof(arch_table[0]); i++)
	{
		const char *n = arch_table[i]->name;

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return arch_table[i];
	}
	return NULL;
}

static void
hp_key(const pllm_model *m, const char *suffix, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.%s", m->arch->name, suffix);
}

pllm_status
pllm_hp_u32(const pllm_model *m, const char *suffix, bool required, uint32_t *out,
			pllm_error *err)
{
	char key[128];

	hp_key(m, suffix, key, sizeof(key));
	if (pllm_gguf_get_u32(m->gguf, key, out))
		return PLLM_OK;
	if (pllm_gguf_find(m->gguf, key))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "metadata key %s has an invalid value", key);
	if (required)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing required metadata key %s", key);
	return PLLM_OK;
}

pllm_status
pllm_hp_f32(const pllm_model *m, const char *suffix, bool required, float *out,
			pllm_error *err)
{
	char key[128];

	hp_key(m, suffix, key, sizeof(key));
	if (pllm_gguf_get_f32(m->gguf, key, out))
		return PLLM_OK;
	if (pllm_gguf_find(m->gguf, key))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "metadata key %s has an invalid value", key);
	if (required)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing required metadata key %s", key);
	return PLLM_OK;
}

bool
pllm_hp_str(const pllm_model *m, const char *suffix, pllm_str *out)
{
	char key[128];

	hp_key(m, suffix, key, sizeof(key));
	return pllm_gguf_get_str(m->gguf, key, out);
}

/* Reads the rope scaling keys shared by llama-family decoders. */
static pllm_status
hp_load_rope(pllm_model *m, pllm_error *err)
{
	pllm_hparams *hp = &m->hp;
	pllm_str      type;
	float         factor = 0.0f;
	pllm_status   st;

	hp->rope_base = 10000.0f;
	hp->rope_freq_scale = 1.0f;
	hp->rope_scaling = PLLM_ROPE_SCALING_NONE;
	if ((st = pllm_hp_f32(m, "rope.freq_base", false, &hp->rope_base, err)) != PLLM_OK)
		return st;
	if (!(hp->rope_base > 0.0f))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "%s.rope.freq_base must be positive", m->arch->name);
	/* Older files: rope.scale_linear; newer: rope.scaling.type + rope.scaling.factor. */
	if ((st = pllm_hp_f32(m, "rope.scale_linear", false, &factor, err)) != PLLM_OK)
		return st;
	if ((st = pllm_hp_f32(m, "rope.scaling.factor", false, &factor, err)) != PLLM_OK)
		return st;
	if (pllm_hp_str(m, "rope.scaling.type", &type))
	{
		if (pllm_str_eq(type, "none"))
			factor = 0.0f;
		else if (pllm_str_eq(type, "linear"))
			hp->rope_scaling = PLLM_ROPE_SCALING_LINEAR;
		else if (pllm_str_eq(type, "llama3"))
			hp->rope_scaling = PLLM_ROPE_SCALING_LLAMA3;
		else
			return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "rope scaling type \"%.*s\" is not supported",
								  (int) (type.len > 32 ? 32 : type.len), type.ptr);
	}
	else if (factor > 0.0f && factor != 1.0f)
		hp->rope_scaling = PLLM_ROPE_SCALING_LINEAR;
	/* llama3 scaling is carried by the rope_freqs tensor (per-dim divisors). */
	if (hp->rope_scaling == PLLM_ROPE_SCALING_LINEAR && factor > 0.0f)
		hp->rope_freq_scale = 1.0f / factor;
	return PLLM_OK;
}

pllm_status
pllm_hp_load_decoder(pllm_model *m, pllm_error *err)
{
	pllm_hparams *hp = &m->hp;
	pllm_status   st;
	uint32_t      key_len = 0, val_len = 0;
	const pllm_gguf_kv *kv;
	char          key[128];

	hp->causal = true;
	hp->pooling = -1;
	if ((st = pllm_hp_u32(m, "block_count", true, &hp->n_layer, err)) ||
		(st = pllm_hp_u32(m, "embedding_length", true, &hp->n_embd, err)) ||
		(st = pllm_hp_u32(m, "feed_forward_length", true, &hp->n_ff, err)) ||
		(st = pllm_hp_u32(m, "attention.head_count", true, &hp->n_head, err)) ||
		(st = pllm_hp_u32(m, "context_length", true, &hp->n_ctx_train, err)))
		return st;
	hp->n_head_kv = hp->n_head;
	if ((st = pllm_hp_u32(m, "attention.head_count_kv", false, &hp->n_head_kv, err)))
		return st;
	hp->norm_eps = 1e-5f;
	if ((st = pllm_hp_f32(m, "attention.layer_norm_rms_epsilon", true, &hp->norm_eps, err)))
		return st;
	if (hp->n_layer == 0 || hp->n_layer > 1024 || hp->n_embd == 0 || hp->n_head == 0 ||
		hp->n_head_kv == 0 || hp->n_ff == 0 || hp->n_head % hp->n_head_kv != 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT,
							  "implausible hyper-parameters: %u layers, embedding %u, %u heads, %u kv heads, ffn %u",
							  hp->n_layer, hp->n_embd, hp->n_head, hp->n_head_kv, hp->n_ff);
	if (hp->n_embd % hp->n_head != 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "embedding length %u is not a multiple of %u heads",
							  hp->n_embd, hp->n_head);
	hp->head_dim = hp->n_embd / hp->n_head;
	if ((st = pllm_hp_u32(m, "attention.key_length", false, &key_len, err)) ||
		(st = pllm_hp_u32(m, "attention.value_length", false, &val_len, err)))
		return st;
	if ((key_len && key_len != hp->head_dim) || (val_len && val_len != hp->head_dim))
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED,
							  "attention key/value length %u/%u differs from n_embd/n_head = %u",
							  key_len, val_len, hp->head_dim);
	hp->n_rot = hp->head_dim;
	if ((st = pllm_hp_u32(m, "rope.dimension_count", false, &hp->n_rot, err)))
		return st;
	if (hp->n_rot == 0 || hp->n_rot > hp->head_dim || hp->n_rot % 2)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "%s.rope.dimension_count %u is invalid for head size %u",
							  m->arch->name, hp->n_rot, hp->head_dim);
	/* vocab_size is optional: the token embedding's row count is authoritative. */
	hp_key(m, "vocab_size", key, sizeof(key));
	kv = pllm_gguf_find(m->gguf, key);
	if (kv && !pllm_gguf_get_u32(m->gguf, key, &hp->n_vocab))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "metadata key %s has an invalid value", key);
	return hp_load_rope(m, err);
}

void
pllm_tensor_name(pllm_tensor_id id, int il, const char *suffix, char *buf, size_t cap)
{
	char base[96];

	if ((unsigned) id >= PLLM_T_COUNT)
	{
		snprintf(buf, cap, "?");
		return;
	}
	/* Patterns are constants from the table above, with at most one %d. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(base, sizeof(base), tensor_patterns[id], il);
#pragma GCC diagnostic pop
	snprintf(buf, cap, "%s.%s", base, suffix);
}

pllm_status
pllm_weight_bind(const pllm_model *m, pllm_tensor_id id, int il, const char *suffix,
				 int64_t ne0, int64_t ne1, int flags, pllm_weight *w, pllm_error *err)
{
	char                    name[128];
	const pllm_gguf_tensor *t;
	uint32_t                want_dims = ne1 > 0 ? 2 : 1;
	uint32_t                d;

	memset(w, 0, sizeof(*w));
	pllm_tensor_name(id, il, suffix, name, sizeof(name));
	t = pllm_gguf_find_tensor(m->gguf, name);
	if (!t)
	{
		if (flags & PLLM_W_OPTIONAL)
			return PLLM_OK;
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing tensor %s", name);
	}
	for (d = want_dims; d < PLLM_GGUF_MAX_DIMS; d++)
		if (t->ne[d] != 1)
			return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor %s has %u dimensions, expected %u",
								  name, t->n_dims, want_dims);
	if ((int64_t) t->ne[0] != ne0 || (want_dims == 2 && (int64_t) t->ne[1] != ne1))
		return pllm_error_set(err, PLLM_ERR_FORMAT,
							  "tensor %s has shape [%llu, %llu], expected [%lld, %lld]", name,
							  (unsigned long long) t->ne[0], (unsigned long long) t->ne[1],
							  (long long) ne0, (long long) (ne1 > 0 ? ne1 : 1));
	if ((flags & PLLM_W_F32_ONLY) && t->type != PLLM_TYPE_F32)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "tensor %s has type %s, only f32 is supported",
							  name, pllm_type_name(t->type));
	if (!pllm_type_supported(t->type) || !kern_traits(t->type))
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "tensor %s has unsupported type %s",
							  name, pllm_type_name(t->type));
	if (pllm_type_row_bytes(t->type, ne0) == 0 ||
		(uint64_t) pllm_type_row_bytes(t->type, ne0) * (uint64_t) (ne1 > 0 ? ne1 : 1) > t->nbytes)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor %s: row length %lld does not fit type %s",
							  name, (long long) ne0, pllm_type_name(t->type));
	if (!t->data)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor %s has no data", name);
	if (t->type == PLLM_TYPE_F32 && ((uintptr_t) t->data & 3) != 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor %s: f32 data is not 4-byte aligned", name);
	w->type = t->type;
	w->data = t->data;
	w->n_dims = want_dims;
	w->ne[0] = ne0;
	w->ne[1] = ne1 > 0 ? ne1 : 1;
	w->ne[2] = w->ne[3] = 1;
	return PLLM_OK;
}
