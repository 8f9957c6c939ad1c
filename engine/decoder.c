/*
 * decoder.c -- the llama-style decoder shared by the llama and qwen2 families:
 * tensor binding, work-memory layout and the batched forward pass
 * (RMSNorm -> Q/K/V (+bias) -> RoPE -> causal GQA attention -> output proj ->
 * RMSNorm -> SwiGLU FFN, residuals around both; final norm and logits).
 * Numerics follow ggml's CPU ops (double sums in RMSNorm and softmax, RoPE angles
 * advanced by repeated multiplication) so F32 files agree with llama.cpp to ~1e-5.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "decoder.h"
#include "kernels.h"
#include "kvcache.h"
#include "threadpool.h"

/* Bind the per-layer and global tensors of a llama-style decoder. */
pllm_status
pllm_decoder_bind(pllm_model *m, const pllm_decoder_spec *spec, pllm_error *err)
{
	pllm_hparams *hp = &m->hp;
	int64_t       E = hp->n_embd, F = hp->n_ff;
	int64_t       Dq = (int64_t) hp->n_head * hp->head_dim;
	int64_t       Dkv = (int64_t) hp->n_head_kv * hp->head_dim;
	int           bias_flags = spec->qkv_bias_required ? PLLM_W_F32_ONLY : (PLLM_W_F32_ONLY | PLLM_W_OPTIONAL);
	const pllm_gguf_tensor *te;
	pllm_status   st;
	uint32_t      il;

	/* The vocabulary size comes from the token embedding's rows. */
	te = pllm_gguf_find_tensor(m->gguf, "token_embd.weight");
	if (!te)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing tensor token_embd.weight");
	if (te->ne[1] == 0 || te->ne[1] > (1u << 24))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor token_embd.weight has an implausible vocabulary of %llu rows",
							  (unsigned long long) te->ne[1]);
	if (hp->n_vocab && hp->n_vocab != te->ne[1])
		return pllm_error_set(err, PLLM_ERR_FORMAT, "vocab_size %u differs from token_embd.weight rows %llu",
							  hp->n_vocab, (unsigned long long) te->ne[1]);
	hp->n_vocab = (uint32_t) te->ne[1];

	if ((st = pllm_weight_bind(m, PLLM_T_TOKEN_EMBD, 0, "weight", E, hp->n_vocab, 0, &m->tok_embd, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_OUTPUT_NORM, 0, "weight", E, 0, PLLM_W_F32_ONLY, &m->output_norm, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_OUTPUT, 0, "weight", E, hp->n_vocab, PLLM_W_OPTIONAL, &m->output, err)) ||
		(st = pllm_weight_bind(m, PLLM_T_ROPE_FREQS, 0, "weight", hp->n_rot / 2, 0,
							   PLLM_W_OPTIONAL | PLLM_W_F32_ONLY, &m->rope_freqs, err)))
		return st;
	if (!m->output.data)
		m->output = m->tok_embd;   /* tied embeddings */
	if (hp->rope_scaling == PLLM_ROPE_SCALING_LLAMA3 && !m->rope_freqs.data)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "llama3 rope scaling needs tensor rope_freqs.weight");

	m->layers = calloc(hp->n_layer, sizeof(pllm_layer));
	if (!m->layers)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %u layers", hp->n_layer);
	for (il = 0; il < hp->n_layer; il++)
	{
		pllm_layer *L = &m->layers[il];
		int         i = (int) il;

		if ((st = pllm_weight_bind(m, PLLM_T_ATTN_NORM, i, "weight", E, 0, PLLM_W_F32_ONLY, &L->attn_norm, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_Q, i, "weight", E, Dq, 0, &L->wq, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_K, i, "weight", E, Dkv, 0, &L->wk, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_V, i, "weight", E, Dkv, 0, &L->wv, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT, i, "weight", Dq, E, 0, &L->wo, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_Q, i, "bias", Dq, 0, bias_flags, &L->bq, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_K, i, "bias", Dkv, 0, bias_flags, &L->bk, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_V, i, "bias", Dkv, 0, bias_flags, &L->bv, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_ATTN_OUT, i, "bias", E, 0, PLLM_W_F32_ONLY | PLLM_W_OPTIONAL, &L->bo, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_FFN_NORM, i, "weight", E, 0, PLLM_W_F32_ONLY, &L->ffn_norm, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_FFN_GATE, i, "weight", E, F, 0, &L->ffn_gate, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_FFN_UP, i, "weight", E, F, 0, &L->ffn_up, err)) ||
			(st = pllm_weight_bind(m, PLLM_T_FFN_DOWN, i, "weight", F, E, 0, &L->ffn_down, err)))
			return st;
	}
	return PLLM_OK;
}

/* ---- work memory ---------------------------------------------------------- */

/* Offsets (in floats, 16-float aligned) of the buffers inside session->work. */
typedef struct dec_layout
{
	size_t x, xn, q, k, v, att, proj, gate, up, scores, rope;
	size_t scratch;      /* byte offset of the matmul scratch */
	size_t scratch_bytes;
	size_t total_bytes;
} dec_layout;

static size_t
dec_round(size_t n)
{
	return (n + 15) & ~(size_t) 15;
}

static size_t
dec_max_scratch(const pllm_model *m, int64_t n_tok)
{
	const pllm_hparams *hp = &m->hp;
	size_t              best = kern_matmul_scratch_bytes(m->output.type, hp->n_embd, n_tok);
	uint32_t            il;

	for (il = 0; il < hp->n_layer; il++)
	{
		const pllm_layer *L = &m->layers[il];
		const pllm_weight *ws[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->ffn_gate, &L->ffn_up, &L->ffn_down};
		size_t            j;

		for (j = 0; j < sizeof(ws) / sizeof(ws[0]); j++)
		{
			size_t b = kern_matmul_scratch_bytes(ws[j]->type, ws[j]->ne[0], n_tok);

			if (b > best)
				best = b;
		}
	}
	return best;
}

static void
dec_plan(const pllm_model *m, uint32_t n_ctx, uint32_t n_batch, dec_layout *lo)
{
	const pllm_hparams *hp = &m->hp;
	size_t              B = n_batch, off = 0;

#define DEC_TAKE(field, n) do { lo->field = off; off += dec_round((size_t) (n)); } while (0)
	DEC_TAKE(x, B * hp->n_embd);
	DEC_TAKE(xn, B * hp->n_embd);
	DEC_TAKE(q, B * hp->n_head * hp->head_dim);
	DEC_TAKE(k, B * hp->n_head_kv * hp->head_dim);
	DEC_TAKE(v, B * hp->n_head_kv * hp->head_dim);
	DEC_TAKE(att, B * hp->n_head * hp->head_dim);
	DEC_TAKE(proj, B * hp->n_embd);
	DEC_TAKE(gate, B * hp->n_ff);
	DEC_TAKE(up, B * hp->n_ff);
	DEC_TAKE(scores, (size_t) n_ctx * KERN_POOL_MAX_THREADS);   /* one row per thread */
	DEC_TAKE(rope, B * hp->n_rot);     /* cos, sin per pair per token */
#undef DEC_TAKE
	lo->scratch = off * sizeof(float);   /* off is a multiple of 16 floats: 64-byte aligned */
	lo->scratch_bytes = dec_max_scratch(m, (int64_t) B);
	lo->total_bytes = lo->scratch + dec_round(lo->scratch_bytes);
}

size_t
pllm_decoder_work_bytes(const pllm_model *m, uint32_t n_ctx, uint32_t n_batch)
{
	dec_layout lo;

	dec_plan(m, n_ctx, n_batch, &lo);
	return lo.total_bytes;
}

/* ---- ops ------------------------------------------------------------------ */

/* y = x / sqrt(mean(x^2) + eps) * w, one row of n (ggml rms_norm then mul). */
static void
dec_rms_norm(const float *x, const float *w, float *y, int64_t n, float eps)
{
	double sum = 0.0;
	float  scale;
	int64_t i;

	for (i = 0; i < n; i++)
		sum += (double) (x[i] * x[i]);
	scale = 1.0f / sqrtf((float) (sum / (double) n) + eps);
	for (i = 0; i < n; i++)
		y[i] = (x[i] * scale) * w[i];
}

static void
dec_add_bias(float *x, const pllm_weight *b, int64_t n_tok, int64_t n)
{
	const float *bv = b->data;
	int64_t      t, i;

	if (!bv)
		return;
	for (t = 0; t < n_tok; t++)
		for (i = 0; i < n; i++)
			x[t * n + i] += bv[i];
}

/*
 * cos/sin table for the batch: rope[t][2*i] = cos, [2*i+1] = sin of pair i at
 * position pos0 + t, theta_i = pos * base^(-2i/n_rot) * freq_scale / freq_factor_i.
 */
static void
dec_rope_table(const pllm_model *m, uint32_t pos0, int n, float *rope)
{
	const pllm_hparams *hp = &m->hp;
	const float        *ff = m->rope_freqs.data;
	float               theta_scale = powf(hp->rope_base, -2.0f / (float) hp->n_rot);
	uint32_t            half = hp->n_rot / 2;
	int                 t;
	uint32_t            i;

	for (t = 0; t < n; t++)
	{
		float  theta = (float) (pos0 + (uint32_t) t);
		float *row = rope + (size_t) t * hp->n_rot;

		for (i = 0; i < half; i++)
		{
			float th = hp->rope_freq_scale * (ff ? theta / ff[i] : theta);

			row[2 * i] = cosf(th);
			row[2 * i + 1] = sinf(th);
			theta *= theta_scale;
		}
	}
}

/* Rotate n_heads heads of one token in place. */
static void
dec_rope_apply(float *x, int n_heads, uint32_t head_dim, uint32_t n_rot, bool neox, const float *cs)
{
	uint32_t half = n_rot / 2, i;
	int      h;

	for (h = 0; h < n_heads; h++)
	{
		float *v = x + (size_t) h * head_dim;

		for (i = 0; i < half; i++)
		{
			float    c = cs[2 * i], s = cs[2 * i + 1];
			uint32_t a = neox ? i : 2 * i;
			uint32_t b = neox ? i + half : 2 * i + 1;
			float    x0 = v[a], x1 = v[b];

			v[a] = x0 * c - x1 * s;
			v[b] = x0 * s + x1 * c;
		}
	}
}

static inline float
dec_silu(float x)
{
	return x / (1.0f + expf(-x));
}

/*
 * Causal attention of one query head at position pos of cache kv:
 * out = softmax(scale * q . K[0..pos]) . V[0..pos], on kv head kvh (GQA: query
 * head h reads kv head h / (n_head / n_head_kv)). scores holds pos+1 floats.
 */
static void
dec_attend_head(const pllm_kvcache *kv, uint32_t D, uint32_t il, uint32_t pos, uint32_t kvh,
				const float *qh, float *out, float *scores)
{
	float    scale = 1.0f / sqrtf((float) D);
	float    max = -INFINITY, inv;
	double   sum = 0.0;
	uint32_t j, d;

	for (j = 0; j <= pos; j++)
	{
		float sc = pllm_kv_dot_k(kv, il, j, kvh * D, qh, D) * scale;

		scores[j] = sc;
		if (sc > max)
			max = sc;
	}
	for (j = 0; j <= pos; j++)
	{
		float e = expf(scores[j] - max);

		scores[j] = e;
		sum += (double) e;
	}
	inv = (float) (1.0 / sum);
	for (j = 0; j <= pos; j++)
		scores[j] *= inv;
	for (d = 0; d < D; d++)
		out[d] = 0.0f;
	for (j = 0; j <= pos; j++)
		pllm_kv_axpy_v(kv, il, j, kvh * D, scores[j], out, D);
}

/* The cache and position of token t. */
static inline pllm_kvcache *
dec_tok_kv(const pllm_fwd_tokens *tk, int t)
{
	return tk->kvs ? tk->kvs[t] : tk->kv;
}

static inline uint32_t
dec_tok_pos(const pllm_fwd_tokens *tk, int t)
{
	return tk->pos ? tk->pos[t] : tk->pos0 + (uint32_t) t;
}

/* Attention of a whole batch, (token, head) pairs split over the pool's threads. */
typedef struct dec_attn_task
{
	const pllm_hparams    *hp;
	const pllm_fwd_tokens *tk;
	uint32_t               il;
	uint32_t               n_ctx;
	const float           *q;       /* n x n_head*head_dim */
	float                 *att;     /* n x n_head*head_dim */
	float                 *scores;  /* KERN_POOL_MAX_THREADS x n_ctx */
} dec_attn_task;

static void
dec_attn_run(void *arg, int ith, int nth)
{
	const dec_attn_task *a = arg;
	const pllm_hparams  *hp = a->hp;
	int64_t              total = (int64_t) a->tk->n * hp->n_head, begin, end, i;
	size_t               Dq = (size_t) hp->n_head * hp->head_dim;
	uint32_t             group = hp->n_head / hp->n_head_kv;
	float               *scores = a->scores + (size_t) ith * a->n_ctx;

	kern_split_range(total, 1, ith, nth, &begin, &end);
	for (i = begin; i < end; i++)
	{
		int      t = (int) (i / hp->n_head);
		uint32_t h = (uint32_t) (i % hp->n_head);
		size_t   off = (size_t) t * Dq + (size_t) h * hp->head_dim;

		dec_attend_head(dec_tok_kv(a->tk, t), hp->head_dim, a->il, dec_tok_pos(a->tk, t), h / group,
						a->q + off, a->att + off, scores);
	}
}

static inline bool
dec_should_abort(const pllm_fwd_ctx *c)
{
	return c->should_abort && c->should_abort(c->abort_arg);
}

pllm_status
pllm_decoder_forward_tokens(const pllm_fwd_ctx *c, const pllm_fwd_tokens *tk, const int32_t *out_rows,
							int n_out, pllm_error *err)
{
	const pllm_model   *m = c->model;
	const pllm_hparams *hp = &m->hp;
	dec_layout          lo;
	float              *wf = c->work;
	float              *x, *xn, *q, *k, *v, *att, *proj, *gate, *up, *scores, *rope;
	void               *scratch;
	const int32_t      *ids = tk->ids;
	int                 n = tk->n;
	int64_t             E = hp->n_embd, F = hp->n_ff;
	int64_t             Dq = (int64_t) hp->n_head * hp->head_dim;
	int64_t             Dkv = (int64_t) hp->n_head_kv * hp->head_dim;
	int64_t             attn_work = 0;
	uint32_t            il;
	int                 t;
	int64_t             i;

	dec_plan(m, c->n_ctx, c->n_batch, &lo);
	x = wf + lo.x;
	xn = wf + lo.xn;
	q = wf + lo.q;
	k = wf + lo.k;
	v = wf + lo.v;
	att = wf + lo.att;
	proj = wf + lo.proj;
	gate = wf + lo.gate;
	up = wf + lo.up;
	scores = wf + lo.scores;
	rope = wf + lo.rope;
	scratch = (char *) c->work + lo.scratch;

	for (t = 0; t < n; t++)
	{
		kern_get_row(m->tok_embd.type, m->tok_embd.data, E, ids[t], x + (size_t) t * E);
		dec_rope_table(m, dec_tok_pos(tk, t), 1, rope + (size_t) t * hp->n_rot);
		attn_work += (int64_t) hp->n_head * (dec_tok_pos(tk, t) + 1);
	}

	for (il = 0; il < hp->n_layer; il++)
	{
		const pllm_layer *L = &m->layers[il];

		if (dec_should_abort(c))
			return pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");

		/* attention block */
		for (t = 0; t < n; t++)
			dec_rms_norm(x + t * E, L->attn_norm.data, xn + t * E, E, hp->norm_eps);
		{
			kern_mm_part qkv[3] = {{L->wq.type, L->wq.data, Dq, q}, {L->wk.type, L->wk.data, Dkv, k},
								   {L->wv.type, L->wv.data, Dkv, v}};

			kern_matmul_mt_multi(qkv, 3, E, xn, n, scratch);   /* one pool run for q, k, v */
		}
		dec_add_bias(q, &L->bq, n, Dq);
		dec_add_bias(k, &L->bk, n, Dkv);
		dec_add_bias(v, &L->bv, n, Dkv);
		for (t = 0; t < n; t++)
		{
			const float *cs = rope + (size_t) t * hp->n_rot;

			dec_rope_apply(q + t * Dq, (int) hp->n_head, hp->head_dim, hp->n_rot, hp->rope_neox, cs);
			dec_rope_apply(k + t * Dkv, (int) hp->n_head_kv, hp->head_dim, hp->n_rot, hp->rope_neox, cs);
			pllm_kv_store(dec_tok_kv(tk, t), il, dec_tok_pos(tk, t), k + t * Dkv, v + t * Dkv);
		}
		{
			dec_attn_task task = {hp, tk, il, c->n_ctx, q, att, scores};

			/* tiny batches stay on the calling thread (waking the pool costs more) */
			if (attn_work < 4096)
				dec_attn_run(&task, 0, 1);
			else
				kern_pool_run(dec_attn_run, &task);
		}
		kern_matmul_mt(L->wo.type, L->wo.data, E, Dq, att, n, proj, scratch);
		dec_add_bias(proj, &L->bo, n, E);
		for (i = 0; i < (int64_t) n * E; i++)
			x[i] += proj[i];

		/* feed-forward block: down(silu(gate(x)) * up(x)) */
		for (t = 0; t < n; t++)
			dec_rms_norm(x + t * E, L->ffn_norm.data, xn + t * E, E, hp->norm_eps);
		{
			kern_mm_part gu[2] = {{L->ffn_gate.type, L->ffn_gate.data, F, gate}, {L->ffn_up.type, L->ffn_up.data, F, up}};

			kern_matmul_mt_multi(gu, 2, E, xn, n, scratch);
		}
		for (i = 0; i < (int64_t) n * F; i++)
			gate[i] = dec_silu(gate[i]) * up[i];
		kern_matmul_mt(L->ffn_down.type, L->ffn_down.data, E, F, gate, n, proj, scratch);
		for (i = 0; i < (int64_t) n * E; i++)
			x[i] += proj[i];
	}
	if (dec_should_abort(c))
		return pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");

	/* final norm, then the hidden states of every token or the logits of the chosen ones */
	if (c->hidden_out)
	{
		for (t = 0; t < n; t++)
			dec_rms_norm(x + t * E, m->output_norm.data, c->hidden_out + t * E, E, hp->norm_eps);
		return PLLM_OK;
	}
	for (t = 0; t < n_out; t++)
	{
		int row = out_rows ? out_rows[t] : n - n_out + t;

		dec_rms_norm(x + (size_t) row * E, m->output_norm.data, xn + t * E, E, hp->norm_eps);
	}
	if (n_out > 0)
		kern_matmul_mt(m->output.type, m->output.data, hp->n_vocab, E, xn, n_out, c->logits, scratch);
	return PLLM_OK;
}

pllm_status
pllm_decoder_forward(pllm_session *s, const int32_t *ids, int n, bool all_logits, pllm_error *err)
{
	pllm_fwd_ctx    c = {s->model, s->work, s->n_ctx, s->n_batch, s->logits, s->hidden_out,
						 s->opts.should_abort, s->opts.abort_arg};
	pllm_fwd_tokens tk = {n, ids, &s->kv, s->n_past, NULL, NULL};
	int             n_out = all_logits ? n : 1;
	pllm_status     st;

	st = pllm_decoder_forward_tokens(&c, &tk, NULL, n_out, err);
	if (st == PLLM_OK)
		s->n_logit_rows = s->hidden_out ? 0 : n_out;
	return st;
}
