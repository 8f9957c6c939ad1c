/*
 * embed.c -- the embedding front end (include/pg_llm/embed.h): checks inputs,
 * truncates what is too long, packs inputs into batches of whole sequences,
 * runs the encoder (arch_bert.c) or a decoder session per input, pools
 * (mean / CLS / last) and L2-normalises in double.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed_internal.h"
#include "pg_llm/session.h"
#include "threadpool.h"

#include "pg_llm/tokenizer.h"

#define EMBED_DEFAULT_BATCH_TOKENS 2048

pllm_embed_opts
pllm_embed_opts_default(void)
{
	pllm_embed_opts o;

	memset(&o, 0, sizeof(o));
	o.normalize = true;
	o.truncate = true;
	o.pooling = PLLM_POOLING_MODEL;
	return o;
}

uint32_t
pllm_embed_dim(const pllm_model *m)
{
	return m ? m->hp.n_embd : 0;
}

uint32_t
pllm_embed_max_tokens(const pllm_model *m)
{
	const pllm_hparams *hp = &m->hp;
	uint32_t            n = hp->n_ctx_train;

	if (m->arch->is_encoder)
		return n && n < hp->n_pos ? n : hp->n_pos;
	if (n == 0 || n > PLLM_SESSION_DEFAULT_CTX_CAP)
		n = PLLM_SESSION_DEFAULT_CTX_CAP;
	return n;
}

pllm_pooling
pllm_embed_model_pooling(const pllm_model *m)
{
	char     key[64];
	uint32_t p;

	if (m->arch->is_encoder)
		return m->hp.pooling < 0 ? PLLM_POOLING_NONE : (pllm_pooling) m->hp.pooling;
	/* Decoders: an explicit <arch>.pooling_type (embedding models) wins, else last token. */
	snprintf(key, sizeof(key), "%s.pooling_type", m->arch->name);
	if (pllm_gguf_get_u32(m->gguf, key, &p) && p != PLLM_POOLING_NONE)
		return (pllm_pooling) p;
	return PLLM_POOLING_LAST;
}

/* The id a truncated input keeps at its end when it ended with it: [SEP] or EOS. */
static bool
embed_is_end_token(const pllm_model *m, int32_t id)
{
	static const char *const keys[] = {"tokenizer.ggml.seperator_token_id", "tokenizer.ggml.eos_token_id"};
	uint32_t v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (pllm_gguf_get_u32(m->gguf, keys[i], &v) && (int64_t) v == id)
			return true;
	return false;
}

/* ---- a prepared call: inputs checked, truncated and packed --------------------- */

typedef struct embed_call
{
	const pllm_model *m;
	pllm_embed_opts   o;
	pllm_pooling      pooling;
	pllm_embed_ctl    ctl;
	int               n;
	int32_t          *ids;       /* all inputs packed, after truncation */
	int              *off;       /* n + 1 offsets into ids */
	int              *chunk_off; /* offsets of one pass, relative to its first input */
	float            *hidden;    /* per-token states of one pass */
	void             *work;
} embed_call;

static void
embed_call_free(embed_call *c)
{
	free(c->ids);
	free(c->off);
	free(c->chunk_off);
	free(c->hidden);
	free(c->work);
}

static pllm_status
embed_resolve_opts(const pllm_model *m, const pllm_embed_opts *opts, embed_call *c, pllm_error *err)
{
	int pool;

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->o = opts ? *opts : pllm_embed_opts_default();
	c->pooling = c->o.pooling == PLLM_POOLING_MODEL ? pllm_embed_model_pooling(m) : (pllm_pooling) c->o.pooling;
	if (c->o.pooling == PLLM_POOLING_NONE)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
							  "pooling type none gives per-token states, not one vector per input");
	if (c->pooling == PLLM_POOLING_NONE)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED,
							  "model has pooling type none: it gives no sentence embedding");
	if (c->pooling != PLLM_POOLING_MEAN && c->pooling != PLLM_POOLING_CLS && c->pooling != PLLM_POOLING_LAST)
		return pllm_error_set(err, c->o.pooling == PLLM_POOLING_MODEL ? PLLM_ERR_UNSUPPORTED : PLLM_ERR_INVALID_ARG,
							  "pooling type %d is not supported", (int) c->pooling);
	if (c->o.n_threads < 0 || c->o.max_batch_tokens < 0)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "n_threads and max_batch_tokens must not be negative");
	pool = kern_pool_threads();
	if (c->o.n_threads > 0)
	{
		/* like a decoding session: n_threads sizes the process's pool */
		kern_pool_set_threads(c->o.n_threads);
		pool = c->o.n_threads < KERN_POOL_MAX_THREADS ? c->o.n_threads : KERN_POOL_MAX_THREADS;
	}
	c->ctl.n_threads = pool;
	c->ctl.should_abort = c->o.should_abort;
	c->ctl.abort_arg = c->o.abort_arg;
	if (c->o.max_batch_tokens == 0)
		c->o.max_batch_tokens = EMBED_DEFAULT_BATCH_TOKENS;
	return PLLM_OK;
}

/* Check ids, apply the length limit and pack every input into c->ids / c->off. */
static pllm_status
embed_pack(embed_call *c, const int32_t *const *ids, const int *n_ids, int n, bool *truncated,
		   pllm_error *err)
{
	const pllm_model *m = c->m;
	uint32_t          limit = pllm_embed_max_tokens(m);
	size_t            total = 0;

	if (limit == 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "model has no usable context length");
	for (int i = 0; i < n; i++)
	{
		if (!ids[i] || n_ids[i] < 1)
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "input %d is empty", i);
		for (int j = 0; j < n_ids[i]; j++)
			if (ids[i][j] < 0 || (uint32_t) ids[i][j] >= m->hp.n_vocab)
				return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
									  "input %d: token id %d is outside the vocabulary (0..%u)",
									  i, (int) ids[i][j], m->hp.n_vocab - 1);
		if ((uint32_t) n_ids[i] > limit && !c->o.truncate)
			return pllm_error_set(err, PLLM_ERR_LIMIT,
								  "input %d has %d tokens, more than the model's limit of %u",
								  i, n_ids[i], limit);
		total += (uint32_t) n_ids[i] > limit ? limit : (uint32_t) n_ids[i];
	}
	c->n = n;
	c->ids = malloc((total ? total : 1) * sizeof(int32_t));
	c->off = malloc(((size_t) n + 1) * sizeof(int));
	if (!c->ids || !c->off)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu tokens", total);
	c->off[0] = 0;
	for (int i = 0; i < n; i++)
	{
		int32_t *dst = c->ids + c->off[i];
		int      len = n_ids[i];
		bool     cut = (uint32_t) len > limit;

		if (cut)
		{
			/* keep the head, and the final [SEP]/EOS when the input ended with one */
			int32_t last = ids[i][len - 1];

			len = (int) limit;
			memcpy(dst, ids[i], (size_t) len * sizeof(int32_t));
			if (embed_is_end_token(m, last))
				dst[len - 1] = last;
		}
		else
			memcpy(dst, ids[i], (size_t) len * sizeof(int32_t));
		if (truncated)
			truncated[i] = cut;
		c->off[i + 1] = c->off[i] + len;
	}
	return PLLM_OK;
}

/* Inputs [first, end) of the next pass: whole sequences up to max_batch_tokens. */
static int
embed_next_chunk(const embed_call *c, int first, int *max_len)
{
	int end = first, ml = 0;

	while (end < c->n)
	{
		int len = c->off[end + 1] - c->off[end];

		if (end > first && c->off[end + 1] - c->off[first] > c->o.max_batch_tokens)
			break;
		if (len > ml)
			ml = len;
		end++;
	}
	*max_len = ml;
	return end;
}

/* Pool the per-token states h (len x E) of one input into out (E). */
static void
embed_pool(pllm_pooling pooling, const float *h, int len, int64_t E, float *out)
{
	if (pooling == PLLM_POOLING_MEAN)
	{
		/* ggml: mul_mat with a column of 1/len */
		float inv = 1.0f / (float) len;

		for (int64_t e = 0; e < E; e++)
		{
			double sum = 0.0;

			for (int t = 0; t < len; t++)
				sum += (double) (h[(int64_t) t * E + e] * inv);
			out[e] = (float) sum;
		}
	}
	else
		memcpy(out, h + (pooling == PLLM_POOLING_CLS ? 0 : (int64_t) (len - 1) * E), (size_t) E * sizeof(float));
}

static void
embed_normalize(float *v, int64_t E)
{
	double sum = 0.0, norm;

	for (int64_t i = 0; i < E; i++)
		sum += (double) v[i] * (double) v[i];
	norm = sqrt(sum);
	if (norm > 0.0)
		for (int64_t i = 0; i < E; i++)
			v[i] = (float) ((double) v[i] / norm);
}

/* ---- encoder path -------------------------------------------------------------- */

static pllm_status
embed_run_encoder(embed_call *c, float *out, pllm_error *err)
{
	const pllm_model *m = c->m;
	int64_t           E = m->hp.n_embd;
	int               max_tok = 0, max_len = 0;
	size_t            work_bytes;
	pllm_status       st;

	/* size the buffers once for the biggest pass */
	for (int first = 0, end, ml; first < c->n; first = end)
	{
		end = embed_next_chunk(c, first, &ml);
		if (c->off[end] - c->off[first] > max_tok)
			max_tok = c->off[end] - c->off[first];
		if (ml > max_len)
			max_len = ml;
	}
	work_bytes = (pllm_bert_work_bytes(m, max_tok, max_len, c->ctl.n_threads) + 63) & ~(size_t) 63;
	c->work = aligned_alloc(64, work_bytes);
	c->hidden = malloc((size_t) max_tok * (size_t) E * sizeof(float));
	c->chunk_off = malloc(((size_t) c->n + 1) * sizeof(int));
	if (!c->work || !c->hidden || !c->chunk_off)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for embedding work (%zu bytes)", work_bytes);

	for (int first = 0, end; first < c->n; first = end)
	{
		pllm_embed_batch b;

		end = embed_next_chunk(c, first, &max_len);
		for (int i = first; i <= end; i++)
			c->chunk_off[i - first] = c->off[i] - c->off[first];
		b.ids = c->ids + c->off[first];
		b.off = c->chunk_off;
		b.n_seq = end - first;
		b.n_tok = c->off[end] - c->off[first];
		b.max_len = max_len;
		st = pllm_bert_encode(m, &b, &c->ctl, c->work, c->hidden, err);
		if (st != PLLM_OK)
			return st;
		for (int i = first; i < end; i++)
		{
			float *row = out + (size_t) i * E;
			int    o = c->off[i] - c->off[first];

			embed_pool(c->pooling, c->hidden + (size_t) o * E, c->off[i + 1] - c->off[i], E, row);
			if (c->o.normalize)
				embed_normalize(row, E);
		}
	}
	return PLLM_OK;
}

/* ---- decoder path -------------------------------------------------------------- */

/*
 * Final output-normed hidden states of one input (len x n_embd into hidden),
 * through a decoding session of its own size whose forward pass writes them
 * to session->hidden_out instead of computing logits.
 */
static pllm_status
embed_decoder_states(const pllm_model *m, const pllm_embed_ctl *ctl, const int32_t *ids, int len,
					 float *hidden, pllm_error *err)
{
	pllm_session_opts so = pllm_session_opts_default();
	pllm_session     *s;
	pllm_status       st;

	so.n_ctx = (uint32_t) len;
	so.n_batch = (uint32_t) (len < PLLM_SESSION_DEFAULT_BATCH ? len : PLLM_SESSION_DEFAULT_BATCH);
	so.should_abort = ctl->should_abort;
	so.abort_arg = ctl->abort_arg;
	if ((st = pllm_session_create(m, &so, &s, err)) != PLLM_OK)
		return st;
	s->hidden_out = hidden;
	st = pllm_session_eval(s, ids, len, false, err);
	pllm_session_free(s);
	return st;
}

static pllm_status
embed_run_decoder(embed_call *c, float *out, pllm_error *err)
{
	const pllm_model *m = c->m;
	int64_t           E = m->hp.n_embd;
	int               max_len = 0;
	pllm_status       st;

	for (int i = 0; i < c->n; i++)
		if (c->off[i + 1] - c->off[i] > max_len)
			max_len = c->off[i + 1] - c->off[i];
	c->hidden = malloc((size_t) max_len * (size_t) E * sizeof(float));
	if (!c->hidden)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for embedding work");
	for (int i = 0; i < c->n; i++)
	{
		int    len = c->off[i + 1] - c->off[i];
		float *row = out + (size_t) i * E;

		if (pllm_embed_should_abort(&c->ctl))
			return pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");
		st = embed_decoder_states(m, &c->ctl, c->ids + c->off[i], len, c->hidden, err);
		if (st != PLLM_OK)
			return st;
		embed_pool(c->pooling, c->hidden, len, E, row);
		if (c->o.normalize)
			embed_normalize(row, E);
	}
	return PLLM_OK;
}

/* ---- API ------------------------------------------------------------------------- */

pllm_status
pllm_embed_ids(const pllm_model *m, const int32_t *const *ids, const int *n_ids, int n,
			   const pllm_embed_opts *opts, float *out, bool *truncated, pllm_error *err)
{
	embed_call  c;
	pllm_status st;

	if (!m || n < 0 || (n > 0 && (!ids || !n_ids || !out)))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "invalid embedding arguments");
	if ((st = embed_resolve_opts(m, opts, &c, err)) != PLLM_OK)
		return st;
	if (n == 0)
		return PLLM_OK;
	st = embed_pack(&c, ids, n_ids, n, truncated, err);
	if (st == PLLM_OK)
		st = m->arch->is_encoder ? embed_run_encoder(&c, out, err) : embed_run_decoder(&c, out, err);
	embed_call_free(&c);
	return st;
}

pllm_status
pllm_embed_token_states(const pllm_model *m, const int32_t *ids, int n_ids,
						const pllm_embed_opts *opts, float *out, pllm_error *err)
{
	pllm_embed_opts  o = opts ? *opts : pllm_embed_opts_default();
	embed_call       c;
	pllm_embed_batch b;
	int              off[2] = {0, n_ids};
	pllm_status      st;

	if (!m || !ids || n_ids < 1 || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "invalid embedding arguments");
	o.pooling = PLLM_POOLING_MEAN;   /* not used; passes the pooling checks */
	o.truncate = false;
	if ((st = embed_resolve_opts(m, &o, &c, err)) != PLLM_OK)
		return st;
	st = embed_pack(&c, &ids, &n_ids, 1, NULL, err);
	if (st == PLLM_OK && !m->arch->is_encoder)
		st = embed_decoder_states(m, &c.ctl, c.ids, n_ids, out, err);
	else if (st == PLLM_OK)
	{
		size_t bytes = (pllm_bert_work_bytes(m, n_ids, n_ids, c.ctl.n_threads) + 63) & ~(size_t) 63;

		c.work = aligned_alloc(64, bytes);
		if (!c.work)
			st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for embedding work (%zu bytes)", bytes);
		else
		{
			b.ids = c.ids;
			b.off = off;
			b.n_seq = 1;
			b.n_tok = n_ids;
			b.max_len = n_ids;
			st = pllm_bert_encode(m, &b, &c.ctl, c.work, out, err);
		}
	}
	embed_call_free(&c);
	return st;
}

pllm_status
pllm_embed_texts(const pllm_model *m, const char *const *texts, const size_t *lens, int n,
				 const pllm_embed_opts *opts, float *out, bool *truncated, pllm_error *err)
{
	int32_t   **ids = NULL;
	int        *n_ids = NULL;
	pllm_status st = PLLM_OK;

	if (!m || n < 0 || (n > 0 && (!texts || !out)))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "invalid embedding arguments");
	if (n == 0)
		return PLLM_OK;
	if (!m->tok)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the model has no tokenizer loaded");
	ids = calloc((size_t) n, sizeof(*ids));
	n_ids = calloc((size_t) n, sizeof(*n_ids));
	if (!ids || !n_ids)
		st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %d inputs", n);
	for (int i = 0; i < n && st == PLLM_OK; i++)
	{
		size_t len = lens ? lens[i] : (texts[i] ? strlen(texts[i]) : 0);
		size_t cap = len + 8, got = 0;   /* typical text needs far fewer; retried if short */

		if (!texts[i] && len)
			st = pllm_error_set(err, PLLM_ERR_INVALID_ARG, "input %d is missing", i);
		else if (!(ids[i] = malloc(cap * sizeof(int32_t))))
			st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu tokens", cap);
		else if ((st = pllm_tok_encode(m->tok, texts[i] ? texts[i] : "", len, true, false, ids[i], cap,
									   &got, err)) == PLLM_ERR_LIMIT && got > cap)
		{
			int32_t *more = realloc(ids[i], got * sizeof(int32_t));

			if (!more)
				st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu tokens", got);
			else
			{
				ids[i] = more;
				cap = got;
				st = pllm_tok_encode(m->tok, texts[i] ? texts[i] : "", len, true, false, ids[i], cap,
									 &got, err);
			}
		}
		if (st == PLLM_OK)
		{
			if (got == 0)
				st = pllm_error_set(err, PLLM_ERR_INVALID_ARG, "input %d has no tokens", i);
			else if (got > (size_t) INT32_MAX)
				st = pllm_error_set(err, PLLM_ERR_LIMIT, "input %d has too many tokens", i);
			else
				n_ids[i] = (int) got;
		}
	}
	if (st == PLLM_OK)
		st = pllm_embed_ids(m, (const int32_t *const *) ids, n_ids, n, opts, out, truncated, err);
	for (int i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
	free(n_ids);
	return st;
}
