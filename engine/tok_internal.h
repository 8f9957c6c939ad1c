/*
 * tok_internal.h -- what the tokenizer files share: the vocabulary (string
 * table + hash index), the pre-tokenizer stages, Unicode helpers and a growable
 * id vector. Nothing here is visible outside engine/tok_*.c.
 */
#ifndef PG_LLM_TOK_INTERNAL_H
#define PG_LLM_TOK_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "pg_llm/tokenizer.h"

/* Internal attribute bit: the token ends generation. */
#define TOK_ATTR_EOG (1u << 16)

/* ---- string table with a hash index ---------------------------------------- */

typedef struct tok_strtab
{
	char     *data;     /* every string, NUL-terminated */
	size_t    used, cap;
	uint64_t *off;      /* per entry */
	uint32_t *len;
	uint32_t  count, max;
	uint32_t *slots;    /* open addressing: entry + 1, 0 = empty */
	uint32_t  mask;
} tok_strtab;

/* Append an entry (no index update); returns its number or -1 on NOMEM. */
int64_t tok_strtab_add(tok_strtab *t, const char *s, size_t n);
/* Build the index. dup_out (may be NULL) gets the first duplicate entry's
 * number, or -1; of equal strings the first stays findable. */
bool    tok_strtab_index(tok_strtab *t, int64_t *dup_out);
int64_t tok_strtab_find(const tok_strtab *t, const char *s, size_t n);
void    tok_strtab_free(tok_strtab *t);

static inline const char *
tok_strtab_str(const tok_strtab *t, uint32_t i)
{
	return t->data + t->off[i];
}

/* ---- growable vectors ------------------------------------------------------- */

typedef struct tok_ids
{
	int32_t *v;
	size_t   n, cap;
	bool     oom;
} tok_ids;

void tok_ids_push(tok_ids *a, int32_t id);

typedef struct tok_buf
{
	char  *p;
	size_t n, cap;
	bool   oom;
} tok_buf;

void tok_buf_put(tok_buf *b, const void *s, size_t n);

/* ---- Unicode ----------------------------------------------------------------- */

#define TOK_CPT_LETTER     (1u << 0)
#define TOK_CPT_NUMBER     (1u << 1)
#define TOK_CPT_PUNCT      (1u << 2)
#define TOK_CPT_SYMBOL     (1u << 3)
#define TOK_CPT_MARK       (1u << 4)
#define TOK_CPT_SEPARATOR  (1u << 5)
#define TOK_CPT_CONTROL    (1u << 6)
#define TOK_CPT_WHITESPACE (1u << 7)

/* Bytes of the UTF-8 sequence a lead byte announces (llama.cpp's table: 1 for
 * continuation bytes). */
size_t   tok_utf8_len(unsigned char c);
/* Decode like llama.cpp: an invalid sequence becomes U+FFFD and consumes one
 * byte. *cpts is malloc'd; byte offsets of each code point go to *offs when
 * offs is not NULL (n+1 entries). Returns false on NOMEM. */
bool     tok_cpts_from_utf8(const char *s, size_t n, uint32_t **cpts, size_t **offs, size_t *n_cpts);
/* Encode one code point (invalid ones as U+FFFD); returns bytes written (1..4). */
size_t   tok_cpt_to_utf8(uint32_t cpt, char *out);
uint32_t tok_cpt_flags(uint32_t cpt);
uint32_t tok_cpt_tolower(uint32_t cpt);
/* First code point of the canonical decomposition (llama.cpp's "nfd" table). */
uint32_t tok_cpt_nfd_first(uint32_t cpt);
/* GPT-2 byte-level mapping: byte -> code point, and back (-1 if not a byte char). */
uint32_t tok_byte_to_cpt(uint8_t b);
int      tok_cpt_to_byte(uint32_t cpt);

/* ---- pre-tokenizer ---------------------------------------------------------- */

typedef enum tok_stage_kind
{
	TOK_STAGE_GPT2,       /* llama.cpp's hand-written GPT-2 splitter */
	TOK_STAGE_LLAMA3,     /* llama.cpp's hand-written Llama 3 splitter */
	TOK_STAGE_COLLAPSED,  /* regex with \p{..}: on the category-collapsed bytes */
	TOK_STAGE_WIDE,       /* regex without \p{..}: on code points (UTF mode) */
	TOK_STAGE_UCP         /* any HF regex, PCRE2 UTF+UCP on the text itself */
} tok_stage_kind;

typedef struct tok_stage
{
	tok_stage_kind kind;
	void          *code;  /* pcre2_code_8 * */
} tok_stage;

typedef struct tok_pretok
{
	int        n_stages;
	tok_stage  stages[8];
} tok_pretok;

/* Pre-tokenizer presets, named as tokenizer.ggml.pre values. */
typedef struct tok_pre_preset
{
	const char *names;         /* '|'-separated names mapping to this preset */
	const char *canonical;
	bool        clean_spaces;
	bool        ignore_merges;
	bool        add_bos;
} tok_pre_preset;

const tok_pre_preset *tok_pre_lookup(const char *name, size_t len);
pllm_status tok_pretok_build(tok_pretok *p, const char *canonical, pllm_error *err);
/* One HF "Split" regex, run with full Unicode semantics. */
pllm_status tok_pretok_add_regex(tok_pretok *p, const char *regex, pllm_error *err);
void        tok_pretok_free(tok_pretok *p);
/* Split cpts[0..n) into words; lens (malloc'd, in code points). */
bool        tok_pretok_split(const tok_pretok *p, const uint32_t *cpts, size_t n, size_t **lens, size_t *n_lens);

/* ---- the tokenizer ------------------------------------------------------------ */

struct pllm_tokenizer
{
	pllm_tok_type type;
	char          pre[48];
	int32_t       n_vocab;
	tok_strtab    tokens;     /* entry i = token id i */
	float        *scores;
	uint32_t     *attr;
	tok_strtab    merges;     /* entry i = "left right", rank i */
	int32_t      *special;    /* control/user-defined/unknown ids, longest text first */
	size_t        n_special;
	int32_t       bos, eos, eot, eom, unk, sep, pad, mask;
	bool          add_bos, add_eos, add_sep;
	bool          add_space_prefix;
	bool          clean_spaces;
	bool          ignore_merges;
	bool          lowercase, strip_accents;  /* WPM */
	bool          nfc;                       /* HF normalizer NFC */
	int           max_token_len;
	tok_pretok    pretok;
};

/* Allocate an empty tokenizer (ids -1). */
pllm_tokenizer *tok_new(void);
/* After tokens/attrs/ids are set: auto-detect EOT/EOG/FIM like llama.cpp, mark
 * phi-3 strip attributes, build the special-token cache. */
pllm_status     tok_finalize(pllm_tokenizer *t, const char *model_name, pllm_error *err);
/* Look up a token by text; -1 when absent. */
static inline int32_t
tok_find(const pllm_tokenizer *t, const char *s, size_t n)
{
	return (int32_t) tok_strtab_find(&t->tokens, s, n);
}

/* Algorithms: append the ids of one raw text fragment to out. */
void tok_spm_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out);
void tok_bpe_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out);
void tok_wpm_encode(const pllm_tokenizer *t, const char *text, size_t n, tok_ids *out);

#endif
