/*
 * tok_pretok.c -- BPE pre-tokenizers: split text into words before merging,
 * stage by stage, exactly as llama.cpp's unicode_regex_split does. Each stage
 * splits every chunk left by the previous one into matches and the gaps
 * between them. llama.cpp runs GPT-2's and Llama 3's patterns with hand-written
 * code, regexes using \p{..} on a "collapsed" text (one byte per code point
 * standing for its category) and the others on code points with only ASCII \s;
 * we do the same, with PCRE2 in place of std::regex.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

/* ---- presets (llama.cpp's tokenizer.ggml.pre names) -------------------------- */

static const tok_pre_preset presets[] = {
	/* names                                                    canonical   clean  ignore add_bos */
	{ "default", "default", true, false, false },
	{ "llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano",
	  "llama3", true, true, true },
	{ "dbrx|smaug-bpe|glm4|chatglm-bpe", "dbrx", true, false, false },
	{ "deepseek-llm", "deepseek-llm", false, false, false },
	{ "deepseek-coder", "deepseek-coder", false, false, false },
	{ "deepseek-v3", "deepseek-v3", false, false, false },
	{ "gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|mpt|olmo|exaone4|jina-v1-en|jina-v2-code|roberta-bpe",
	  "gpt-2", true, false, false },
	{ "qwen2|deepseek-r1-qwen|kormo|f2llmv2", "qwen2", false, false, false },
	{ "megrez|stablelm2", "qwen2", true, false, false },
	{ "starcoder|refact|codeshell|exaone|minerva-7b|mellum2", "starcoder", true, false, false },
	{ "command-r|smollm", "starcoder", false, false, false },
	{ "falcon", "falcon", true, false, false },
};

const tok_pre_preset *
tok_pre_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
	{
		const char *p = presets[i].names;

		while (*p)
		{
			const char *e = strchr(p, '|');
			size_t      n = e ? (size_t) (e - p) : strlen(p);

			if (n == len && memcmp(p, name, n) == 0)
				return &presets[i];
			p += n + (e ? 1 : 0);
		}
	}
	return NULL;
}

/* ---- stage construction ------------------------------------------------------- */

/* The GPT-2 pattern llama.cpp recognises and runs with custom code. */
#define RX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RX_QWEN2 "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* Cased letters: deepseek-llm's explicit class (written with code points). */
#define RX_DS_CASED \
	"A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}" \
	"\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}" \
	"\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}" \
	"\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}" \
	"\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}" \
	"\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}" \
	"\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}" \
	"\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}" \
	"\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}" \
	"\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}" \
	"\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}" \
	"\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}" \
	"\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}"
/* CJK runs of deepseek: 一-龥, ࠀ-一, 가-퟿ */
#define RX_DS_CJK "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+"

/*
 * Rewrite a \p{..} regex for the collapsed text: each category becomes its
 * marker byte plus the ASCII members, as llama.cpp's unicode_regex_split does.
 */
static char *
collapse_regex(const char *rx)
{
	static const struct { const char *p; const char *repl; } cats[] = {
		{ "\\p{N}", "\xD1" "0-9" },
		{ "\\p{L}", "\xD2" "A-Za-z" },
		{ "\\p{P}", "\xD3" "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}" },
		{ "\\p{M}", "\xD4" },
		{ "\\p{S}", "\xD5" "\\$\\+<->^`\\|" },
		{ "\\p{Lu}", "\xD2" "A-Za-z" }, { "\\p{Ll}", "\xD2" "A-Za-z" }, { "\\p{Lt}", "\xD2" "A-Za-z" },
		{ "\\p{Lm}", "\xD2" "A-Za-z" }, { "\\p{Lo}", "\xD2" "A-Za-z" },
	};
	size_t n = strlen(rx);
	char  *out = malloc(n * 8 + 1), *o = out;
	bool   inside = false;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		bool done = false;

		if (rx[i] == '[' && (i == 0 || rx[i - 1] != '\\'))
		{
			*o++ = '[';
			inside = true;
			continue;
		}
		if (inside && rx[i] == ']' && rx[i - 1] != '\\')
		{
			*o++ = ']';
			inside = false;
			continue;
		}
		for (size_t c = 0; c < sizeof(cats) / sizeof(cats[0]) && !done; c++)
		{
			size_t l = strlen(cats[c].p);

			if (strncmp(rx + i, cats[c].p, l) == 0)
			{
				if (!inside)
					*o++ = '[';
				o += strlen(strcpy(o, cats[c].repl));
				if (!inside)
					*o++ = ']';
				i += l - 1;
				done = true;
			}
		}
		if (!done)
			*o++ = rx[i];
	}
	*o = '\0';
	return out;
}

static pllm_status
add_stage(tok_pretok *p, tok_stage_kind kind, const char *rx, pllm_error *err)
{
	tok_stage *s;

	if (p->n_stages >= (int) (sizeof(p->stages) / sizeof(p->stages[0])))
		return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "too many pre-tokenizer stages");
	s = &p->stages[p->n_stages];
	s->kind = kind;
	s->code = NULL;
	if (kind == TOK_STAGE_COLLAPSED || kind == TOK_STAGE_WIDE || kind == TOK_STAGE_UCP)
	{
		uint32_t    opts = PCRE2_DOLLAR_ENDONLY;
		char       *pat = NULL;
		int         ec = 0;
		PCRE2_SIZE  eo = 0;
		pcre2_code *code;

		if (kind == TOK_STAGE_COLLAPSED)
		{
			pat = collapse_regex(rx);
			if (!pat)
				return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a regex");
		}
		else
			opts |= PCRE2_UTF | (kind == TOK_STAGE_UCP ? PCRE2_UCP : 0);
		code = pcre2_compile((PCRE2_SPTR) (pat ? pat : rx), PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
		free(pat);
		if (!code)
		{
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			return pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "pre-tokenizer regex at offset %zu: %s",
								  (size_t) eo, (const char *) msg);
		}
		(void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* optional speed-up */
		s->code = code;
	}
	p->n_stages++;
	return PLLM_OK;
}

pllm_status
tok_pretok_build(tok_pretok *p, const char *c, pllm_error *err)
{
	pllm_status st = PLLM_OK;

#define STAGE(kind, rx) do { if (st == PLLM_OK) st = add_stage(p, kind, rx, err); } while (0)
	if (strcmp(c, "gpt-2") == 0)
		STAGE(TOK_STAGE_GPT2, NULL);
	else if (strcmp(c, "llama3") == 0 || strcmp(c, "dbrx") == 0)
		STAGE(TOK_STAGE_LLAMA3, NULL);
	else if (strcmp(c, "qwen2") == 0)
		STAGE(TOK_STAGE_COLLAPSED, RX_QWEN2);
	else if (strcmp(c, "deepseek-llm") == 0)
	{
		STAGE(TOK_STAGE_WIDE, "[\\r\\n]");
		STAGE(TOK_STAGE_WIDE, "\\s?[" RX_DS_CASED "]+");
		STAGE(TOK_STAGE_WIDE, "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+");
		STAGE(TOK_STAGE_WIDE, "\\s+$");
		STAGE(TOK_STAGE_WIDE, RX_DS_CJK);
		STAGE(TOK_STAGE_COLLAPSED, "\\p{N}+");
	}
	else if (strcmp(c, "deepseek-coder") == 0)
	{
		STAGE(TOK_STAGE_WIDE, "[\\r\\n]");
		STAGE(TOK_STAGE_COLLAPSED, "\\s?\\p{L}+");
		STAGE(TOK_STAGE_COLLAPSED, "\\s?\\p{P}+");
		STAGE(TOK_STAGE_WIDE, RX_DS_CJK);
		STAGE(TOK_STAGE_COLLAPSED, "\\p{N}");
	}
	else if (strcmp(c, "deepseek-v3") == 0)
	{
		STAGE(TOK_STAGE_COLLAPSED, "\\p{N}{1,3}");
		STAGE(TOK_STAGE_WIDE, "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+");
		STAGE(TOK_STAGE_COLLAPSED,
			  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+");
	}
	else if (strcmp(c, "starcoder") == 0)
	{
		STAGE(TOK_STAGE_COLLAPSED, "\\p{N}");
		STAGE(TOK_STAGE_GPT2, NULL);
	}
	else if (strcmp(c, "falcon") == 0)
	{
		STAGE(TOK_STAGE_COLLAPSED, "[\\p{P}\\$\\+<=>\\^~\\|`]+");
		STAGE(TOK_STAGE_GPT2, NULL);
		STAGE(TOK_STAGE_WIDE, "[0-9][0-9][0-9]");
	}
	else if (strcmp(c, "default") == 0)
	{
		STAGE(TOK_STAGE_COLLAPSED, "[\\p{P}\\$\\+<=>\\^~\\|]+");
		STAGE(TOK_STAGE_GPT2, NULL);
		STAGE(TOK_STAGE_COLLAPSED, "\\p{N}+");
		STAGE(TOK_STAGE_WIDE, "[0-9][0-9][0-9]");
	}
	else
		st = pllm_error_set(err, PLLM_ERR_UNSUPPORTED, "unknown pre-tokenizer type: '%s'", c);
#undef STAGE
	return st;
}

pllm_status
tok_pretok_add_regex(tok_pretok *p, const char *regex, pllm_error *err)
{
	return add_stage(p, TOK_STAGE_UCP, regex, err);
}

void
tok_pretok_free(tok_pretok *p)
{
	for (int i = 0; i < p->n_stages; i++)
		if (p->stages[i].code)
			pcre2_code_free((pcre2_code *) p->stages[i].code);
	p->n_stages = 0;
}

/* ---- splitting ------------------------------------------------------------------- */

typedef struct lens_vec
{
	size_t *v;
	size_t  n, cap;
	bool    oom;
} lens_vec;

static void
lens_push(lens_vec *a, size_t len)
{
	if (len == 0 || a->oom)
		return;
	if (a->n == a->cap)
	{
		size_t  c = a->cap ? a->cap * 2 : 64;
		size_t *v = realloc(a->v, c * sizeof(size_t));

		if (!v)
		{
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = c;
	}
	a->v[a->n++] = len;
}

#define OUT_OF_RANGE 0xFFFFFFFFu

typedef struct chunk
{
	const uint32_t *cpts;
	size_t          ini, end;   /* [ini, end) */
} chunk;

static inline uint32_t
ch_cpt(const chunk *c, size_t pos)
{
	return (pos >= c->ini && pos < c->end) ? c->cpts[pos] : OUT_OF_RANGE;
}

static inline uint32_t
ch_flags(const chunk *c, size_t pos)
{
	return (pos >= c->ini && pos < c->end) ? tok_cpt_flags(c->cpts[pos]) : 0;
}

#define F_WLN (TOK_CPT_WHITESPACE | TOK_CPT_LETTER | TOK_CPT_NUMBER)

/* llama.cpp's unicode_regex_split_custom_gpt2 over one chunk. */
static void
split_gpt2(const chunk *c, lens_vec *out)
{
	size_t prev = c->ini;

#define ADD(end) (lens_push(out, (end) - prev), prev = (end))
	for (size_t pos = c->ini; pos < c->end;)
	{
		uint32_t cpt = ch_cpt(c, pos), flags = ch_flags(c, pos), f2;
		size_t   nws = 0;

		if (cpt == '\'' && pos + 1 < c->end)
		{
			uint32_t nx = ch_cpt(c, pos + 1);

			if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd')
			{
				ADD(pos + 2);
				pos += 2;
				continue;
			}
			if (pos + 2 < c->end)
			{
				uint32_t nn = ch_cpt(c, pos + 2);

				if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l'))
				{
					ADD(pos + 3);
					pos += 3;
					continue;
				}
			}
		}
		f2 = cpt == ' ' ? ch_flags(c, pos + 1) : flags;
		if (f2 & TOK_CPT_LETTER)
		{
			pos += cpt == ' ';
			while (f2 & TOK_CPT_LETTER)
				f2 = ch_flags(c, ++pos);
			ADD(pos);
			continue;
		}
		if (f2 & TOK_CPT_NUMBER)
		{
			pos += cpt == ' ';
			while (f2 & TOK_CPT_NUMBER)
				f2 = ch_flags(c, ++pos);
			ADD(pos);
			continue;
		}
		if (!(f2 & F_WLN) && f2)
		{
			pos += cpt == ' ';
			while (!(f2 & F_WLN) && f2)
				f2 = ch_flags(c, ++pos);
			ADD(pos);
			continue;
		}
		while (ch_flags(c, pos + nws) & TOK_CPT_WHITESPACE)
			nws++;
		if (nws > 1 && ch_cpt(c, pos + nws) != OUT_OF_RANGE)
		{
			pos += nws - 1;
			ADD(pos);
			continue;
		}
		if (nws > 0)
		{
			pos += nws;
			ADD(pos);
			continue;
		}
		pos++;
		ADD(pos);
	}
#undef ADD
}

/* llama.cpp's unicode_regex_split_custom_llama3 over one chunk. */
static void
split_llama3(const chunk *c, lens_vec *out)
{
	size_t prev = c->ini;

#define ADD(end) (lens_push(out, (end) - prev), prev = (end))
	for (size_t pos = c->ini; pos < c->end;)
	{
		uint32_t cpt = ch_cpt(c, pos), flags = ch_flags(c, pos), f2;
		size_t   nws = 0, last_rn = 0;

		if (cpt == '\'' && pos + 1 < c->end)
		{
			uint32_t nx = tok_cpt_tolower(ch_cpt(c, pos + 1));

			if (nx == 's' || nx == 't' || nx == 'm' || nx == 'd')
			{
				ADD(pos + 2);
				pos += 2;
				continue;
			}
			if (pos + 2 < c->end)
			{
				uint32_t nn = tok_cpt_tolower(ch_cpt(c, pos + 2));

				if ((nx == 'r' && nn == 'e') || (nx == 'v' && nn == 'e') || (nx == 'l' && nn == 'l'))
				{
					ADD(pos + 3);
					pos += 3;
					continue;
				}
			}
		}
		/* [^\r\n\p{L}\p{N}]?\p{L}+ */
		if (!(cpt == '\r' || cpt == '\n' || (flags & TOK_CPT_NUMBER)))
		{
			if ((flags & TOK_CPT_LETTER) || (ch_flags(c, pos + 1) & TOK_CPT_LETTER))
			{
				pos++;
				while (ch_flags(c, pos) & TOK_CPT_LETTER)
					pos++;
				ADD(pos);
				continue;
			}
		}
		/* \p{N}{1,3} */
		if (flags & TOK_CPT_NUMBER)
		{
			size_t ini = pos;

			while (ch_flags(c, pos) & TOK_CPT_NUMBER)
			{
				if (++pos - ini >= 3)
				{
					ADD(pos);
					ini = pos;
				}
			}
			ADD(pos);
			continue;
		}
		/* <space>?[^\s\p{L}\p{N}]+[\r\n]* */
		f2 = cpt == ' ' ? ch_flags(c, pos + 1) : flags;
		if (!(f2 & F_WLN) && flags)
		{
			uint32_t c2;

			pos += cpt == ' ';
			while (!(f2 & F_WLN) && f2)
				f2 = ch_flags(c, ++pos);
			c2 = ch_cpt(c, pos);
			while (c2 == '\r' || c2 == '\n')
				c2 = ch_cpt(c, ++pos);
			ADD(pos);
			continue;
		}
		while (ch_flags(c, pos + nws) & TOK_CPT_WHITESPACE)
		{
			uint32_t c2 = ch_cpt(c, pos + nws);

			if (c2 == '\r' || c2 == '\n')
				last_rn = pos + nws + 1;
			nws++;
		}
		if (last_rn > 0)
		{
			pos = last_rn;
			ADD(pos);
			continue;
		}
		if (nws > 1 && ch_cpt(c, pos + nws) != OUT_OF_RANGE)
		{
			pos += nws - 1;
			ADD(pos);
			continue;
		}
		if (nws > 0)
		{
			pos += nws;
			ADD(pos);
			continue;
		}
		pos++;
		ADD(pos);
	}
#undef ADD
}

/*
 * Run a regex over each chunk of subject (byte string); b2c maps byte offsets
 * to code point indexes, c2b the reverse (both NULL when one byte per cpt).
 */
static bool
split_regex(const pcre2_code *code, const char *subject, const size_t *c2b, const size_t *b2c,
			const size_t *lens, size_t n_lens, lens_vec *out)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	size_t            start = 0;

	if (!md)
		return false;
	for (size_t k = 0; k < n_lens; k++)
	{
		size_t      b0 = c2b ? c2b[start] : start;
		size_t      b1 = c2b ? c2b[start + lens[k]] : start + lens[k];
		const char *s = subject + b0;
		size_t      n = b1 - b0, off = 0, prev = 0;

		while (off <= n)
		{
			int         rc = pcre2_match(code, (PCRE2_SPTR) s, n, off, PCRE2_NO_UTF_CHECK, md, NULL);
			PCRE2_SIZE *ov;
			size_t      ms, me;

			if (rc < 0)
				break;
			ov = pcre2_get_ovector_pointer(md);
			ms = ov[0];
			me = ov[1];
			if (me == ms)
			{
				/* empty match: step one character and go on */
				off = me + 1;
				while (c2b && off < n && (((unsigned char) s[off]) & 0xc0) == 0x80)
					off++;
				continue;
			}
			if (ms > prev)
				lens_push(out, b2c ? b2c[b0 + ms] - b2c[b0 + prev] : ms - prev);
			lens_push(out, b2c ? b2c[b0 + me] - b2c[b0 + ms] : me - ms);
			prev = off = me;
		}
		if (prev < n)
			lens_push(out, b2c ? b2c[b0 + n] - b2c[b0 + prev] : n - prev);
		start += lens[k];
	}
	pcre2_match_data_free(md);
	return true;
}

/* One byte per code point: ASCII as is, others by class (llama.cpp's collapse). */
static char *
collapse_text(const uint32_t *cpts, size_t n)
{
	char *t = malloc(n + 1);

	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		uint32_t f;

		if (cpts[i] < 128)
		{
			t[i] = (char) cpts[i];
			continue;
		}
		f = tok_cpt_flags(cpts[i]);
		if (f & TOK_CPT_WHITESPACE)
			t[i] = 0x0B;
		else if (f & TOK_CPT_NUMBER)
			t[i] = (char) 0xD1;
		else if (f & TOK_CPT_LETTER)
			t[i] = (char) 0xD2;
		else if (f & TOK_CPT_PUNCT)
			t[i] = (char) 0xD3;
		else if (f & TOK_CPT_MARK)
			t[i] = (char) 0xD4;
		else if (f & TOK_CPT_SYMBOL)
			t[i] = (char) 0xD5;
		else
			t[i] = (char) 0xD0;
	}
	t[n] = '\0';
	return t;
}

/* Valid UTF-8 of the code points; with ws_fold non-ASCII whitespace becomes \v. */
static char *
utf8_text(const uint32_t *cpts, size_t n, bool ws_fold, size_t **c2b_out, size_t **b2c_out)
{
	char   *t = malloc(n * 4 + 1);
	size_t *c2b = malloc((n + 1) * sizeof(size_t));
	size_t *b2c = malloc((n * 4 + 1) * sizeof(size_t));
	size_t  b = 0;

	if (!t || !c2b || !b2c)
	{
		free(t);
		free(c2b);
		free(b2c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
	{
		uint32_t c = cpts[i];
		size_t   l;

		if (c >= 0xD800 && c <= 0xDFFF)
			c = 0xFFFD;
		if (ws_fold && c > 0x7f && (tok_cpt_flags(c) & TOK_CPT_WHITESPACE))
			c = 0x0B;
		c2b[i] = b;
		l = tok_cpt_to_utf8(c, t + b);
		for (size_t j = 0; j < l; j++)
			b2c[b + j] = i;
		b += l;
	}
	c2b[n] = b;
	b2c[b] = n;
	t[b] = '\0';
	*c2b_out = c2b;
	*b2c_out = b2c;
	return t;
}

bool
tok_pretok_split(const tok_pretok *p, const uint32_t *cpts, size_t n, size_t **lens_out, size_t *n_lens)
{
	lens_vec cur = { 0 };
	char    *collapsed = NULL, *wide = NULL, *ucp = NULL;
	size_t  *wc2b = NULL, *wb2c = NULL, *uc2b = NULL, *ub2c = NULL;
	bool     ok = true;

	lens_push(&cur, n);
	for (int si = 0; si < p->n_stages && ok && !cur.oom; si++)
	{
		const tok_stage *s = &p->stages[si];
		lens_vec         next = { 0 };
		size_t           start = 0;

		switch (s->kind)
		{
			case TOK_STAGE_GPT2:
			case TOK_STAGE_LLAMA3:
				for (size_t k = 0; k < cur.n; k++)
				{
					chunk c = { cpts, start, start + cur.v[k] };

					if (s->kind == TOK_STAGE_GPT2)
						split_gpt2(&c, &next);
					else
						split_llama3(&c, &next);
					start += cur.v[k];
				}
				break;
			case TOK_STAGE_COLLAPSED:
				if (!collapsed && !(collapsed = collapse_text(cpts, n)))
					ok = false;
				else
					ok = split_regex(s->code, collapsed, NULL, NULL, cur.v, cur.n, &next);
				break;
			case TOK_STAGE_WIDE:
				if (!wide && !(wide = utf8_text(cpts, n, true, &wc2b, &wb2c)))
					ok = false;
				else
					ok = split_regex(s->code, wide, wc2b, wb2c, cur.v, cur.n, &next);
				break;
			case TOK_STAGE_UCP:
				if (!ucp && !(ucp = utf8_text(cpts, n, false, &uc2b, &ub2c)))
					ok = false;
				else
					ok = split_regex(s->code, ucp, uc2b, ub2c, cur.v, cur.n, &next);
				break;
		}
		free(cur.v);
		cur = next;
	}
	free(collapsed);
	free(wide);
	free(wc2b);
	free(wb2c);
	free(ucp);
	free(uc2b);
	free(ub2c);
	if (!ok || cur.oom)
	{
		free(cur.v);
		return false;
	}
	*lens_out = cur.v;
	*n_lens = cur.n;
	return true;
}
