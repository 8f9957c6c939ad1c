/*
 * generate.c -- pllm_generate(): tokenize, prefill the prompt as one batch,
 * then sample/evaluate token by token, streaming text pieces that are always
 * whole UTF-8 characters and never contain (or begin) a stop string: bytes that
 * might start one are held back until they are known not to.
 */
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "pg_llm/batch.h"
#include "pg_llm/sampler.h"
#include "pg_llm/tokenizer.h"
#include "utf8.h"

pllm_gen_params
pllm_gen_params_default(void)
{
	pllm_gen_params p;

	memset(&p, 0, sizeof(p));
	p.max_tokens = 256;
	p.sampling = pllm_sampler_params_default();
	p.add_special = true;
	p.parse_special = false;
	return p;
}

void
pllm_gen_result_free(pllm_gen_result *r)
{
	if (!r)
		return;
	free(r->text);
	r->text = NULL;
	r->text_len = 0;
}

pllm_status
pllm_generate_ids(pllm_session *s, const int32_t *ids, int n, const pllm_gen_params *params,
				  pllm_piece_fn callback, void *user, pllm_gen_result *result, pllm_error *err)
{
	pllm_gen_params        defaults = pllm_gen_params_default();
	const pllm_gen_params *p = params ? params : &defaults;
	const pllm_model      *m;
	pllm_tokenizer        *tok;
	pllm_sampler          *smp = NULL;
	pllm_stream            g;
	pllm_stop_reason       stop = PLLM_STOP_NONE;
	pllm_status            st;
	int32_t                n_gen = 0;
	char                   piece[256];
	int                    i;

	if (result)
		memset(result, 0, sizeof(*result));
	if (!s || (n > 0 && !ids))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "generate needs a session and a prompt");
	if (n <= 0)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the prompt is empty (no tokens)");
	m = s->model;
	tok = m->tok;
	if (!tok)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the model has no tokenizer loaded");
	if ((uint32_t) n >= s->n_ctx)
		return pllm_error_set(err, PLLM_ERR_LIMIT, "prompt of %d tokens does not fit the context of %u tokens",
							  n, s->n_ctx);
	if ((st = pllm_sampler_create(&p->sampling, m->hp.n_vocab, &smp, err)) != PLLM_OK)
		return st;
	pllm_stream_init(&g, p->stop, PLLM_GEN_MAX_STOP, callback, user);
	for (i = 0; i < n; i++)
		pllm_sampler_accept(smp, ids[i]);

	/* reset, then the prompt (its cached prefix copied when the session has a prefix cache) */
	st = pllm_session_eval_prompt(s, ids, n, NULL, err);
	while (st == PLLM_OK)
	{
		int32_t id = pllm_sampler_sample(smp, pllm_session_logits(s, 0));
		size_t  plen;
		bool    hit;

		if (!p->ignore_eog && pllm_tok_is_eog(tok, id))
		{
			stop = PLLM_STOP_EOG;
			break;
		}
		pllm_sampler_accept(smp, id);
		n_gen++;
		st = pllm_tok_piece(tok, id, false, piece, sizeof(piece), &plen, err);
		if (st != PLLM_OK)
			break;
		if (plen > sizeof(piece))
			plen = sizeof(piece);
		if ((st = pllm_stream_push(&g, piece, plen, &hit, err)) != PLLM_OK)
			break;
		if (hit)
		{
			stop = PLLM_STOP_STRING;
			break;
		}
		if (g.stopped)
		{
			stop = PLLM_STOP_CALLBACK;
			break;
		}
		if (p->max_tokens > 0 && n_gen >= p->max_tokens)
		{
			stop = PLLM_STOP_MAX_TOKENS;
			break;
		}
		if (s->n_past >= s->n_ctx)
		{
			stop = PLLM_STOP_CONTEXT;
			break;
		}
		st = pllm_session_eval(s, &id, 1, false, err);
	}
	/* End of text: flush what was held back (stop-string prefixes, a cut character). */
	if (st == PLLM_OK && stop != PLLM_STOP_STRING && stop != PLLM_STOP_CALLBACK)
		st = pllm_stream_finish(&g, err);
	pllm_sampler_free(smp);
	if (result)
	{
		result->n_prompt = n;
		result->n_gen = n_gen;
		result->stop = stop;
		result->text = pllm_stream_take_text(&g, &result->text_len);
		if (!result->text && st == PLLM_OK)
			st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for generated text");
	}
	pllm_stream_free(&g);
	return st;
}

pllm_status
pllm_generate(pllm_session *s, const char *prompt, size_t len, const pllm_gen_params *params,
			  pllm_piece_fn callback, void *user, pllm_gen_result *result, pllm_error *err)
{
	pllm_gen_params        defaults = pllm_gen_params_default();
	const pllm_gen_params *p = params ? params : &defaults;
	int32_t               *ids;
	size_t                 cap, n = 0;
	pllm_status            st;

	if (result)
		memset(result, 0, sizeof(*result));
	if (!s || (!prompt && len))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "generate needs a session and a prompt");
	if (!s->model->tok)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "the model has no tokenizer loaded");
	cap = pllm_tok_max_tokens(len);
	ids = malloc(cap * sizeof(int32_t));
	if (!ids)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %zu prompt tokens", cap);
	st = pllm_tok_encode(s->model->tok, prompt ? prompt : "", len, p->add_special, p->parse_special,
						 ids, cap, &n, err);
	if (st == PLLM_OK)
	{
		if (n > (size_t) INT32_MAX)
			st = pllm_error_set(err, PLLM_ERR_LIMIT, "prompt has too many tokens");
		else
			st = pllm_generate_ids(s, ids, (int) n, p, callback, user, result, err);
	}
	free(ids);
	return st;
}
