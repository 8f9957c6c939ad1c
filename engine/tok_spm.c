/*
 * tok_spm.c -- sentencepiece-style BPE (tokenizer.ggml.model = llama), as
 * llama.cpp's llm_tokenizer_spm_session: start from UTF-8 characters, merge the
 * adjacent pair whose concatenation is the highest-scoring vocabulary token
 * (leftmost on ties) until none is left, then emit each symbol as its token or
 * as <0xNN> byte tokens. The caller has already turned spaces into U+2581.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

typedef struct spm_sym
{
	int32_t     prev, next;
	const char *text;
	size_t      n;
} spm_sym;

typedef struct spm_bigram
{
	float   score;
	int32_t left, right;
	size_t  size;
} spm_bigram;

typedef struct spm_heap
{
	spm_bigram *v;
	size_t      n, cap;
	bool        oom;
} spm_heap;

static inline bool
bg_before(const spm_bigram *a, const spm_bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void
heap_push(spm_heap *h, spm_bigram b)
{
	size_t i;

	if (h->n == h->cap)
	{
		size_t      c = h->cap ? h->cap * 2 : 64;
		spm_bigram *v = realloc(h->v, c * sizeof(*v));

		if (!v)
		{
			h->oom = true;
			return;
		}
		h->v = v;
		h->cap = c;
	}
	i = h->n++;
	while (i > 0 && bg_before(&b, &h->v[(i - 1) / 2]))
	{
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = b;
}

static spm_bigram
heap_pop(spm_heap *h)
{
	spm_bigram top = h->v[0], last = h->v[--h->n];
	size_t     i = 0;

	for (;;)
	{
		size_t            l = 2 * i + 1, r = l + 1, m = i;
		const spm_bigram *best = &last;

		if (l < h->n && bg_before(&h->v[l], best))
		{
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && bg_before(&h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

static void
try_bigram(const pllm_tokenizer *t, const spm_sym *syms, spm_heap *h, int32_t left, int32_t right)
{
	int32_t id;

	if (left < 0 || right < 0)
		return;
	/* the two symbols are adjacent in the text */
	id = tok_find(t, syms[left].text, syms[left].n + syms[right].n);
	if (id < 0)
		return;
	heap_push(h, (spm_bigram) { t->scores[id], left, right, syms[left].n + syms[right].n });
}

/* The token of one byte: <0xNN>, else the byte itself, else unk. */
static int32_t
byte_token(const pllm_tokenizer *t, unsigned char b)
{
	static const char hex[] = "0123456789ABCDEF";
	char              buf[6] = { '<', '0', 'x', hex[b >> 4], hex[b & 15], '>' };
	int32_t           id = tok_find(t, buf, 6);

	if (id < 0)
		id = tok_find(t, (const char *) &b, 1);
	return id >= 0 ? id : t->unk;
}

void
tok_spm_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out)
{
	spm_sym *syms = malloc((n + 1) * sizeof(spm_sym));
	spm_heap h = { 0 };
	size_t   n_syms = 0;

	if (!syms)
	{
		out->oom = true;
		return;
	}
	for (size_t off = 0; off < n;)
	{
		size_t cl = tok_utf8_len((unsigned char) text[off]);

		if (cl > n - off)
			cl = n - off;
		syms[n_syms] = (spm_sym) { (int32_t) n_syms - 1, off + cl == n ? -1 : (int32_t) n_syms + 1, text + off, cl };
		n_syms++;
		off += cl;
	}
	for (size_t i = 1; i < n_syms; i++)
		try_bigram(t, syms, &h, (int32_t) i - 1, (int32_t) i);
	while (h.n > 0 && !h.oom)
	{
		spm_bigram b = heap_pop(&h);
		spm_sym   *l = &syms[b.left], *r = &syms[b.right];

		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			syms[r->next].prev = b.left;
		try_bigram(t, syms, &h, l->prev, b.left);
		try_bigram(t, syms, &h, b.left, l->next);
	}
	if (h.oom)
		out->oom = true;
	for (int32_t i = n_syms ? 0 : -1; i != -1; i = syms[i].next)
	{
		int32_t id = tok_find(t, syms[i].text, syms[i].n);

		if (id >= 0)
			tok_ids_push(out, id);
		else
			for (size_t j = 0; j < syms[i].n; j++)
			{
				int32_t b = byte_token(t, (unsigned char) syms[i].text[j]);

				if (b >= 0)
					tok_ids_push(out, b);
			}
	}
	free(h.v);
	free(syms);
}
