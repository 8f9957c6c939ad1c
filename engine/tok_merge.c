/*
 * tok_merge.c -- the bigram min-heap shared by the SPM and BPE tokenizers.
 */
#include <stdlib.h>

#include "tok_merge.h"

static inline bool
bigram_before(const tok_bigram *a, const tok_bigram *b)
{
	return a->priority < b->priority || (a->priority == b->priority && a->left < b->left);
}

void
tok_heap_push(tok_heap *h, tok_bigram b)
{
	size_t i;

	if (h->n == h->cap)
	{
		size_t      c = h->cap ? h->cap * 2 : 64;
		tok_bigram *v = realloc(h->v, c * sizeof(*v));

		if (!v)
		{
			h->oom = true;
			return;
		}
		h->v = v;
		h->cap = c;
	}
	i = h->n++;
	while (i > 0 && bigram_before(&b, &h->v[(i - 1) / 2]))
	{
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = b;
}

tok_bigram
tok_heap_pop(tok_heap *h)
{
	tok_bigram top = h->v[0], last = h->v[--h->n];
	size_t     i = 0;

	for (;;)
	{
		size_t            l = 2 * i + 1, r = l + 1, m = i;
		const tok_bigram *best = &last;

		if (l < h->n && bigram_before(&h->v[l], best))
		{
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && bigram_before(&h->v[r], best))
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
