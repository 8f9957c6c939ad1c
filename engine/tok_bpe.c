/*
 * tok_bpe.c -- byte-level BPE (tokenizer.ggml.model = gpt2), as llama.cpp's
 * llm_tokenizer_bpe_session: pre-tokenize into words, map each byte to GPT-2's
 * printable code point, then merge adjacent symbols by merge rank (lowest
 * first, leftmost on ties) until no listed pair remains.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tok_internal.h"
#include "tok_merge.h"


typedef struct bpe_state
{
	const pllm_tokenizer *t;
	tok_sym              *syms;
	size_t                n_syms, cap_syms;
	tok_heap              heap;
	tok_buf               key;
	bool                  oom;
} bpe_state;

static void
add_bigram(bpe_state *s, int32_t left, int32_t right)
{
	const tok_sym *l, *r;
	int64_t        rank;

	if (left < 0 || right < 0)
		return;
	l = &s->syms[left];
	r = &s->syms[right];
	s->key.n = 0;
	tok_buf_put(&s->key, l->text, l->n);
	tok_buf_put(&s->key, " ", 1);
	tok_buf_put(&s->key, r->text, r->n);
	if (s->key.oom)
	{
		s->oom = true;
		return;
	}
	rank = tok_strtab_find(&s->t->merges, s->key.p, s->key.n);
	if (rank < 0)
		return;
	tok_heap_push(&s->heap, (tok_bigram) { (double) rank, left, right, l->n + r->n });
}

static bool
sym_push(bpe_state *s, tok_sym sym)
{
	if (s->n_syms == s->cap_syms)
	{
		size_t   c = s->cap_syms ? s->cap_syms * 2 : 64;
		tok_sym *v = realloc(s->syms, c * sizeof(*v));

		if (!v)
			return false;
		s->syms = v;
		s->cap_syms = c;
	}
	s->syms[s->n_syms++] = sym;
	return true;
}

/* Merge one byte-encoded word and append its ids. */
static void
bpe_word(bpe_state *s, const char *w, size_t n, tok_ids *out)
{
	const pllm_tokenizer *t = s->t;
	int32_t               id;

	s->n_syms = 0;
	s->heap.n = 0;
	if (t->ignore_merges && (id = tok_find(t, w, n)) >= 0)
	{
		tok_ids_push(out, id);
		return;
	}
	for (size_t off = 0; off < n;)
	{
		size_t cl = tok_utf8_len((unsigned char) w[off]);

		if (cl > n - off)
			cl = n - off;
		if (!sym_push(s, (tok_sym) { (int32_t) s->n_syms - 1, off + cl == n ? -1 : (int32_t) s->n_syms + 1, w + off, cl }))
		{
			s->oom = true;
			return;
		}
		off += cl;
	}
	for (size_t i = 1; i < s->n_syms; i++)
		add_bigram(s, (int32_t) i - 1, (int32_t) i);
	while (s->heap.n > 0 && !s->heap.oom && !s->oom)
	{
		tok_bigram b = tok_heap_pop(&s->heap);
		tok_sym   *l = &s->syms[b.left], *r = &s->syms[b.right];

		/* outdated: one side already merged elsewhere */
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			s->syms[r->next].prev = b.left;
		add_bigram(s, l->prev, b.left);
		add_bigram(s, b.left, l->next);
	}
	if (s->heap.oom)
		s->oom = true;
	for (size_t i = 0; i < s->n_syms; i++)
	{
		const tok_sym *sym = &s->syms[i];

		if (sym->n == 0)
			continue;
		id = tok_find(t, sym->text, sym->n);
		if (id >= 0)
			tok_ids_push(out, id);
		else
		{
			/* as llama.cpp: each byte of the symbol's text, if it is a token */
			for (size_t j = 0; j < sym->n; j++)
			{
				int32_t b = tok_find(t, sym->text + j, 1);

				if (b >= 0)
					tok_ids_push(out, b);
			}
		}
	}
}

void
tok_bpe_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out)
{
	utf8proc_uint8_t *norm = NULL;
	uint32_t         *cpts = NULL;
	size_t            n_cpts = 0, *lens = NULL, n_lens = 0, start = 0;
	bpe_state         s = { .t = t };
	tok_buf           word = { 0 };

	if (t->nfc && n > 0)
	{
		utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *) text, (utf8proc_ssize_t) n, &norm,
										  UTF8PROC_STABLE | UTF8PROC_COMPOSE);

		if (r >= 0)
		{
			text = (const char *) norm;
			n = (size_t) r;
		}
		else
			norm = NULL;   /* not valid UTF-8: leave as is */
	}
	if (!tok_cpts_from_utf8(text, n, &cpts, NULL, &n_cpts) ||
		!tok_pretok_split(&t->pretok, cpts, n_cpts, &lens, &n_lens))
	{
		out->oom = true;
		goto done;
	}
	for (size_t w = 0; w < n_lens && !s.oom && !out->oom; w++)
	{
		/* the word's bytes, each as GPT-2's code point */
		word.n = 0;
		for (size_t i = start; i < start + lens[w]; i++)
		{
			char   u[4], e[4];
			size_t ul = tok_cpt_to_utf8(cpts[i], u);

			for (size_t j = 0; j < ul; j++)
				tok_buf_put(&word, e, tok_cpt_to_utf8(tok_byte_to_cpt((uint8_t) u[j]), e));
		}
		start += lens[w];
		if (word.oom)
		{
			s.oom = true;
			break;
		}
		bpe_word(&s, word.p, word.n, out);
	}
	if (s.oom)
		out->oom = true;
done:
	free(norm);
	free(cpts);
	free(lens);
	free(word.p);
	free(s.syms);
	free(s.heap.v);
	free(s.key.p);
}
