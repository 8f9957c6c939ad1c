/*
 * tok_wpm.c -- WordPiece (tokenizer.ggml.model = bert), as llama.cpp's
 * llm_tokenizer_wpm_session: BERT's basic tokenizer (strip accents, lower
 * case, split on whitespace, punctuation, ASCII symbols and CJK characters),
 * then greedy longest match. llama.cpp's converted vocab spells word-initial
 * pieces with a U+2581 prefix and continuation pieces bare (no "##"), so each
 * word is matched as "\u2581word"; a word with an unmatched position becomes
 * a single unknown token.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

static bool
is_chinese_char(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Greedy longest-match of one word (already prefixed with U+2581). */
static void
wpm_word(const pllm_tokenizer *t, const char *w, size_t n, tok_ids *out)
{
	size_t first = out->n;

	for (size_t i = 0; i < n; i++)
	{
		size_t hi = i + (size_t) t->max_token_len + 1;
		bool   match = false;

		if (hi > n)
			hi = n;
		for (size_t j = hi; j > i; j--)
		{
			int32_t id = tok_find(t, w + i, j - i);

			if (id >= 0)
			{
				tok_ids_push(out, id);
				match = true;
				i = j - 1;
				break;
			}
		}
		if (!match)
		{
			out->n = first;   /* discard the word's pieces */
			break;
		}
	}
	if (out->n == first && t->unk >= 0)
		tok_ids_push(out, t->unk);
}

void
tok_wpm_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out)
{
	uint32_t *cpts = NULL;
	size_t    n_cpts = 0;
	tok_buf   word = { 0 };

	if (!tok_cpts_from_utf8(text, n, &cpts, NULL, &n_cpts))
	{
		out->oom = true;
		return;
	}
	tok_buf_put(&word, "\xe2\x96\x81", 3);
	for (size_t i = 0; i <= n_cpts && !word.oom; i++)
	{
		uint32_t c, f;
		char     u[4];
		size_t   ul;
		bool     alone;

		if (i == n_cpts)
			c = ' ', f = TOK_CPT_WHITESPACE;   /* flush the last word */
		else
		{
			c = t->strip_accents ? tok_cpt_nfd_first(cpts[i]) : cpts[i];
			f = tok_cpt_flags(c);
		}
		if (f & TOK_CPT_WHITESPACE)
		{
			if (word.n > 3)
				wpm_word(t, word.p, word.n, out);
			word.n = 3;
			continue;
		}
		if (c == 0 || c == 0xFFFD || (f & TOK_CPT_CONTROL))
			continue;
		if (t->strip_accents && (f & TOK_CPT_MARK))
			continue;
		ul = tok_cpt_to_utf8(t->lowercase ? tok_cpt_tolower(c) : c, u);
		alone = (f & TOK_CPT_PUNCT) || (c < 0x7F && (f & TOK_CPT_SYMBOL)) || is_chinese_char(c);
		if (alone)
		{
			if (word.n > 3)
				wpm_word(t, word.p, word.n, out);
			word.n = 3;
			tok_buf_put(&word, u, ul);
			if (!word.oom)
				wpm_word(t, word.p, word.n, out);
			word.n = 3;
		}
		else
			tok_buf_put(&word, u, ul);
	}
	if (word.oom)
		out->oom = true;
	free(word.p);
	free(cpts);
}
