/*
 * arch_bert.c -- the `bert` encoder family (all-MiniLM, bge, e5, gte): token +
 * position + token-type embeddings and a layer norm, then post-norm layers
 * (self-attention with biases, no mask inside a sequence -> add & norm ->
 * up + GELU + down with biases -> add & norm). The forward pass runs a packed
 * batch of sequences; the embedding front end (embed.c) pools the result.
 * It follows llama.cpp's build_bert graph op by op (token type 0 everywhere).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed_internal.h"
#include "kernels.h"

/* ---- loading ----------------------------------------------------------------- */

static pllm_status
bert_load_hparams(pllm_model *m, pllm_error *err)
{
	pllm_hparams *hp = &m->hp;
	uint32_t      pooling = 0;
	bool          causal = false;
	char          key[64];
	pllm_status   st;

	hp->pooling = -1;
	if ((st = pllm_hp_u32(m, "block_count", true, &hp->n_layer, err)) ||
		(st = pllm_hp_u32(m, "embedding_length", true, &hp->n_embd, err)) ||
		(st = pllm_hp_u32(m, "feed_forward_length", true, &hp->n_ff, err)) ||
		(st = pllm_hp_u32(m, "attention.head_count", true, &hp->n_head, err)) ||
		(st = pllm_hp_u32(m, "context_length", true, &hp->n_ctx_train, err)) ||
		(st = pllm_hp_f32(m, "attention.layer_norm_epsilon", true, &hp->norm_eps, err)))
		return st;
	if (hp->n_layer == 0 || hp->n_layer > 1024 || hp->n_embd == 0 || hp->n_embd > 65536 ||
		hp->n_head == 0 || hp->n_ff == 0 || hp->n_ff > (1u << 20) || hp->n_embd % hp->n_head != 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT,
							  "implausible hyper-parameters: %u layers, embedding %u, %u heads, ffn %u",
							  hp->n_layer, hp->n_embd, hp->n_head, hp->n_ff);
	if (!(hp->norm_eps >= 0.0f && hp->norm_eps < 1.0f))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "bert.attention.layer_norm_epsilon is out of range");
	hp->n_head_kv = hp->n_head;
	hp->head_dim = hp->n_embd / hp->n_head;
	hp->n_rot = 0;
	snprintf(key, sizeof(key), "%s.attention.causal", m->arch->name);
	if (pllm_gguf_get_bool(m->gguf, key, &causal) && causal)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "causal attention in a bert model is not supported");
	hp->causal = false;
	if ((st = pllm_hp_u32(m, "pooling_type", false, &pooling, err)))
		return st;
	snprintf(key, sizeof(key), "%s.pooling_type", m->arch->name);
	if (pllm_gguf_find(m->gguf, key))
		hp->pooling = (int32_t) (pooling > 16 ? 16 : pooling);
	return PLLM_OK;
}

/* Rows of a 2-D tensor (0 when absent or not 2-D). */
static uint32_t
bert_tensor_rows(const pllm_model *m, const char *name)
{
	const pllm_gguf_tensor *t = pllm_gguf_find_tensor(m->gguf, name);

	if (!t || t->ne[1] == 0 || t->ne[1] > (1u << 24) || t->ne[2] != 1 || t->ne[3] != 1)
		return 0;
	return (uint32_t) t->ne[1];
}

static pllm_status
bert_bind_layer(pllm_model *m, int il, pllm_layer *L, pllm_error *err)
{
	int64_t     E = m->hp.n_embd, F = m->hp.n_ff;
	int         f1 = PLLM_W_F32_ONLY;
	pllm_status st;

	if ((st = pllm_weight_bind(m, PLLM_T_ATTN_Q, il, "weight", E, E, 0, &L->wq, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_Q, il, "bias", E, 0, f1, &L->bq, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_K, il, "weight", E, E, 0, &L->wk, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_K, il, "bias", E, 0, f1, &L->bk, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_V, il, "weight", E, E, 0, &L->wv, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_V, il, "bias", E, 0, f1, &L->bv, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT, il, "weight", E, E, 0, &L->wo, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT, il, "bias", E, 0, f1, &L->bo, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT_NORM, il, "weight", E, 0, f1, &L->attn_out_norm, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT_NORM, il, "bias", E, 0, f1, &L->attn_out_norm_b, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_FFN_UP, il, "weight", E, F, 0, &L->ffn_up, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_FFN_UP, il, "bias", F, 0, f1, &L->ffn_up_b, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_FFN_DOWN, il, "weight", F, E, 0, &L->ffn_down, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_FFN_DOWN, il, "bias", E, 0, f1, &L->ffn_down_b, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_LAYER_OUT_NORM, il, "weight", E, 0, f1, &L->layer_out_norm, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_LAYER_OUT_NORM, il, "bias", E, 0, f1, &L->layer_out_norm_b, err)))
		return st;
	return PLLM_OK;
}

static pllm_status
bert_load(pllm_model *m, pllm_error *err)
{
	pllm_hparams *hp = &m->hp;
	int64_t       E;
	pllm_status   st;

	if ((st = bert_load_hparams(m, err)) != PLLM_OK)
		return st;
	E = hp->n_embd;
	hp->n_vocab = bert_tensor_rows(m, "token_embd.weight");
	hp->n_pos = bert_tensor_rows(m, "position_embd.weight");
	hp->n_token_types = bert_tensor_rows(m, "token_types.weight");
	if (hp->n_vocab == 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing or malformed tensor token_embd.weight");
	if (hp->n_pos == 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing or malformed tensor position_embd.weight");
	if ((st = pllm_weight_bind(m, PLLM_T_TOKEN_EMBD, 0, "weight", E, hp->n_vocab, 0, &m->tok_embd, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_POS_EMBD, 0, "weight", E, hp->n_pos, 0, &m->pos_embd, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_TOKEN_EMBD_NORM, 0, "weight", E, 0, PLLM_W_F32_ONLY,
							   &m->tok_embd_norm, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_TOKEN_EMBD_NORM, 0, "bias", E, 0, PLLM_W_F32_ONLY,
							   &m->tok_embd_norm_b, err)))
		return st;
	if (hp->n_token_types &&
		(st = pllm_weight_bind(m, PLLM_T_TOKEN_TYPES, 0, "weight", E, hp->n_token_types, 0,
							   &m->token_types, err)))
		return st;
	m->layers = calloc(hp->n_layer, sizeof(pllm_layer));
	if (!m->layers)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %u layers", hp->n_layer);
	for (uint32_t il = 0; il < hp->n_layer; il++)
		if ((st = bert_bind_layer(m, (int) il, &m->layers[il], err)) != PLLM_OK)
			return st;
	return PLLM_OK;
}

/* ---- work memory ------------------------------------------------------------- */

/* Offsets in floats (16-float aligned) inside the work area. */
typedef struct bert_layout
{
	size_t x, q, k, v, att, ffn, scores, row;
	size_t scratch;        /* bytes */
	size_t total_bytes;
} bert_layout;

static size_t
bert_round(size_t n)
{
	return (n + 15) & ~(size_t) 15;
}

static void
bert_plan(const pllm_model *m, int n_tok, int max_len, int n_threads, bert_layout *lo)
{
	const pllm_hparams *hp = &m->hp;
	size_t              T = (size_t) n_tok, off = 0, scratch = 0;

#define BERT_TAKE(field, n) do { lo->field = off; off += bert_round((size_t) (n)); } while (0)
	BERT_TAKE(x, T * hp->n_embd);
	BERT_TAKE(q, T * hp->n_embd);
	BERT_TAKE(k, T * hp->n_embd);
	BERT_TAKE(v, T * hp->n_embd);
	BERT_TAKE(att, T * hp->n_embd);
	BERT_TAKE(ffn, T * hp->n_ff);
	lo->row = bert_round((size_t) max_len);  /* per-thread score row */
	BERT_TAKE(scores, lo->row * (size_t) n_threads);
#undef BERT_TAKE
	for (uint32_t il = 0; il < hp->n_layer; il++)
	{
		const pllm_layer  *L = &m->layers[il];
		const pllm_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->ffn_up, &L->ffn_down};

		for (size_t j = 0; j < sizeof(ws) / sizeof(ws[0]); j++)
		{
			size_t b = pllm_embed_linear_scratch(ws[j], n_tok);

			if (b > scratch)
				scratch = b;
		}
	}
	lo->scratch = off * sizeof(float);
	lo->total_bytes = lo->scratch + ((scratch + 63) & ~(size_t) 63);
}

size_t
pllm_bert_work_bytes(const pllm_model *m, int n_tok, int max_len, int n_threads)
{
	bert_layout lo;

	bert_plan(m, n_tok, max_len, n_threads, &lo);
	return lo.total_bytes;
}

/* ---- forward ----------------------------------------------------------------- */

typedef struct bert_pass
{
	const pllm_model       *m;
	const pllm_embed_batch *b;
	const pllm_layer       *L;
	bert_layout             lo;
	float                  *w;      /* work area as floats */
	float                  *hidden;
} bert_pass;

/* Embeddings of tokens [t0, t1): tok + type[0] + pos, then the embedding layer norm. */
static void
bert_embed_range(void *p, int64_t t0, int64_t t1, int ith)
{
	bert_pass          *P = p;
	const pllm_model   *m = P->m;
	const pllm_embed_batch *b = P->b;
	int64_t             E = m->hp.n_embd;
	float              *x = P->w + P->lo.x, *tmp = P->w + P->lo.q;
	int                 s = 0;

	(void) ith;
	while (b->off[s + 1] <= t0)
		s++;
	for (int64_t t = t0; t < t1; t++)
	{
		float *xr = tmp + t * E, *pr = P->w + P->lo.k + t * E, *yr = P->w + P->lo.v + t * E;

		while (b->off[s + 1] <= t)
			s++;
		kern_get_row(m->tok_embd.type, m->tok_embd.data, E, b->ids[t], xr);
		if (m->token_types.data)
		{
			kern_get_row(m->token_types.type, m->token_types.data, E, 0, yr);
			for (int64_t i = 0; i < E; i++)
				xr[i] += yr[i];
		}
		kern_get_row(m->pos_embd.type, m->pos_embd.data, E, t - b->off[s], pr);
		for (int64_t i = 0; i < E; i++)
			xr[i] = pr[i] + xr[i];
		pllm_embed_layer_norm(xr, m->tok_embd_norm.data, m->tok_embd_norm_b.data, x + t * E, E,
							  m->hp.norm_eps);
	}
}

/*
 * Self-attention of (sequence, head) pairs [u0, u1), u = s * n_head + h:
 * att[t,h] = softmax(scale * q[t,h] . k[j,h] over j in the sequence) . v[.,h].
 */
static void
bert_attend_range(void *p, int64_t u0, int64_t u1, int ith)
{
	bert_pass          *P = p;
	const pllm_hparams *hp = &P->m->hp;
	const pllm_embed_batch *b = P->b;
	int64_t             E = hp->n_embd, D = hp->head_dim;
	const float        *q = P->w + P->lo.q, *k = P->w + P->lo.k, *v = P->w + P->lo.v;
	float              *att = P->w + P->lo.att;
	float              *sc = P->w + P->lo.scores + (size_t) ith * P->lo.row;
	float               scale = 1.0f / sqrtf((float) D);
	kern_vec_dot_fn     dot = kern_traits(PLLM_TYPE_F32)->vec_dot;   /* SIMD f32 dot */

	for (int64_t u = u0; u < u1; u++)
	{
		int64_t s = u / hp->n_head, h = u % hp->n_head;
		int64_t t0 = b->off[s], n = b->off[s + 1] - t0;

		for (int64_t i = 0; i < n; i++)
		{
			const float *qi = q + (t0 + i) * E + h * D;
			float       *out = att + (t0 + i) * E + h * D;
			float        max = -INFINITY, inv;
			double       sum = 0.0;

			for (int64_t j = 0; j < n; j++)
			{
				sc[j] = dot(D, k + (t0 + j) * E + h * D, qi) * scale;
				if (sc[j] > max)
					max = sc[j];
			}
			for (int64_t j = 0; j < n; j++)
			{
				sc[j] = expf(sc[j] - max);
				sum += (double) sc[j];
			}
			inv = (float) (1.0 / sum);
			for (int64_t d = 0; d < D; d++)
				out[d] = 0.0f;
			for (int64_t j = 0; j < n; j++)
				kern_attn_axpy_f32(D, sc[j] * inv, v + (t0 + j) * E + h * D, out);   /* out += p_j * v_j */
		}
	}
}

/* x = LN_attn_out(x + proj) for tokens [t0, t1); proj sits in q. */
static void
bert_attn_norm_range(void *p, int64_t t0, int64_t t1, int ith)
{
	bert_pass        *P = p;
	const pllm_layer *L = P->L;
	int64_t           E = P->m->hp.n_embd;
	float            *x = P->w + P->lo.x, *proj = P->w + P->lo.q;

	(void) ith;
	for (int64_t t = t0; t < t1; t++)
	{
		float *pr = proj + t * E, *xr = x + t * E;

		for (int64_t i = 0; i < E; i++)
			pr[i] += xr[i];
		pllm_embed_layer_norm(pr, L->attn_out_norm.data, L->attn_out_norm_b.data, xr, E,
							  P->m->hp.norm_eps);
	}
}

static void
bert_gelu_range(void *p, int64_t t0, int64_t t1, int ith)
{
	bert_pass *P = p;
	int64_t    F = P->m->hp.n_ff;

	(void) ith;
	pllm_embed_gelu(P->w + P->lo.ffn + t0 * F, (t1 - t0) * F);
}

/* out = LN_layer_out(x + down), down in q; out is x or, after the last layer, hidden. */
static void
bert_out_norm_range(void *p, int64_t t0, int64_t t1, int ith)
{
	bert_pass        *P = p;
	const pllm_layer *L = P->L;
	int64_t           E = P->m->hp.n_embd;
	float            *x = P->w + P->lo.x, *down = P->w + P->lo.q;
	bool              last = L == &P->m->layers[P->m->hp.n_layer - 1];
	float            *dst = last ? P->hidden : x;

	(void) ith;
	for (int64_t t = t0; t < t1; t++)
	{
		float *dr = down + t * E, *xr = x + t * E;

		for (int64_t i = 0; i < E; i++)
			dr[i] += xr[i];
		pllm_embed_layer_norm(dr, L->layer_out_norm.data, L->layer_out_norm_b.data, dst + t * E, E,
							  P->m->hp.norm_eps);
	}
}

pllm_status
pllm_bert_encode(const pllm_model *m, const pllm_embed_batch *b, const pllm_embed_ctl *c,
				 void *work, float *hidden, pllm_error *err)
{
	const pllm_hparams *hp = &m->hp;
	bert_pass           P;
	int                 nt = c->n_threads;
	int64_t             T = b->n_tok;
	void               *scratch;

	memset(&P, 0, sizeof(P));
	P.m = m;
	P.b = b;
	P.w = work;
	P.hidden = hidden;
	bert_plan(m, b->n_tok, b->max_len, nt, &P.lo);
	scratch = (char *) work + P.lo.scratch;

	pllm_embed_parallel(nt, T, bert_embed_range, &P);
	for (uint32_t il = 0; il < hp->n_layer; il++)
	{
		const pllm_layer *L = &m->layers[il];
		float            *x = P.w + P.lo.x;

		if (pllm_embed_should_abort(c))
			return pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");
		P.L = L;
		pllm_embed_linear(&L->wq, &L->bq, x, T, P.w + P.lo.q, scratch, nt);
		pllm_embed_linear(&L->wk, &L->bk, x, T, P.w + P.lo.k, scratch, nt);
		pllm_embed_linear(&L->wv, &L->bv, x, T, P.w + P.lo.v, scratch, nt);
		pllm_embed_parallel(nt, (int64_t) b->n_seq * hp->n_head, bert_attend_range, &P);
		pllm_embed_linear(&L->wo, &L->bo, P.w + P.lo.att, T, P.w + P.lo.q, scratch, nt);
		pllm_embed_parallel(nt, T, bert_attn_norm_range, &P);
		pllm_embed_linear(&L->ffn_up, &L->ffn_up_b, x, T, P.w + P.lo.ffn, scratch, nt);
		pllm_embed_parallel(nt, T, bert_gelu_range, &P);
		pllm_embed_linear(&L->ffn_down, &L->ffn_down_b, P.w + P.lo.ffn, T, P.w + P.lo.q, scratch, nt);
		pllm_embed_parallel(nt, T, bert_out_norm_range, &P);
	}
	return PLLM_OK;
}

const pllm_arch pllm_arch_bert = {
	.name = "bert",
	.is_encoder = true,
	.load = bert_load,
	.work_bytes = NULL,   /* no decoding session: embeddings go through embed.c */
	.forward = NULL,
	.free_data = NULL,
};
