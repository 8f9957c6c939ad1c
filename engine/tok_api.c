/*
 * tok_api.c -- the public tokenizer calls: encode (special-token partition
 * then the model's algorithm, as llama_vocab::impl::tokenize), token pieces and
 * decode (llama_vocab::impl::token_to_piece / detokenize), file opening and the
 * information getters.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_llm/mapfile.h"
#include "tok_internal.h"

/* ---- special-token partition ------------------------------------------------- */

typedef struct frag
{
	int32_t id;    /* -1: raw text text[off, off+len) */
	size_t  off, len;
} frag;

typedef struct frag_vec
{
	frag  *v;
	size_t n, cap;
	bool   oom;
} frag_vec;

static void
frag_push(frag_vec *a, frag f)
{
	if (a->oom)
		return;
	if (a->n == a->cap)
	{
		size_t c = a->cap ? a->cap * 2 : 16;
		frag  *v = realloc(a->v, c * sizeof(frag));

		if (!v)
		{
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = c;
	}
	a->v[a->n++] = f;
}

static inline bool
c_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static const char *
find_bytes(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; m > 0 && i + m <= n; i++)
	{
		const char *c = memchr(hay + i, needle[0], n - m + 1 - i);

		if (!c)
			return NULL;
		i = (size_t) (c - hay);
		if (memcmp(c, needle, m) == 0)
			return c;
	}
	return NULL;
}

/*
 * Split raw fragments around every occurrence of each special token, longest
 * tokens first (llama.cpp's tokenizer_st_partition). Control and unknown
 * tokens take part only with parse_special; user-defined ones always do.
 */
static bool
partition(const pllm_tokenizer *t, const char *text, size_t len, bool parse_special, frag_vec *out)
{
	frag_vec cur = { 0 }, next = { 0 };

	if (len > 0)
		frag_push(&cur, (frag) { -1, 0, len });
	for (size_t k = 0; k < t->n_special && !cur.oom; k++)
	{
		int32_t     id = t->special[k];
		uint32_t    attr = t->attr[id];
		const char *s = tok_strtab_str(&t->tokens, (uint32_t) id);
		size_t      sl = t->tokens.len[id];

		if (!parse_special && (attr & (PLLM_TOK_ATTR_CONTROL | PLLM_TOK_ATTR_UNKNOWN)))
			continue;
		next.n = 0;
		for (size_t f = 0; f < cur.n; f++)
		{
			size_t      off = cur.v[f].off, flen = cur.v[f].len;
			const char *m;

			if (cur.v[f].id >= 0)
			{
				frag_push(&next, cur.v[f]);
				continue;
			}
			while ((m = find_bytes(text + off, flen, s, sl)) != NULL)
			{
				size_t mo = (size_t) (m - text), left = mo - off;

				if (attr & PLLM_TOK_ATTR_LSTRIP)
					while (left > 0 && c_isspace(text[off + left - 1]))
						left--;
				if (left > 0)
					frag_push(&next, (frag) { -1, off, left });
				frag_push(&next, (frag) { id, 0, 0 });
				flen -= (mo - off) + sl;
				off = mo + sl;
				if (attr & PLLM_TOK_ATTR_RSTRIP)
					while (flen > 0 && c_isspace(text[off]))
						off++, flen--;
			}
			if (flen > 0)
				frag_push(&next, (frag) { -1, off, flen });
		}
		{
			frag_vec tmp = cur;

			cur = next;
			next = tmp;
		}
		if (cur.oom || next.oom)
			cur.oom = true;
	}
	free(next.v);
	*out = cur;
	return !cur.oom;
}

/* ---- encode -------------------------------------------------------------------- */

size_t
pllm_tok_max_tokens(size_t len)
{
	return len > (SIZE_MAX - 8) / 4 ? SIZE_MAX : 4 * len + 8;
}

/* SPM: prefix a space after a special (or at the start) and escape spaces. */
static void
spm_fragment(const pllm_tokenizer *t, const char *s, size_t n, bool prefix, tok_ids *out, tok_buf *esc)
{
	esc->n = 0;
	if (prefix)
		tok_buf_put(esc, "\xe2\x96\x81", 3);
	for (size_t i = 0; i < n; i++)
	{
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		tok_buf_put(esc, s + i, j - i);
		if (j < n)
			tok_buf_put(esc, "\xe2\x96\x81", 3);
		i = j;
	}
	if (esc->oom)
	{
		out->oom = true;
		return;
	}
	tok_spm_encode(t, esc->p, esc->n, out);
}

pllm_status
pllm_tok_encode(const pllm_tokenizer *t, const char *text, size_t len, bool add_special, bool parse_special,
				int32_t *ids, size_t cap, size_t *n_out, pllm_error *err)
{
	frag_vec    frags = { 0 };
	tok_ids     out = { 0 };
	tok_buf     esc = { 0 };
	bool        prev_special = true;
	pllm_status st = PLLM_OK;

	if (n_out)
		*n_out = 0;
	if (!t || (!text && len) || (!ids && cap) || !n_out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "tokenize needs a tokenizer, text and an output");
	if (!partition(t, text, len, parse_special, &frags))
	{
		free(frags.v);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory while tokenizing");
	}
	/* WPM always starts with [CLS]; the others follow add_bos */
	if (add_special && t->bos >= 0 && (t->type == PLLM_TOK_WPM || t->add_bos))
		tok_ids_push(&out, t->bos);
	for (size_t f = 0; f < frags.n && !out.oom; f++)
	{
		const frag *fr = &frags.v[f];

		if (fr->id >= 0)
		{
			tok_ids_push(&out, fr->id);
			prev_special = true;
			continue;
		}
		switch (t->type)
		{
			case PLLM_TOK_SPM:
				spm_fragment(t, text + fr->off, fr->len, t->add_space_prefix && prev_special, &out, &esc);
				break;
			case PLLM_TOK_BPE:
				tok_bpe_encode(t, text + fr->off, fr->len, &out);
				break;
			case PLLM_TOK_WPM:
				tok_wpm_encode(t, text + fr->off, fr->len, &out);
				break;
		}
		prev_special = false;
	}
	if (add_special)
	{
		if (t->type == PLLM_TOK_WPM)
		{
			if (t->sep >= 0)
				tok_ids_push(&out, t->sep);
		}
		else if (t->add_eos && t->eos >= 0)
			tok_ids_push(&out, t->eos);
	}
	free(frags.v);
	free(esc.p);
	if (out.oom)
		st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory while tokenizing");
	else
	{
		if (out.n > 0 && cap > 0)
			memcpy(ids, out.v, (out.n < cap ? out.n : cap) * sizeof(int32_t));
		*n_out = out.n;
		if (out.n > cap)
			st = pllm_error_set(err, PLLM_ERR_LIMIT, "text has %zu tokens, more than the %zu allowed", out.n, cap);
	}
	free(out.v);
	return st;
}

/* ---- pieces and decode -------------------------------------------------------- */

/* Append the piece of id to b; lstrip: drop up to that many leading spaces. */
static void
piece_into(const pllm_tokenizer *t, int32_t id, bool special, int lstrip, tok_buf *b)
{
	uint32_t    attr = t->attr[id];
	const char *s = tok_strtab_str(&t->tokens, (uint32_t) id);
	size_t      n = t->tokens.len[id], start = b->n;

	if (!special && (attr & (PLLM_TOK_ATTR_UNKNOWN | PLLM_TOK_ATTR_CONTROL)))
		return;
	if (attr & (PLLM_TOK_ATTR_UNKNOWN | PLLM_TOK_ATTR_CONTROL | PLLM_TOK_ATTR_USER_DEFINED))
		tok_buf_put(b, s, n);
	else if (attr & PLLM_TOK_ATTR_NORMAL)
	{
		if (t->type == PLLM_TOK_BPE)
		{
			/* byte-level: every code point stands for one byte */
			uint32_t *cpts = NULL;
			size_t    nc = 0;

			if (!tok_cpts_from_utf8(s, n, &cpts, NULL, &nc))
			{
				b->oom = true;
				return;
			}
			for (size_t i = 0; i < nc; i++)
			{
				int  byte = tok_cpt_to_byte(cpts[i]);
				char u[4];

				if (byte >= 0)
				{
					char c = (char) byte;

					tok_buf_put(b, &c, 1);
				}
				else
					tok_buf_put(b, u, tok_cpt_to_utf8(cpts[i], u));   /* not a byte char: as is */
			}
			free(cpts);
		}
		else
		{
			/* "▁" -> " " */
			for (size_t i = 0; i < n;)
			{
				if (i + 3 <= n && memcmp(s + i, "\xe2\x96\x81", 3) == 0)
				{
					tok_buf_put(b, " ", 1);
					i += 3;
				}
				else
				{
					size_t j = i + 1;

					while (j < n && !(j + 3 <= n && memcmp(s + j, "\xe2\x96\x81", 3) == 0))
						j++;
					tok_buf_put(b, s + i, j - i);
					i = j;
				}
			}
		}
	}
	else if ((attr & PLLM_TOK_ATTR_BYTE) && n >= 5)
	{
		char hex[3] = { s[3], s[4], 0 };
		char c = (char) strtol(hex, NULL, 16);

		tok_buf_put(b, &c, 1);
	}
	/* strip leading spaces of what was just added */
	if (lstrip > 0 && !b->oom)
	{
		size_t k = 0;

		while (k < (size_t) lstrip && start + k < b->n && b->p[start + k] == ' ')
			k++;
		if (k)
		{
			memmove(b->p + start, b->p + start + k, b->n - start - k);
			b->n -= k;
		}
	}
}

pllm_status
pllm_tok_piece(const pllm_tokenizer *t, int32_t id, bool special, char *buf, size_t cap, size_t *len,
			   pllm_error *err)
{
	tok_buf b = { 0 };

	if (len)
		*len = 0;
	if (!t || !len || (!buf && cap))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "token piece needs a tokenizer and an output");
	if (id < 0 || id >= t->n_vocab)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (0..%d)",
							  id, t->n_vocab - 1);
	piece_into(t, id, special, 0, &b);
	if (b.oom)
	{
		free(b.p);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a token piece");
	}
	if (b.n)
		memcpy(buf, b.p, b.n < cap ? b.n : cap);
	*len = b.n;
	free(b.p);
	return PLLM_OK;
}

/* llama.cpp's clean_spaces passes (" ?" -> "?", " ' " -> "'", " 's" -> "'s", ...). */
static size_t
clean_spaces(char *text, size_t total)
{
	size_t t1 = total, t2, t3;

	total = total ? 1 : 0;
	for (size_t i = 1; i < t1; i++)
	{
		char x = text[i];

		if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
			total--;
		text[total++] = x;
	}
	t2 = total;
	total = total ? 1 : 0;
	for (size_t i = 1; i < t2; i++)
	{
		char x = text[i];

		if (x == '\'' && i + 1 < t2 && text[i - 1] == ' ' && text[i + 1] == ' ')
		{
			total--;
			text[++i] = '\0';
		}
		text[total++] = x;
	}
	t3 = total;
	total = total ? 1 : 0;
	for (size_t i = 1; i < t3; i++)
	{
		char x = text[i];

		if (text[i - 1] == ' ' && x == '\'' && i + 1 < t3)
		{
			char x1 = text[i + 1];

			if (x1 == 's' || x1 == 'm')
				total--;
			else if (x1 != 't' && x1 != 'd' && i + 2 < t3)
			{
				char x2 = text[i + 2];

				if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e'))
					total--;
			}
		}
		text[total++] = x;
	}
	return total;
}

static pllm_status
decode_buf(const pllm_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, tok_buf *b, pllm_error *err)
{
	bool remove_space = t->add_space_prefix;

	if (!ids && n)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "detokenize needs ids");
	if ((flags & PLLM_TOK_DECODE_SKIP_BOS_EOS) && t->add_bos && n > 0 && ids[0] == t->bos)
	{
		/* llama.cpp keeps the dummy-prefix space then; INVERSE drops it as encode added it */
		remove_space = remove_space && (flags & PLLM_TOK_DECODE_STRIP_PREFIX);
		ids++;
		n--;
	}
	if ((flags & PLLM_TOK_DECODE_SKIP_BOS_EOS) && t->add_eos && n > 0 && ids[n - 1] == t->eos)
		n--;
	for (size_t i = 0; i < n; i++)
	{
		if (ids[i] < 0 || ids[i] >= t->n_vocab)
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "token id %d is outside the vocabulary (0..%d)",
								  ids[i], t->n_vocab - 1);
		piece_into(t, ids[i], (flags & PLLM_TOK_DECODE_SPECIAL) != 0, remove_space ? 1 : 0, b);
		remove_space = false;
	}
	if (b->oom)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory while detokenizing");
	if ((flags & PLLM_TOK_DECODE_CLEAN_SPACES) && t->clean_spaces)
		b->n = clean_spaces(b->p, b->n);
	return PLLM_OK;
}

pllm_status
pllm_tok_decode(const pllm_tokenizer *t, const int32_t *ids, size_t n, unsigned flags, char *buf, size_t cap,
				size_t *len, pllm_error *err)
{
	tok_buf     b = { 0 };
	pllm_status st;

	if (len)
		*len = 0;
	if (!t || !len || (!buf && cap))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "detokenize needs a tokenizer and an output");
	st = decode_buf(t, ids, n, flags, &b, err);
	if (st == PLLM_OK)
	{
		if (b.n)
			memcpy(buf, b.p, b.n < cap ? b.n : cap);
		*len = b.n;
		if (b.n > cap)
			st = pllm_error_set(err, PLLM_ERR_LIMIT, "decoded text has %zu bytes, more than the %zu allowed", b.n, cap);
	}
	free(b.p);
	return st;
}

pllm_status
pllm_tok_decode_alloc_flags(const pllm_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
							char **out, size_t *len, pllm_error *err)
{
	tok_buf     b = { 0 };
	pllm_status st;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!t || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "detokenize needs a tokenizer and an output");
	st = decode_buf(t, ids, n, flags, &b, err);
	if (st == PLLM_OK)
	{
		tok_buf_put(&b, "", 1);   /* the NUL */
		if (b.oom)
			st = pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory while detokenizing");
		else
		{
			*out = b.p;
			if (len)
				*len = b.n - 1;
			b.p = NULL;
		}
	}
	free(b.p);
	return st;
}

pllm_status
pllm_tok_decode_alloc(const pllm_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len,
					  pllm_error *err)
{
	return pllm_tok_decode_alloc_flags(t, ids, n, PLLM_TOK_DECODE_SPECIAL, out, len, err);
}

/* ---- opening files --------------------------------------------------------------- */

static pllm_status
open_hf(const char *path, const char *json, size_t len, pllm_tokenizer **out, pllm_error *err)
{
	const char      *slash = strrchr(path, '/');
	size_t           dir = slash ? (size_t) (slash - path) + 1 : 0;
	char            *cfg_path = malloc(dir + sizeof("tokenizer_config.json"));
	pllm_mapped_file cfg = { 0 };
	pllm_error       ignored;
	bool             have_cfg = false;
	pllm_status      st;

	if (!cfg_path)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory");
	memcpy(cfg_path, path, dir);
	strcpy(cfg_path + dir, "tokenizer_config.json");
	if (strcmp(cfg_path, path) != 0 && pllm_file_map(cfg_path, &cfg, &ignored) == PLLM_OK)
		have_cfg = true;
	free(cfg_path);
	st = pllm_tok_load_hf(json, len, have_cfg ? cfg.data : NULL, have_cfg ? cfg.size : 0, out, err);
	if (have_cfg)
		pllm_file_unmap(&cfg);
	return st;
}

pllm_status
pllm_tok_open_file(const char *path, pllm_tokenizer **out, pllm_error *err)
{
	pllm_mapped_file m = { 0 };
	pllm_status      st;

	if (out)
		*out = NULL;
	if (!path || !out)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "open tokenizer needs a path and an output");
	if ((st = pllm_file_map(path, &m, err)) != PLLM_OK)
		return st;
	if (m.size >= 4 && memcmp(m.data, "GGUF", 4) == 0)
	{
		pllm_gguf *g = NULL;

		st = pllm_gguf_parse(m.data, m.size, &g, err);
		if (st == PLLM_OK)
			st = pllm_tok_load_gguf(g, out, err);
		pllm_gguf_free(g);
	}
	else
		st = open_hf(path, m.data, m.size, out, err);
	pllm_file_unmap(&m);
	return st;
}

/* ---- information ----------------------------------------------------------------- */

int32_t       pllm_tok_n_vocab(const pllm_tokenizer *t) { return t ? t->n_vocab : 0; }
pllm_tok_type pllm_tok_type_of(const pllm_tokenizer *t) { return t->type; }
const char   *pllm_tok_pre_name(const pllm_tokenizer *t) { return t ? t->pre : ""; }
int32_t       pllm_tok_bos(const pllm_tokenizer *t) { return t ? t->bos : -1; }
int32_t       pllm_tok_eos(const pllm_tokenizer *t) { return t ? t->eos : -1; }
int32_t       pllm_tok_eot(const pllm_tokenizer *t) { return t ? t->eot : -1; }
int32_t       pllm_tok_unk(const pllm_tokenizer *t) { return t ? t->unk : -1; }
int32_t       pllm_tok_sep(const pllm_tokenizer *t) { return t ? t->sep : -1; }
int32_t       pllm_tok_pad(const pllm_tokenizer *t) { return t ? t->pad : -1; }
bool          pllm_tok_add_bos(const pllm_tokenizer *t) { return t && t->add_bos; }
bool          pllm_tok_add_eos(const pllm_tokenizer *t) { return t && t->add_eos; }

const char *
pllm_tok_type_name(const pllm_tokenizer *t)
{
	switch (t ? t->type : 0)
	{
		case PLLM_TOK_SPM: return "SPM";
		case PLLM_TOK_BPE: return "BPE";
		case PLLM_TOK_WPM: return "WPM";
		default: return "unknown";
	}
}

bool
pllm_tok_is_eog(const pllm_tokenizer *t, int32_t id)
{
	return t && id >= 0 && id < t->n_vocab && (t->attr[id] & TOK_ATTR_EOG);
}

bool
pllm_tok_is_control(const pllm_tokenizer *t, int32_t id)
{
	return t && id >= 0 && id < t->n_vocab && (t->attr[id] & PLLM_TOK_ATTR_CONTROL);
}

uint32_t
pllm_tok_attr(const pllm_tokenizer *t, int32_t id)
{
	return (t && id >= 0 && id < t->n_vocab) ? (t->attr[id] & 0xffffu) : 0;
}

float
pllm_tok_score(const pllm_tokenizer *t, int32_t id)
{
	return (t && id >= 0 && id < t->n_vocab) ? t->scores[id] : 0.0f;
}

const char *
pllm_tok_text(const pllm_tokenizer *t, int32_t id, size_t *len)
{
	if (!t || id < 0 || id >= t->n_vocab)
		return NULL;
	if (len)
		*len = t->tokens.len[id];
	return tok_strtab_str(&t->tokens, (uint32_t) id);
}

int32_t
pllm_tok_find(const pllm_tokenizer *t, const char *text, size_t len)
{
	return (t && (text || !len)) ? tok_find(t, text ? text : "", len) : -1;
}
