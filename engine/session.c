/*
 * session.c -- a decoding session: sizes and allocates everything once (KV
 * cache, the architecture's work memory, logits), then appends batches of
 * tokens through the architecture's forward pass.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "kvcache.h"
#include "pg_llm/session.h"
#include "threadpool.h"

pllm_session_opts
pllm_session_opts_default(void)
{
	pllm_session_opts o;

	memset(&o, 0, sizeof(o));
	o.kv_type = PLLM_KV_F32;
	return o;
}

pllm_status
pllm_session_create(const pllm_model *model, const pllm_session_opts *opts, pllm_session **out,
					pllm_error *err)
{
	pllm_session_opts   o = opts ? *opts : pllm_session_opts_default();
	const pllm_hparams *hp;
	pllm_session       *s;
	pllm_status         st;
	size_t              logit_bytes;

	if (!model || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "session needs a model");
	*out = NULL;
	hp = &model->hp;
	if (model->arch->is_encoder || !model->arch->forward)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "%s is an encoder model: it has no decoding session",
							  model->arch->name);
	if (o.n_ctx == 0)
		o.n_ctx = hp->n_ctx_train && hp->n_ctx_train < PLLM_SESSION_DEFAULT_CTX_CAP
			? hp->n_ctx_train : PLLM_SESSION_DEFAULT_CTX_CAP;
	if (o.n_ctx > (1u << 20))
		return pllm_error_set(err, PLLM_ERR_LIMIT, "context of %u tokens is too large", o.n_ctx);
	if (o.n_batch == 0)
		o.n_batch = o.n_ctx < PLLM_SESSION_DEFAULT_BATCH ? o.n_ctx : PLLM_SESSION_DEFAULT_BATCH;
	if (o.n_batch > o.n_ctx)
		o.n_batch = o.n_ctx;

	if (o.n_threads > 0)
		kern_pool_set_threads(o.n_threads);

	s = calloc(1, sizeof(*s));
	if (!s)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a session");
	s->model = model;
	s->opts = o;
	s->n_ctx = o.n_ctx;
	s->n_batch = o.n_batch;
	st = pllm_kv_init(&s->kv, o.kv_type, hp->n_layer, o.n_ctx, hp->n_head_kv * hp->head_dim, err);
	if (st != PLLM_OK)
	{
		free(s);
		return st;
	}
	s->work_bytes = (model->arch->work_bytes(model, o.n_ctx, o.n_batch) + 63) & ~(size_t) 63;
	logit_bytes = ((size_t) o.n_batch * hp->n_vocab * sizeof(float) + 63) & ~(size_t) 63;
	s->work = aligned_alloc(64, s->work_bytes);
	s->logits = aligned_alloc(64, logit_bytes);
	if (!s->work || !s->logits)
	{
		size_t want = s->work_bytes + logit_bytes;

		pllm_session_free(s);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for session buffers (%zu bytes)", want);
	}
	s->total_bytes = pllm_kv_bytes(o.kv_type, hp->n_layer, o.n_ctx, hp->n_head_kv * hp->head_dim) +
		s->work_bytes + logit_bytes;
	*out = s;
	return PLLM_OK;
}

void
pllm_session_free(pllm_session *s)
{
	if (!s)
		return;
	pllm_kv_free(&s->kv);
	free(s->work);
	free(s->logits);
	free(s);
}

pllm_status
pllm_session_eval(pllm_session *s, const int32_t *ids, int n, bool all_logits, pllm_error *err)
{
	uint32_t    n_vocab;
	int         done = 0, i;
	float      *hidden;
	pllm_status st;

	if (!s || (n > 0 && !ids) || n < 0)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "invalid token batch");
	if (n == 0)
		return PLLM_OK;
	if ((uint64_t) s->n_past + (uint64_t) n > s->n_ctx)
		return pllm_error_set(err, PLLM_ERR_LIMIT,
							  "%d tokens at position %u exceed the context of %u tokens",
							  n, s->n_past, s->n_ctx);
	if (all_logits && (uint32_t) n > s->n_batch)
		return pllm_error_set(err, PLLM_ERR_LIMIT,
							  "all logits of %d tokens requested, but the batch holds %u", n, s->n_batch);
	n_vocab = s->model->hp.n_vocab;
	hidden = s->hidden_out;
	for (i = 0; i < n; i++)
		if (ids[i] < 0 || (uint32_t) ids[i] >= n_vocab)
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (0..%u)",
								  (int) ids[i], n_vocab - 1);
	while (done < n)
	{
		int chunk = n - done;

		if ((uint32_t) chunk > s->n_batch)
			chunk = (int) s->n_batch;
		if (pllm_session_should_abort(s))
			return pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");
		if (hidden)
			s->hidden_out = hidden + (size_t) done * s->model->hp.n_embd;
		st = s->model->arch->forward(s, ids + done, chunk, all_logits, err);
		s->hidden_out = hidden;
		if (st != PLLM_OK)
		{
			s->n_logit_rows = 0;
			return st;
		}
		s->n_past += (uint32_t) chunk;
		done += chunk;
	}
	return PLLM_OK;
}

void
pllm_session_reset(pllm_session *s)
{
	s->n_past = 0;
	s->n_logit_rows = 0;
}

pllm_status
pllm_session_truncate(pllm_session *s, uint32_t n_past, pllm_error *err)
{
	if (n_past > s->n_past)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "cannot truncate %u positions to %u", s->n_past, n_past);
	s->n_past = n_past;
	s->n_logit_rows = 0;
	return PLLM_OK;
}

void
pllm_session_set_abort(pllm_session *s, pllm_abort_fn fn, void *arg)
{
	s->opts.should_abort = fn;
	s->opts.abort_arg = arg;
}

const float *
pllm_session_logits(const pllm_session *s, int i)
{
	if (i < 0 || i >= s->n_logit_rows)
		return NULL;
	return s->logits + (size_t) i * s->model->hp.n_vocab;
}

int
pllm_session_n_logit_rows(const pllm_session *s)
{
	return s->n_logit_rows;
}

uint32_t
pllm_session_n_past(const pllm_session *s)
{
	return s->n_past;
}

uint32_t
pllm_session_n_ctx(const pllm_session *s)
{
	return s->n_ctx;
}

uint32_t
pllm_session_n_batch(const pllm_session *s)
{
	return s->n_batch;
}

const pllm_model *
pllm_session_model(const pllm_session *s)
{
	return s->model;
}

size_t
pllm_session_bytes(const pllm_session *s)
{
	return s->total_bytes;
}
