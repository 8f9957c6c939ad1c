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
#include "tok_merge.h"


static void
try_bigram(const pllm_tokenizer *t, const tok_sym *syms, tok_heap *h, int32_t left, int32_t right)
{
	int32_t id;

	if (left < 0 || right < 0)
		return;
	/* the two symbols are adjacent in the text */
	id = tok_find(t, syms[left].text, syms[left].n + syms[right].n);
	if (id < 0)
		return;
	tok_heap_push(h, (tok_bigram) { -(double) t->scores[id], left, right, syms[left].n + syms[right].n });
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
	tok_sym *syms = malloc((n + 1) * sizeof(tok_sym));
	tok_heap h = { 0 };
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
		syms[n_syms] = (tok_sym) { (int32_t) n_syms - 1, off + cl == n ? -1 : (int32_t) n_syms + 1, text + off, cl };
		n_syms++;
		off += cl;
	}
	for (size_t i = 1; i < n_syms; i++)
		try_bigram(t, syms, &h, (int32_t) i - 1, (int32_t) i);
	while (h.n > 0 && !h.oom)
	{
		tok_bigram b = tok_heap_pop(&h);
		tok_sym   *l = &syms[b.left], *r = &syms[b.right];

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
