/*
 * tok_hf.c -- build a byte-level BPE tokenizer from a Hugging Face
 * tokenizer.json (+ optional tokenizer_config.json). The Split regexes of the
 * known families (Llama 3, Qwen2, DeepSeek-V3, GPT-2 ByteLevel) map onto the
 * same pre-tokenizers llama.cpp uses for their GGUF conversions; any other
 * Split regex runs as is with PCRE2 (UTF + UCP). Added tokens become control
 * tokens when special (or looking special, as llama.cpp's converter decides),
 * user-defined otherwise.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

#define RX_HF_LLAMA3 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_HF_QWEN2 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RX_HF_DS3_MAIN "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"

#define MAX_HF_VOCAB (1 << 24)

static bool
type_is(const cJSON *o, const char *type)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");

	return cJSON_IsString(t) && strcmp(t->valuestring, type) == 0;
}

/* llama.cpp's convert_hf_to_gguf does_token_look_special */
static bool
looks_special(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "<pad>") == 0 || strcmp(s, "<mask>") == 0 || strcmp(s, "<2mass>") == 0 || strcmp(s, "[@BOS@]") == 0)
		return true;
	if (n >= 4 && strncmp(s, "<|", 2) == 0 && strcmp(s + n - 2, "|>") == 0)
		return true;
	if (n >= 8 && strncmp(s, "<\xef\xbd\x9c", 4) == 0 && strcmp(s + n - 4, "\xef\xbd\x9c>") == 0)
		return true;
	return n >= 8 && strncmp(s, "<unused", 7) == 0 && s[n - 1] == '>';
}

/* Collect the Split regexes and whether a ByteLevel step splits by itself. */
typedef struct hf_pre
{
	const char *split[8];
	int         n_split;
	bool        byte_level, byte_level_regex, other;
} hf_pre;

static void
scan_pre(const cJSON *p, hf_pre *h)
{
	if (!p || cJSON_IsNull(p))
		return;
	if (type_is(p, "Sequence"))
	{
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"))
			scan_pre(e, h);
	}
	else if (type_is(p, "Split"))
	{
		const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
		const cJSON *rx = cJSON_GetObjectItemCaseSensitive(pat, "Regex");
		const cJSON *inv = cJSON_GetObjectItemCaseSensitive(p, "invert");
		const cJSON *beh = cJSON_GetObjectItemCaseSensitive(p, "behavior");

		if (cJSON_IsString(rx) && h->n_split < 8 && !cJSON_IsTrue(inv) &&
			(!cJSON_IsString(beh) || strcmp(beh->valuestring, "Isolated") == 0))
			h->split[h->n_split++] = rx->valuestring;
		else
			h->other = true;
	}
	else if (type_is(p, "ByteLevel"))
	{
		const cJSON *ur = cJSON_GetObjectItemCaseSensitive(p, "use_regex");
		const cJSON *aps = cJSON_GetObjectItemCaseSensitive(p, "add_prefix_space");

		h->byte_level = true;
		if (!ur || cJSON_IsTrue(ur))
			h->byte_level_regex = true;
		if (cJSON_IsTrue(aps))
			h->other = true;
	}
	else
		h->other = true;
}

static bool
normalizer_ok(const cJSON *n, bool *nfc)
{
	if (!n || cJSON_IsNull(n))
		return true;
	if (type_is(n, "NFC"))
	{
		*nfc = true;
		return true;
	}
	if (type_is(n, "Sequence"))
	{
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(n, "normalizers"))
			if (!normalizer_ok(e, nfc))
				return false;
		return true;
	}
	return false;
}

/* Pick the pre-tokenizer: a llama.cpp preset when the regexes are a known family. */
static pllm_status
setup_pre(pllm_tokenizer *t, const hf_pre *h, const cJSON *model, pllm_error *err)
{
	const char           *canon = NULL;
	const tok_pre_preset *preset;
	const cJSON          *im = cJSON_GetObjectItemCaseSensitive(model, "ignore_merges");

	if (!h->byte_level || h->other)
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "only byte-level BPE tokenizer.json files are supported");
	if (h->n_split == 0 && h->byte_level_regex)
		canon = "gpt-2";
	else if (h->n_split == 1 && !h->byte_level_regex && strcmp(h->split[0], RX_HF_LLAMA3) == 0)
		canon = "llama3";
	else if (h->n_split == 1 && !h->byte_level_regex && strcmp(h->split[0], RX_HF_QWEN2) == 0)
		canon = "qwen2";
	else if (h->n_split == 3 && !h->byte_level_regex && strcmp(h->split[0], "\\p{N}{1,3}") == 0 &&
			 strcmp(h->split[2], RX_HF_DS3_MAIN) == 0)
		canon = "deepseek-v3";

	t->ignore_merges = cJSON_IsTrue(im);
	if (canon)
	{
		preset = tok_pre_lookup(canon, strlen(canon));
		t->clean_spaces = preset->clean_spaces;
		t->add_bos = preset->add_bos;
		snprintf(t->pre, sizeof(t->pre), "%s", canon);
		return tok_pretok_build(&t->pretok, preset->canonical, err);
	}
	snprintf(t->pre, sizeof(t->pre), "hf-regex");
	for (int i = 0; i < h->n_split; i++)
	{
		pllm_status st = tok_pretok_add_regex(&t->pretok, h->split[i], err);

		if (st != PLLM_OK)
			return st;
	}
	if (h->byte_level_regex)
		return tok_pretok_build(&t->pretok, "gpt-2", err);
	return PLLM_OK;
}

/* Text of a config entry that is a string or {"content": ...}. */
static const char *
config_token(const cJSON *cfg, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsObject(v))
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "content");

		if (cJSON_IsString(c))
			return c->valuestring;
	}
	return NULL;
}

static void
apply_config(pllm_tokenizer *t, const cJSON *cfg)
{
	static const struct { const char *key; size_t off; } ids[] = {
		{ "bos_token", offsetof(pllm_tokenizer, bos) },
		{ "eos_token", offsetof(pllm_tokenizer, eos) },
		{ "unk_token", offsetof(pllm_tokenizer, unk) },
		{ "sep_token", offsetof(pllm_tokenizer, sep) },
		{ "pad_token", offsetof(pllm_tokenizer, pad) },
	};
	const cJSON *v;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
	{
		const char *s = config_token(cfg, ids[i].key);
		int32_t     id = s ? tok_find(t, s, strlen(s)) : -1;

		if (id >= 0)
			*(int32_t *) ((char *) t + ids[i].off) = id;
	}
	if (cJSON_IsBool(v = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token")))
		t->add_bos = cJSON_IsTrue(v);
	if (cJSON_IsBool(v = cJSON_GetObjectItemCaseSensitive(cfg, "add_eos_token")))
		t->add_eos = cJSON_IsTrue(v);
	if (cJSON_IsBool(v = cJSON_GetObjectItemCaseSensitive(cfg, "clean_up_tokenization_spaces")))
		t->clean_spaces = cJSON_IsTrue(v);
}

static pllm_status
load_vocab(pllm_tokenizer *t, const cJSON *vocab, const cJSON *added, pllm_error *err)
{
	const cJSON *e;
	int64_t      n = 0, dup;
	const char **text;

	cJSON_ArrayForEach(e, vocab)
	{
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble >= MAX_HF_VOCAB)
			return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: bad id for token \"%.40s\"", e->string);
		if ((int64_t) e->valuedouble + 1 > n)
			n = (int64_t) e->valuedouble + 1;
	}
	cJSON_ArrayForEach(e, added)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "content");

		if (!cJSON_IsNumber(id) || !cJSON_IsString(c) || id->valuedouble < 0 || id->valuedouble >= MAX_HF_VOCAB)
			return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: bad added token");
		if ((int64_t) id->valuedouble + 1 > n)
			n = (int64_t) id->valuedouble + 1;
	}
	if (n == 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: empty vocabulary");
	t->n_vocab = (int32_t) n;
	text = calloc((size_t) n, sizeof(*text));
	t->scores = calloc((size_t) n, sizeof(float));
	t->attr = calloc((size_t) n, sizeof(uint32_t));
	if (!text || !t->scores || !t->attr)
	{
		free(text);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for %lld tokens", (long long) n);
	}
	cJSON_ArrayForEach(e, vocab)
	{
		int32_t id = (int32_t) e->valuedouble;

		text[id] = e->string;
		t->attr[id] = PLLM_TOK_ATTR_NORMAL;
	}
	cJSON_ArrayForEach(e, added)
	{
		int32_t      id = (int32_t) cJSON_GetObjectItemCaseSensitive(e, "id")->valuedouble;
		const char  *c = cJSON_GetObjectItemCaseSensitive(e, "content")->valuestring;
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(e, "special");

		text[id] = c;
		t->attr[id] = (cJSON_IsTrue(sp) || looks_special(c)) ? PLLM_TOK_ATTR_CONTROL : PLLM_TOK_ATTR_USER_DEFINED;
	}
	for (int64_t i = 0; i < n; i++)
	{
		char        pad[32];
		const char *s = text[i];

		if (!s || !*s)
		{
			/* ids nobody uses, named as llama.cpp's converter pads them */
			snprintf(pad, sizeof(pad), "[PAD%lld]", (long long) i);
			s = pad;
			t->attr[i] = PLLM_TOK_ATTR_UNUSED;
		}
		if (tok_strtab_add(&t->tokens, s, strlen(s)) < 0)
		{
			free(text);
			return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for tokens");
		}
	}
	free(text);
	if (!tok_strtab_index(&t->tokens, &dup))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for the token index");
	if (dup >= 0)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "duplicate token in vocabulary: id %lld", (long long) dup);
	return PLLM_OK;
}

static pllm_status
load_merges(pllm_tokenizer *t, const cJSON *merges, pllm_error *err)
{
	const cJSON *e;
	tok_buf      b = { 0 };

	cJSON_ArrayForEach(e, merges)
	{
		b.n = 0;
		if (cJSON_IsString(e))
		{
			const char *s = e->valuestring;
			size_t      n = strlen(s);
			const char *sp = n > 1 ? memchr(s + 1, ' ', n - 1) : NULL;

			tok_buf_put(&b, sp ? s : " ", sp ? n : 1);
		}
		else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
				 cJSON_IsString(cJSON_GetArrayItem(e, 0)) && cJSON_IsString(cJSON_GetArrayItem(e, 1)))
		{
			const char *l = cJSON_GetArrayItem(e, 0)->valuestring, *r = cJSON_GetArrayItem(e, 1)->valuestring;

			tok_buf_put(&b, l, strlen(l));
			tok_buf_put(&b, " ", 1);
			tok_buf_put(&b, r, strlen(r));
		}
		else
		{
			free(b.p);
			return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: bad merge entry");
		}
		if (b.oom || tok_strtab_add(&t->merges, b.p, b.n) < 0)
		{
			free(b.p);
			return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for merges");
		}
	}
	free(b.p);
	if (!tok_strtab_index(&t->merges, NULL))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for the merge index");
	return PLLM_OK;
}

static pllm_status
load_hf(pllm_tokenizer *t, const cJSON *root, const cJSON *cfg, pllm_error *err)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
	const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
	const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
	hf_pre       h = { 0 };
	pllm_status  st;

	if (!cJSON_IsObject(model) || !cJSON_IsObject(vocab) || !cJSON_IsArray(merges))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: missing model.vocab or model.merges");
	if (!type_is(model, "BPE"))
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "tokenizer.json: only model type BPE is supported");
	if (added && !cJSON_IsArray(added))
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json: added_tokens is not an array");
	if (!normalizer_ok(cJSON_GetObjectItemCaseSensitive(root, "normalizer"), &t->nfc))
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "tokenizer.json: unsupported normalizer");
	scan_pre(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"), &h);

	t->type = PLLM_TOK_BPE;
	if ((st = setup_pre(t, &h, model, err)) != PLLM_OK ||
		(st = load_vocab(t, vocab, added, err)) != PLLM_OK ||
		(st = load_merges(t, merges, err)) != PLLM_OK)
		return st;
	if (cfg)
		apply_config(t, cfg);
	if (t->add_bos && t->bos < 0)
		t->add_bos = false;
	if (t->add_eos && t->eos < 0)
		t->add_eos = false;
	return tok_finalize(t, NULL, err);
}

pllm_status
pllm_tok_load_hf(const char *json, size_t len, const char *config, size_t config_len, pllm_tokenizer **out,
				 pllm_error *err)
{
	cJSON          *root, *cfg = NULL;
	pllm_tokenizer *t;
	pllm_status     st;

	if (!out || (!json && len))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "tokenizer.json load needs text and an output");
	*out = NULL;
	root = cJSON_ParseWithLength(json ? json : "", len);
	if (!root)
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer.json is not valid JSON");
	if (config && config_len && !(cfg = cJSON_ParseWithLength(config, config_len)))
	{
		cJSON_Delete(root);
		return pllm_error_set(err, PLLM_ERR_FORMAT, "tokenizer_config.json is not valid JSON");
	}
	if (!(t = tok_new()))
		st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a tokenizer");
	else
		st = load_hf(t, root, cfg, err);
	cJSON_Delete(root);
	cJSON_Delete(cfg);
	if (st != PLLM_OK)
	{
		pllm_tok_free(t);
		return st;
	}
	*out = t;
	return PLLM_OK;
}

pllm_status
pllm_tok_load_hf_json(const char *json, size_t len, pllm_tokenizer **out, pllm_error *err)
{
	return pllm_tok_load_hf(json, len, NULL, 0, out, err);
}
