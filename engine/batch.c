/*
 * batch.c -- pllm_batch_generate(): up to n_seq sequences decoded together
 * through the decoder's multi-sequence forward pass. Each sequence owns a slot
 * (its KV cache, sampler and text stream); every pass carries the next token of
 * each decoding slot plus prompt chunks of slots still prefilling, so weights
 * are read once per step for all of them. Finished sequences free their slot
 * for the next waiting prompt. Each sequence follows pllm_generate_ids()'s
 * loop step for step, so its output is the one a lone generation gives.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "kvcache.h"
#include "prefix_cache.h"
#include "pg_llm/batch.h"
#include "pg_llm/tokenizer.h"
#include "threadpool.h"
#include "utf8.h"

/*
 * A prompt waits rather than join while a slot still prefilling shares this
 * many more of its tokens than the prefix cache holds: once that prompt is
 * stored, the waiting one copies the shared rows instead of recomputing them.
 */
#define BT_DEFER_MIN_SHARED 16

typedef struct bt_slot
{
	pllm_kvcache   kv;
	pllm_sampler  *smp;
	pllm_stream    stream;
	bool           stream_live;
	int            seq;          /* prompt index, -1 when free */
	uint32_t       n_past;       /* positions in kv */
	uint32_t       n_prompt_done;/* prompt positions evaluated or restored */
	int32_t        next;         /* token to evaluate next (decoding) */
	int32_t        n_gen;
} bt_slot;

typedef struct bt_run
{
	const pllm_model      *m;
	const pllm_gen_params *p;
	const uint64_t        *seeds;
	pllm_batch_opts        o;
	uint32_t               n_ctx;      /* logical context (stop point) */
	uint32_t               cap;        /* positions each slot's cache holds */
	const int32_t *const  *ids;
	const int             *n_ids;
	int                    n;
	pllm_gen_result       *results;
	pllm_batch_stats       stats;

	bt_slot               *slots;      /* o.n_seq */
	pllm_fwd_ctx           fwd;
	int32_t               *tok_ids;    /* n_batch */
	uint32_t              *tok_pos;    /* n_batch */
	pllm_kvcache         **tok_kv;     /* n_batch */
	int32_t               *out_rows;   /* n_seq: tokens whose logits the pass computes */
	int                   *mem_slot;   /* n_seq: slots in the pass, */
	int                   *mem_chunk;  /* ... how many tokens each ran, */
	int                   *mem_row;    /* ... and its logits row (-1: prompt not finished) */
} bt_run;

pllm_batch_opts
pllm_batch_opts_default(void)
{
	pllm_batch_opts o;

	memset(&o, 0, sizeof(o));
	o.kv_type = PLLM_KV_F32;
	return o;
}

/* ---- setup ---------------------------------------------------------------- */

static void
bt_free(bt_run *r)
{
	int i;

	if (r->slots)
		for (i = 0; i < r->o.n_seq; i++)
		{
			pllm_kv_free(&r->slots[i].kv);
			pllm_sampler_free(r->slots[i].smp);
			if (r->slots[i].stream_live)
				pllm_stream_free(&r->slots[i].stream);
		}
	free(r->slots);
	free(r->fwd.work);
	free(r->fwd.logits);
	free(r->tok_ids);
	free(r->tok_pos);
	free(r->tok_kv);
	free(r->out_rows);
	free(r->mem_slot);
	free(r->mem_chunk);
	free(r->mem_row);
}

/* Sizes (context, slots) from the prompts and options, then every buffer, once. */
static pllm_status
bt_setup(bt_run *r, pllm_error *err)
{
	const pllm_model   *m = r->m;
	const pllm_hparams *hp = &m->hp;
	uint32_t            longest = 0;
	uint64_t            want;
	size_t              work_bytes, logit_bytes;
	pllm_status         st;
	int                 i;

	r->n_ctx = r->o.n_ctx;
	if (r->n_ctx == 0)
		r->n_ctx = hp->n_ctx_train && hp->n_ctx_train < PLLM_SESSION_DEFAULT_CTX_CAP
			? hp->n_ctx_train : PLLM_SESSION_DEFAULT_CTX_CAP;
	if (r->n_ctx > (1u << 20))
		return pllm_error_set(err, PLLM_ERR_LIMIT, "context of %u tokens is too large", r->n_ctx);
	for (i = 0; i < r->n; i++)
	{
		if (r->n_ids[i] <= 0 || !r->ids[i])
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "prompt %d is empty (no tokens)", i);
		if ((uint32_t) r->n_ids[i] >= r->n_ctx)
			return pllm_error_set(err, PLLM_ERR_LIMIT,
								  "prompt %d of %d tokens does not fit the context of %u tokens",
								  i, r->n_ids[i], r->n_ctx);
		for (int j = 0; j < r->n_ids[i]; j++)
			if (r->ids[i][j] < 0 || (uint32_t) r->ids[i][j] >= hp->n_vocab)
				return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
									  "prompt %d: token id %d is outside the vocabulary (0..%u)",
									  i, (int) r->ids[i][j], hp->n_vocab - 1);
		if ((uint32_t) r->n_ids[i] > longest)
			longest = (uint32_t) r->n_ids[i];
	}
	/* a sequence evaluates at most prompt + max_tokens - 1 positions */
	want = r->p->max_tokens > 0 ? (uint64_t) longest + (uint64_t) r->p->max_tokens : r->n_ctx;
	r->cap = want < r->n_ctx ? (uint32_t) want : r->n_ctx;

	if (r->o.n_seq <= 0)
		r->o.n_seq = PLLM_BATCH_DEFAULT_SEQ;
	if (r->o.n_seq > r->n)
		r->o.n_seq = r->n;
	if (r->o.n_batch == 0)
		r->o.n_batch = PLLM_SESSION_DEFAULT_BATCH;
	if (r->o.n_batch < (uint32_t) r->o.n_seq)
		r->o.n_batch = (uint32_t) r->o.n_seq;
	if (r->o.n_threads > 0)
		kern_pool_set_threads(r->o.n_threads);

	r->slots = calloc((size_t) r->o.n_seq, sizeof(bt_slot));
	for (i = 0; r->slots && i < r->o.n_seq; i++)
		r->slots[i].seq = -1;
	r->tok_ids = malloc(sizeof(int32_t) * r->o.n_batch);
	r->tok_pos = malloc(sizeof(uint32_t) * r->o.n_batch);
	r->tok_kv = malloc(sizeof(pllm_kvcache *) * r->o.n_batch);
	r->out_rows = malloc(sizeof(int32_t) * (size_t) r->o.n_seq);
	r->mem_slot = malloc(sizeof(int) * (size_t) r->o.n_seq);
	r->mem_chunk = malloc(sizeof(int) * (size_t) r->o.n_seq);
	r->mem_row = malloc(sizeof(int) * (size_t) r->o.n_seq);
	work_bytes = (m->arch->work_bytes(m, r->cap, r->o.n_batch) + 63) & ~(size_t) 63;
	logit_bytes = ((size_t) r->o.n_seq * hp->n_vocab * sizeof(float) + 63) & ~(size_t) 63;
	r->fwd.work = aligned_alloc(64, work_bytes);
	r->fwd.logits = aligned_alloc(64, logit_bytes);
	if (!r->slots || !r->tok_ids || !r->tok_pos || !r->tok_kv || !r->out_rows || !r->mem_slot ||
		!r->mem_chunk || !r->mem_row || !r->fwd.work || !r->fwd.logits)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a batch of %d sequences (%zu bytes)",
							  r->o.n_seq, work_bytes + logit_bytes);
	r->fwd.model = m;
	r->fwd.n_ctx = r->cap;
	r->fwd.n_batch = r->o.n_batch;
	r->fwd.should_abort = r->o.should_abort;
	r->fwd.abort_arg = r->o.abort_arg;
	for (i = 0; i < r->o.n_seq; i++)
	{
		bt_slot *sl = &r->slots[i];

		if ((st = pllm_kv_init(&sl->kv, r->o.kv_type, hp->n_layer, r->cap, hp->n_head_kv * hp->head_dim, err)) ||
			(st = pllm_sampler_create(&r->p->sampling, hp->n_vocab, &sl->smp, err)))
			return st;
	}
	return PLLM_OK;
}

/* ---- the life of a sequence ----------------------------------------------- */

static uint32_t
bt_common_prefix(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb)
{
	uint32_t i, n = na < nb ? na : nb;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/*
 * Whether prompt q should wait for a slot still prefilling a prompt that shares
 * clearly more of its tokens than the prefix cache already holds.
 */
static bool
bt_should_defer(const bt_run *r, int q)
{
	const pllm_prefix_cache *c = r->o.prefix_cache;
	uint32_t                 n = (uint32_t) r->n_ids[q] - 1, cached;
	int                      i;

	if (!c || n == 0)
		return false;
	cached = pllm_prefix_cache_match(c, r->ids[q], n);
	for (i = 0; i < r->o.n_seq; i++)
	{
		const bt_slot *sl = &r->slots[i];

		if (sl->seq >= 0 && sl->n_prompt_done < (uint32_t) r->n_ids[sl->seq] &&
			bt_common_prefix(r->ids[q], n, r->ids[sl->seq], (uint32_t) r->n_ids[sl->seq]) >=
			cached + BT_DEFER_MIN_SHARED)
			return true;
	}
	return false;
}

/* Start prompt q in slot sl: sampler, stream, and its cached prefix. */
static void
bt_join(bt_run *r, bt_slot *sl, int q)
{
	const int32_t *ids = r->ids[q];
	int            n = r->n_ids[q], i;
	uint32_t       reused = 0;

	sl->seq = q;
	sl->n_gen = 0;
	pllm_sampler_reset(sl->smp, r->seeds ? r->seeds[q] : r->p->sampling.seed);
	for (i = 0; i < n; i++)
		pllm_sampler_accept(sl->smp, ids[i]);
	pllm_stream_init(&sl->stream, r->p->stop, PLLM_GEN_MAX_STOP, NULL, NULL);
	sl->stream_live = true;
	if (r->o.prefix_cache)
		reused = pllm_prefix_cache_restore(r->o.prefix_cache, &sl->kv, ids, (uint32_t) n - 1);
	sl->n_past = reused;
	sl->n_prompt_done = reused;
	r->stats.n_reused_tokens += reused;
	r->results[q].n_prompt = n;
}

/* Hand the slot's text and counts to its result and free the slot. */
static pllm_status
bt_leave(bt_run *r, bt_slot *sl, pllm_stop_reason stop, bool finish, pllm_error *err)
{
	pllm_gen_result *res = &r->results[sl->seq];
	pllm_status      st = PLLM_OK;

	if (finish)
		st = pllm_stream_finish(&sl->stream, err);
	res->n_gen = sl->n_gen;
	res->stop = stop;
	res->text = pllm_stream_take_text(&sl->stream, &res->text_len);
	if (!res->text && st == PLLM_OK)
		st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for generated text");
	pllm_stream_free(&sl->stream);
	sl->stream_live = false;
	sl->seq = -1;
	return st;
}

/*
 * One step of pllm_generate_ids()'s loop for a slot whose logits are ready:
 * sample, stop or queue the token for the next pass.
 */
static pllm_status
bt_step(bt_run *r, bt_slot *sl, const float *logits, pllm_error *err)
{
	const pllm_gen_params *p = r->p;
	pllm_tokenizer        *tok = r->m->tok;
	int32_t                id = pllm_sampler_sample(sl->smp, logits);
	char                   piece[256];
	size_t                 plen;
	bool                   hit;
	pllm_status            st;

	r->stats.n_gen_tokens++;
	if (!p->ignore_eog && pllm_tok_is_eog(tok, id))
		return bt_leave(r, sl, PLLM_STOP_EOG, true, err);
	pllm_sampler_accept(sl->smp, id);
	sl->n_gen++;
	if ((st = pllm_tok_piece(tok, id, false, piece, sizeof(piece), &plen, err)) != PLLM_OK)
		return st;
	if (plen > sizeof(piece))
		plen = sizeof(piece);
	if ((st = pllm_stream_push(&sl->stream, piece, plen, &hit, err)) != PLLM_OK)
		return st;
	if (hit)
		return bt_leave(r, sl, PLLM_STOP_STRING, false, err);
	if (p->max_tokens > 0 && sl->n_gen >= p->max_tokens)
		return bt_leave(r, sl, PLLM_STOP_MAX_TOKENS, true, err);
	if (sl->n_past >= r->n_ctx)
		return bt_leave(r, sl, PLLM_STOP_CONTEXT, true, err);
	sl->next = id;
	return PLLM_OK;
}

/* ---- the loop ------------------------------------------------------------- */

/* Queue n tokens of slot sl at its next positions. */
static int
bt_queue(bt_run *r, int nt, bt_slot *sl, const int32_t *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
	{
		r->tok_ids[nt + i] = ids[i];
		r->tok_pos[nt + i] = sl->n_past + (uint32_t) i;
		r->tok_kv[nt + i] = &sl->kv;
	}
	return nt + n;
}

/*
 * Build one pass (the decoding slots' next tokens first, then prompt chunks
 * within n_batch), run it and advance every slot in it. *n_tok is 0 when no
 * slot had anything to run.
 */
static pllm_status
bt_pass(bt_run *r, int *n_tok, pllm_error *err)
{
	pllm_fwd_tokens tk;
	int             nt = 0, n_mem = 0, n_out = 0, i, j;
	pllm_status     st;

	for (i = 0; i < r->o.n_seq; i++)
	{
		bt_slot *sl = &r->slots[i];

		if (sl->seq < 0 || sl->n_prompt_done < (uint32_t) r->n_ids[sl->seq])
			continue;
		r->mem_slot[n_mem] = i;
		r->mem_chunk[n_mem] = 1;
		r->mem_row[n_mem++] = n_out;
		r->out_rows[n_out++] = nt;
		nt = bt_queue(r, nt, sl, &sl->next, 1);
	}
	for (i = 0; i < r->o.n_seq && nt < (int) r->o.n_batch; i++)
	{
		bt_slot *sl = &r->slots[i];
		int      left, chunk;

		if (sl->seq < 0 || sl->n_prompt_done >= (uint32_t) r->n_ids[sl->seq])
			continue;
		left = r->n_ids[sl->seq] - (int) sl->n_prompt_done;
		chunk = left < (int) r->o.n_batch - nt ? left : (int) r->o.n_batch - nt;
		nt = bt_queue(r, nt, sl, r->ids[sl->seq] + sl->n_prompt_done, chunk);
		r->mem_slot[n_mem] = i;
		r->mem_chunk[n_mem] = chunk;
		r->mem_row[n_mem++] = chunk == left ? n_out : -1;   /* logits only at the prompt's end */
		if (chunk == left)
			r->out_rows[n_out++] = nt - 1;
	}
	*n_tok = nt;
	if (nt == 0)
		return PLLM_OK;

	tk.n = nt;
	tk.ids = r->tok_ids;
	tk.kv = NULL;
	tk.pos0 = 0;
	tk.kvs = r->tok_kv;
	tk.pos = r->tok_pos;
	if ((st = pllm_decoder_forward_tokens(&r->fwd, &tk, r->out_rows, n_out, err)) != PLLM_OK)
		return st;
	r->stats.n_forward++;

	for (j = 0; j < n_mem; j++)
	{
		bt_slot *sl = &r->slots[r->mem_slot[j]];
		bool     prefill = sl->n_prompt_done < (uint32_t) r->n_ids[sl->seq];

		sl->n_past += (uint32_t) r->mem_chunk[j];
		if (prefill)
		{
			sl->n_prompt_done += (uint32_t) r->mem_chunk[j];
			r->stats.n_prompt_tokens += r->mem_chunk[j];
		}
		if (r->mem_row[j] < 0)
			continue;
		if (prefill && r->o.prefix_cache &&
			(st = pllm_prefix_cache_store(r->o.prefix_cache, &sl->kv, r->ids[sl->seq],
										  (uint32_t) r->n_ids[sl->seq], err)) != PLLM_OK)
			return st;
		st = bt_step(r, sl, r->fwd.logits + (size_t) r->mem_row[j] * r->m->hp.n_vocab, err);
		if (st != PLLM_OK)
			return st;
	}
	return PLLM_OK;
}

/* Fill free slots with waiting prompts, in order; returns the next waiting one. */
static int
bt_admit(bt_run *r, int next)
{
	int i;

	for (i = 0; i < r->o.n_seq && next < r->n; i++)
	{
		if (r->slots[i].seq >= 0)
			continue;
		if (bt_should_defer(r, next))
			break;
		bt_join(r, &r->slots[i], next++);
	}
	return next;
}

/* After a failure: what the running sequences produced so far goes to their results. */
static void
bt_abandon(bt_run *r)
{
	pllm_error ignored;
	int        i;

	for (i = 0; i < r->o.n_seq; i++)
		if (r->slots && r->slots[i].seq >= 0)
			bt_leave(r, &r->slots[i], PLLM_STOP_NONE, false, &ignored);
}

pllm_status
pllm_batch_generate_ids(const pllm_model *m, const int32_t *const *ids, const int *n_ids, int n,
						const pllm_gen_params *params, const uint64_t *seeds, const pllm_batch_opts *opts,
						pllm_gen_result *results, pllm_batch_stats *stats, pllm_error *err)
{
	pllm_gen_params defaults = pllm_gen_params_default();
	bt_run          r;
	pllm_status     st;
	int             next = 0, n_tok = 0;

	if (results && n > 0)
		memset(results, 0, sizeof(pllm_gen_result) * (size_t) n);
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!m || n < 0 || (n > 0 && (!ids || !n_ids || !results)))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "batch generation needs a model, prompts and results");
	if (m->arch->is_encoder)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "%s is an encoder model: it cannot generate",
							  m->arch->name);
	if (m->arch->forward != pllm_decoder_forward)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "architecture %s has no multi-sequence forward pass",
							  m->arch->name);
	if (!m->tok)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the model has no tokenizer loaded");
	if (n == 0)
		return PLLM_OK;

	memset(&r, 0, sizeof(r));
	r.m = m;
	r.p = params ? params : &defaults;
	r.seeds = seeds;
	r.o = opts ? *opts : pllm_batch_opts_default();
	r.ids = ids;
	r.n_ids = n_ids;
	r.n = n;
	r.results = results;
	if (r.o.prefix_cache && !pllm_prefix_cache_fits(r.o.prefix_cache, m, r.o.kv_type))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
							  "the prefix cache belongs to another model or kv cache type");

	st = bt_setup(&r, err);
	while (st == PLLM_OK)
	{
		if (r.fwd.should_abort && r.fwd.should_abort(r.fwd.abort_arg))
		{
			st = pllm_error_set(err, PLLM_ERR_CANCELLED, "cancelled");
			break;
		}
		next = bt_admit(&r, next);
		if ((st = bt_pass(&r, &n_tok, err)) != PLLM_OK || n_tok == 0)
			break;
	}
	if (st == PLLM_OK && next < n)
		st = pllm_error_set(err, PLLM_ERR_INTERNAL, "batch stopped with %d prompts left", n - next);
	if (st != PLLM_OK)
		bt_abandon(&r);
	if (stats)
		*stats = r.stats;
	bt_free(&r);
	return st;
}

pllm_status
pllm_batch_generate(const pllm_model *m, const char *const *prompts, const size_t *lens, int n,
					const pllm_gen_params *params, const uint64_t *seeds, const pllm_batch_opts *opts,
					pllm_gen_result *results, pllm_batch_stats *stats, pllm_error *err)
{
	pllm_gen_params defaults = pllm_gen_params_default();
	const pllm_gen_params *p = params ? params : &defaults;
	int32_t       **ids = NULL;
	int            *n_ids = NULL;
	int32_t        *buf = NULL;
	size_t          cap = 0;
	pllm_status     st = PLLM_OK;
	int             i;

	if (results && n > 0)
		memset(results, 0, sizeof(pllm_gen_result) * (size_t) n);
	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!m || n < 0 || (n > 0 && (!prompts || !results)))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "batch generation needs a model, prompts and results");
	if (!m->tok)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the model has no tokenizer loaded");
	if (n == 0)
		return PLLM_OK;
	ids = calloc((size_t) n, sizeof(int32_t *));
	n_ids = calloc((size_t) n, sizeof(int));
	if (!ids || !n_ids)
		st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %d prompts", n);
	for (i = 0; i < n && st == PLLM_OK; i++)
	{
		size_t len = lens ? lens[i] : (prompts[i] ? strlen(prompts[i]) : 0);
		size_t need = pllm_tok_max_tokens(len), got = 0;

		if (!prompts[i] && len)
		{
			st = pllm_error_set(err, PLLM_ERR_INVALID_ARG, "prompt %d is NULL", i);
			break;
		}
		if (need > cap)
		{
			free(buf);
			cap = need;
			if (!(buf = malloc(cap * sizeof(int32_t))))
			{
				st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu prompt tokens", cap);
				break;
			}
		}
		st = pllm_tok_encode(m->tok, prompts[i] ? prompts[i] : "", len, p->add_special, p->parse_special,
							 buf, cap, &got, err);
		if (st != PLLM_OK)
			break;
		if (got > (size_t) INT32_MAX)
		{
			st = pllm_error_set(err, PLLM_ERR_LIMIT, "prompt %d has too many tokens", i);
			break;
		}
		n_ids[i] = (int) got;
		if (!(ids[i] = malloc((got ? got : 1) * sizeof(int32_t))))
		{
			st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu prompt tokens", got);
			break;
		}
		memcpy(ids[i], buf, got * sizeof(int32_t));
	}
	free(buf);
	if (st == PLLM_OK)
		st = pllm_batch_generate_ids(m, (const int32_t *const *) ids, n_ids, n, p, seeds, opts, results,
									 stats, err);
	for (i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
	free(n_ids);
	return st;
}
