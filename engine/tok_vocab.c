/*
 * tok_vocab.c -- the vocabulary of a tokenizer: a string table with a hash
 * index (token text -> id, merge "a b" -> rank), growable scratch vectors, and
 * the post-load pass that marks special and end-of-generation tokens the way
 * llama.cpp's llama_vocab::load does.
 */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

/* ---- string table ------------------------------------------------------------ */

static uint64_t
tok_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a */

	for (size_t i = 0; i < n; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

int64_t
tok_strtab_add(tok_strtab *t, const char *s, size_t n)
{
	if (n > UINT32_MAX - 1)
		return -1;
	if (t->count == t->max)
	{
		uint32_t  m = t->max ? t->max * 2 : 1024;
		uint64_t *o = realloc(t->off, (size_t) m * sizeof(*o));
		uint32_t *l;

		if (!o)
			return -1;
		t->off = o;
		l = realloc(t->len, (size_t) m * sizeof(*l));
		if (!l)
			return -1;
		t->len = l;
		t->max = m;
	}
	if (t->used + n + 1 > t->cap)
	{
		size_t c = t->cap ? t->cap : 65536;
		char  *d;

		while (c < t->used + n + 1)
			c *= 2;
		d = realloc(t->data, c);
		if (!d)
			return -1;
		t->data = d;
		t->cap = c;
	}
	memcpy(t->data + t->used, s, n);
	t->data[t->used + n] = '\0';
	t->off[t->count] = t->used;
	t->len[t->count] = (uint32_t) n;
	t->used += n + 1;
	return t->count++;
}

bool
tok_strtab_index(tok_strtab *t, int64_t *dup_out)
{
	size_t size = 16;

	if (dup_out)
		*dup_out = -1;
	while (size < (size_t) t->count * 2)
		size *= 2;
	free(t->slots);
	t->slots = calloc(size, sizeof(uint32_t));
	if (!t->slots)
		return false;
	t->mask = (uint32_t) (size - 1);
	for (uint32_t i = 0; i < t->count; i++)
	{
		const char *s = tok_strtab_str(t, i);
		uint32_t    h = (uint32_t) tok_hash(s, t->len[i]) & t->mask;

		for (;;)
		{
			uint32_t e = t->slots[h];

			if (e == 0)
			{
				t->slots[h] = i + 1;
				break;
			}
			if (t->len[e - 1] == t->len[i] && memcmp(tok_strtab_str(t, e - 1), s, t->len[i]) == 0)
			{
				if (dup_out && *dup_out < 0)
					*dup_out = i;
				break;   /* the first one stays */
			}
			h = (h + 1) & t->mask;
		}
	}
	return true;
}

int64_t
tok_strtab_find(const tok_strtab *t, const char *s, size_t n)
{
	uint32_t h;

	if (!t->slots)
		return -1;
	h = (uint32_t) tok_hash(s, n) & t->mask;
	for (;;)
	{
		uint32_t e = t->slots[h];

		if (e == 0)
			return -1;
		if (t->len[e - 1] == n && memcmp(tok_strtab_str(t, e - 1), s, n) == 0)
			return e - 1;
		h = (h + 1) & t->mask;
	}
}

void
tok_strtab_free(tok_strtab *t)
{
	free(t->data);
	free(t->off);
	free(t->len);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ---- vectors ------------------------------------------------------------------- */

void
tok_ids_push(tok_ids *a, int32_t id)
{
	if (a->oom)
		return;
	if (a->n == a->cap)
	{
		size_t   c = a->cap ? a->cap * 2 : 64;
		int32_t *v = realloc(a->v, c * sizeof(int32_t));

		if (!v)
		{
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = c;
	}
	a->v[a->n++] = id;
}

void
tok_buf_put(tok_buf *b, const void *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->n + n > b->cap)
	{
		size_t c = b->cap ? b->cap : 256;
		char  *p;

		while (c < b->n + n)
			c *= 2;
		p = realloc(b->p, c);
		if (!p)
		{
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = c;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* ---- tokenizer object ----------------------------------------------------------- */

pllm_tokenizer *
tok_new(void)
{
	pllm_tokenizer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->bos = t->eos = t->eot = t->eom = t->unk = t->sep = t->pad = t->mask = -1;
	return t;
}

void
pllm_tok_free(pllm_tokenizer *t)
{
	if (!t)
		return;
	tok_strtab_free(&t->tokens);
	tok_strtab_free(&t->merges);
	tok_pretok_free(&t->pretok);
	free(t->scores);
	free(t->attr);
	free(t->special);
	free(t);
}

static bool
text_in(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && memcmp(*list, s, n) == 0)
			return true;
	return false;
}

/* Texts llama.cpp takes as EOT when no id is given, and as end-of-generation. */
static const char *const eot_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
	"<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	"<end_of_utterance>", NULL
};
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
	"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
	"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
	"<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>", "[e~[", NULL
};
static const char *const fim_eog_texts[] = {
	/* FIM pad / repo / file-separator tokens also end generation */
	"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
	"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
	"<|file_sep|>", NULL
};

typedef struct special_key
{
	uint32_t len;
	int32_t  id;
} special_key;

/* Longest text first; ties by id so the order is deterministic. */
static int
special_cmp(const void *a, const void *b)
{
	const special_key *x = a, *y = b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool
name_contains(const char *name, const char *what)
{
	char lower[256];
	size_t i;

	if (!name)
		return false;
	for (i = 0; name[i] && i + 1 < sizeof(lower); i++)
		lower[i] = (char) ((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
	lower[i] = '\0';
	return strstr(lower, what) != NULL;
}

pllm_status
tok_finalize(pllm_tokenizer *t, const char *model_name, pllm_error *err)
{
	int32_t n = t->n_vocab;
	int32_t *ids[] = { &t->bos, &t->eos, &t->eot, &t->eom, &t->unk, &t->sep, &t->pad, &t->mask };
	bool     has_return = false, has_call = false, has_flush = false, has_tool_response = false;
	int32_t  end_id = -1, s_id = -1;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (*ids[i] >= n)
			*ids[i] = -1;

	/* EOT by text when not given; llama.cpp takes whichever its hash map yields
	 * first, we take the list's order (<|eot_id|> before <|end_of_text|>) */
	for (size_t k = 0; eot_texts[k] && t->eot < 0; k++)
	{
		int32_t id = tok_find(t, eot_texts[k], strlen(eot_texts[k]));

		if (id >= 0)
		{
			t->eot = id;
			t->attr[id] |= PLLM_TOK_ATTR_CONTROL;
		}
	}
	for (int32_t id = 0; id < n && t->eom < 0; id++)
		if (t->tokens.len[id] == 10 && memcmp(tok_strtab_str(&t->tokens, id), "<|eom_id|>", 10) == 0)
		{
			t->eom = id;
			t->attr[id] |= PLLM_TOK_ATTR_CONTROL;
		}

	for (int32_t id = 0; id < n; id++)
	{
		const char *s = tok_strtab_str(&t->tokens, id);
		size_t      l = t->tokens.len[id];

		/* control tokens whose text says "unused" are unused */
		if ((t->attr[id] & PLLM_TOK_ATTR_CONTROL) && strstr(s, "unused"))
			t->attr[id] |= PLLM_TOK_ATTR_UNUSED;
		if (text_in(s, l, fim_eog_texts))
			t->attr[id] |= TOK_ATTR_EOG | PLLM_TOK_ATTR_CONTROL;
		if (text_in(s, l, eog_texts))
			t->attr[id] |= TOK_ATTR_EOG | PLLM_TOK_ATTR_CONTROL;
		/* gpt-oss: always rendered */
		if (text_in(s, l, (const char *const[]) { "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL }))
			t->attr[id] = PLLM_TOK_ATTR_USER_DEFINED;
	}
	if (t->eos >= 0)
		t->attr[t->eos] |= TOK_ATTR_EOG;
	if (t->eot >= 0)
		t->attr[t->eot] |= TOK_ATTR_EOG;
	if (t->eom >= 0)
		t->attr[t->eom] |= TOK_ATTR_EOG;

	/* o200k_harmony / solar-open: "<|end|>" is not end-of-generation there */
	for (int32_t id = 0; id < n; id++)
	{
		const char *s = tok_strtab_str(&t->tokens, id);

		if (!(t->attr[id] & TOK_ATTR_EOG))
			continue;
		if (strcmp(s, "<|return|>") == 0)
			has_return = true;
		else if (strcmp(s, "<|call|>") == 0 || strcmp(s, "<|calls|>") == 0)
			has_call = true;
		else if (strcmp(s, "<|flush|>") == 0)
			has_flush = true;
		else if (strcmp(s, "<|end|>") == 0)
			end_id = id;
		else if (strcmp(s, "<|tool_response>") == 0)
			has_tool_response = true;
		else if (strcmp(s, "</s>") == 0)
			s_id = id;
	}
	if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush)))
		t->attr[end_id] = PLLM_TOK_ATTR_USER_DEFINED;
	if (s_id >= 0 && has_tool_response)
		t->attr[s_id] = PLLM_TOK_ATTR_NORMAL;

	/* the special-token cache, longest text first */
	{
		special_key *keys = malloc(((size_t) n + 1) * sizeof(special_key));

		free(t->special);
		t->special = malloc(((size_t) n + 1) * sizeof(int32_t));
		if (!t->special || !keys)
		{
			free(keys);
			return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for the special-token list");
		}
		t->n_special = 0;
		for (int32_t id = 0; id < n; id++)
			if (t->attr[id] & (PLLM_TOK_ATTR_CONTROL | PLLM_TOK_ATTR_USER_DEFINED | PLLM_TOK_ATTR_UNKNOWN))
				keys[t->n_special++] = (special_key) { t->tokens.len[id], id };
		qsort(keys, t->n_special, sizeof(special_key), special_cmp);
		for (size_t i = 0; i < t->n_special; i++)
			t->special[i] = keys[i].id;
		free(keys);
	}

	/* per-model strip attributes llama.cpp sets by name */
	if (name_contains(model_name, "phi-3") || name_contains(model_name, "phi3"))
	{
		static const char *const keep[] = { "<unk>", "<s>", "<|endoftext|>", NULL };

		for (size_t i = 0; i < t->n_special; i++)
			t->attr[t->special[i]] |= PLLM_TOK_ATTR_RSTRIP;
		for (int32_t id = 0; id < n; id++)
		{
			const char *s = tok_strtab_str(&t->tokens, id);

			if (strcmp(s, "</s>") == 0)
				t->attr[id] |= PLLM_TOK_ATTR_RSTRIP;
			if (text_in(s, t->tokens.len[id], keep))
				t->attr[id] &= ~PLLM_TOK_ATTR_RSTRIP;
		}
	}

	t->max_token_len = 0;
	for (int32_t id = 0; id < n; id++)
		if ((int) t->tokens.len[id] > t->max_token_len)
			t->max_token_len = (int) t->tokens.len[id];
	return PLLM_OK;
}
