/*
 * tok_gguf.c -- build a tokenizer from a GGUF file's tokenizer.ggml.* keys,
 * with llama.cpp's defaults per model type (llama_vocab::impl::load). The
 * vocabulary is copied, so the tokenizer outlives the GGUF buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

#define KP "tokenizer.ggml."

/* llama.cpp's token types (gguf TokenType) -> attributes. */
static uint32_t
type_to_attr(int64_t type)
{
	switch (type)
	{
		case 1: return PLLM_TOK_ATTR_NORMAL;
		case 2: return PLLM_TOK_ATTR_UNKNOWN;
		case 3: return PLLM_TOK_ATTR_CONTROL;
		case 4: return PLLM_TOK_ATTR_USER_DEFINED;
		case 5: return PLLM_TOK_ATTR_UNUSED;
		case 6: return PLLM_TOK_ATTR_BYTE;
		default: return PLLM_TOK_ATTR_UNDEFINED;
	}
}

static const pllm_gguf_kv *
find_array(const pllm_gguf *g, const char *key, pllm_gguf_vtype want, bool alt_ok, pllm_gguf_vtype alt,
		   bool *bad)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, key);

	*bad = false;
	if (!kv)
		return NULL;
	if (kv->type != PLLM_GGUF_ARRAY || (kv->v.arr.type != want && !(alt_ok && kv->v.arr.type == alt)))
	{
		*bad = true;
		return NULL;
	}
	return kv;
}

static void
get_id(const pllm_gguf *g, const char *key, int32_t n_vocab, int32_t *id)
{
	uint32_t v;

	/* an out-of-range id keeps the default, as llama.cpp does */
	if (pllm_gguf_get_u32(g, key, &v) && v < (uint32_t) n_vocab)
		*id = (int32_t) v;
}

static pllm_status
load_tokens(pllm_tokenizer *t, const pllm_gguf *g, pllm_error *err)
{
	const pllm_gguf_kv *tk, *sc, *tt;
	bool                bad;
	int64_t             dup;
	uint64_t            n;

	tk = find_array(g, KP "tokens", PLLM_GGUF_STRING, false, 0, &bad);
	if (!tk)
		return pllm_error_set(err, PLLM_ERR_FORMAT, bad ? "invalid gguf type for " KP "tokens"
							  : "cannot find tokenizer vocab (" KP "tokens)");
	n = tk->v.arr.n;
	if (n == 0 || n > INT32_MAX - 1 || !tk->v.arr.strs)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "implausible vocabulary size %llu", (unsigned long long) n);
	sc = find_array(g, KP "scores", PLLM_GGUF_FLOAT32, true, PLLM_GGUF_INT32, &bad);
	if (bad || (sc && sc->v.arr.n < n))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "invalid " KP "scores (type or length)");
	tt = find_array(g, KP "token_type", PLLM_GGUF_INT32, false, 0, &bad);
	if (bad || (tt && tt->v.arr.n < n))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "invalid " KP "token_type (type or length)");

	t->n_vocab = (int32_t) n;
	t->scores = calloc(n, sizeof(float));
	t->attr = calloc(n, sizeof(uint32_t));
	if (!t->scores || !t->attr)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %llu tokens", (unsigned long long) n);
	for (uint64_t i = 0; i < n; i++)
	{
		pllm_str s = tk->v.arr.strs[i];
		char     empty[32];
		int64_t  type = 1;

		if (s.len == 0)
		{
			/* llama.cpp names empty tokens so they stay distinct */
			int l = snprintf(empty, sizeof(empty), "[EMPTY_%llu]", (unsigned long long) i);

			s.ptr = empty;
			s.len = (uint64_t) l;
		}
		if (s.len > (1u << 20) || tok_strtab_add(&t->tokens, s.ptr, (size_t) s.len) < 0)
			return pllm_error_set(err, s.len > (1u << 20) ? PLLM_ERR_FORMAT : PLLM_ERR_NOMEM,
								  "cannot store token %llu", (unsigned long long) i);
		if (sc)
		{
			float f = 0;

			if (!pllm_gguf_arr_f32(sc, i, &f))
				return pllm_error_set(err, PLLM_ERR_FORMAT, "bad score of token %llu", (unsigned long long) i);
			t->scores[i] = f;
		}
		if (tt && !pllm_gguf_arr_i64(tt, i, &type))
			return pllm_error_set(err, PLLM_ERR_FORMAT, "bad type of token %llu", (unsigned long long) i);
		t->attr[i] = type_to_attr(type);
	}
	if (!tok_strtab_index(&t->tokens, &dup))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for the token index");
	if (dup >= 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "duplicate token in vocabulary: id %lld",
							  (long long) dup);
	return PLLM_OK;
}

static pllm_status
load_merges(pllm_tokenizer *t, const pllm_gguf *g, pllm_error *err)
{
	const pllm_gguf_kv *mk;
	bool                bad;

	mk = find_array(g, KP "merges", PLLM_GGUF_STRING, false, 0, &bad);
	if (!mk)
		return pllm_error_set(err, PLLM_ERR_FORMAT, bad ? "invalid gguf type for " KP "merges"
							  : "cannot find tokenizer merges in model file");
	if (!mk->v.arr.strs && mk->v.arr.n)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "invalid " KP "merges");
	for (uint64_t i = 0; i < mk->v.arr.n; i++)
	{
		pllm_str    s = mk->v.arr.strs[i];
		const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', (size_t) s.len - 1) : NULL;

		/* "left right", split at the first space after the first byte; a line
		 * without one is stored as the pair ("", "") like llama.cpp */
		if (tok_strtab_add(&t->merges, sp ? s.ptr : " ", sp ? (size_t) s.len : 1) < 0)
			return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for merges");
	}
	if (!tok_strtab_index(&t->merges, NULL))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for the merge index");
	return PLLM_OK;
}

static pllm_status
load_gguf(pllm_tokenizer *t, const pllm_gguf *g, pllm_error *err)
{
	pllm_str              model, pre = { "", 0 }, name = { NULL, 0 };
	const tok_pre_preset *preset = NULL;
	pllm_status           st;
	bool                  b;
	char                  name_buf[128] = "";

	if (!pllm_gguf_get_str(g, KP "model", &model))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "missing or mistyped " KP "model");
	(void) pllm_gguf_get_str(g, KP "pre", &pre);
	if (pllm_gguf_get_str(g, "general.name", &name))
		snprintf(name_buf, sizeof(name_buf), "%.*s", (int) (name.len < 127 ? name.len : 127), name.ptr);

	if (pllm_str_eq(model, "llama"))
	{
		t->type = PLLM_TOK_SPM;
		t->bos = 1, t->eos = 2, t->unk = 0;
		t->add_space_prefix = true;
		t->add_bos = true;
		snprintf(t->pre, sizeof(t->pre), "default");
	}
	else if (pllm_str_eq(model, "bert"))
	{
		t->type = PLLM_TOK_WPM;
		t->bos = 101, t->unk = 100, t->sep = 102, t->pad = 0, t->mask = 103;
		t->add_bos = true, t->add_sep = true;
		t->clean_spaces = true;
		t->lowercase = t->strip_accents = true;
		snprintf(t->pre, sizeof(t->pre), "default");
	}
	else if (pllm_str_eq(model, "gpt2"))
	{
		t->type = PLLM_TOK_BPE;
		t->bos = 11, t->eos = 11;
		if (pre.len == 0)
			preset = tok_pre_lookup("default", 7);
		else if (!(preset = tok_pre_lookup(pre.ptr, (size_t) pre.len)))
			return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "unknown pre-tokenizer type: '%.*s'",
								  (int) (pre.len < 64 ? pre.len : 64), pre.ptr);
		t->clean_spaces = preset->clean_spaces;
		t->ignore_merges = preset->ignore_merges;
		t->add_bos = preset->add_bos;
		snprintf(t->pre, sizeof(t->pre), "%.*s", (int) (pre.len ? (pre.len < 47 ? pre.len : 47) : 7),
				 pre.len ? pre.ptr : "default");
	}
	else
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "unknown tokenizer: '%.*s'",
							  (int) (model.len < 64 ? model.len : 64), model.ptr);

	if ((st = load_tokens(t, g, err)) != PLLM_OK)
		return st;
	if (t->type == PLLM_TOK_BPE)
	{
		if ((st = load_merges(t, g, err)) != PLLM_OK ||
			(st = tok_pretok_build(&t->pretok, preset->canonical, err)) != PLLM_OK)
			return st;
	}
	if (pllm_gguf_get_bool(g, KP "add_space_prefix", &b))
		t->add_space_prefix = b;

	/* default ids beyond the vocabulary are disabled */
	{
		int32_t *defaults[] = { &t->bos, &t->eos, &t->unk, &t->sep, &t->pad, &t->mask };

		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			if (*defaults[i] >= t->n_vocab)
				*defaults[i] = -1;
	}
	if (t->type == PLLM_TOK_WPM)
		get_id(g, KP "cls_token_id", t->n_vocab, &t->bos);
	get_id(g, KP "bos_token_id", t->n_vocab, &t->bos);
	get_id(g, KP "eos_token_id", t->n_vocab, &t->eos);
	get_id(g, KP "eot_token_id", t->n_vocab, &t->eot);
	get_id(g, KP "eom_token_id", t->n_vocab, &t->eom);
	get_id(g, KP "unknown_token_id", t->n_vocab, &t->unk);
	get_id(g, KP "seperator_token_id", t->n_vocab, &t->sep);
	get_id(g, KP "padding_token_id", t->n_vocab, &t->pad);
	get_id(g, KP "mask_token_id", t->n_vocab, &t->mask);
	if (pllm_gguf_get_bool(g, KP "add_bos_token", &b))
		t->add_bos = b;
	/*
	 * Converted BERT files set add_eos_token to mean the closing [SEP], which
	 * add_sep already covers (the reference ignores the flag for WordPiece).
	 */
	if (t->type != PLLM_TOK_WPM && pllm_gguf_get_bool(g, KP "add_eos_token", &b))
		t->add_eos = b;
	if (pllm_gguf_get_bool(g, KP "add_sep_token", &b))
		t->add_sep = b;
	if (t->add_bos && t->bos < 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, KP "add_bos_token is true, but " KP "bos_token_id is not set");
	if (t->add_eos && t->eos < 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, KP "add_eos_token is true, but " KP "eos_token_id is not set");
	if (t->type == PLLM_TOK_WPM && t->add_sep && t->sep < 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, KP "add_sep_token is true, but " KP "seperator_token_id is not set");
	if (pllm_gguf_get_bool(g, KP "normalizer.lowercase", &b))
		t->lowercase = t->strip_accents = b;
	if (pllm_gguf_get_bool(g, KP "normalizer.strip_accents", &b))
		t->strip_accents = b;
	return tok_finalize(t, name_buf, err);
}

pllm_status
pllm_tok_load_gguf(const pllm_gguf *g, pllm_tokenizer **out, pllm_error *err)
{
	pllm_tokenizer *t;
	pllm_status     st;

	if (!g || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "tokenizer load needs a gguf and an output");
	*out = NULL;
	if (!(t = tok_new()))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a tokenizer");
	st = load_gguf(t, g, err);
	if (st != PLLM_OK)
	{
		pllm_tok_free(t);
		return st;
	}
	*out = t;
	return PLLM_OK;
}
