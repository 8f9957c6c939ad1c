/*
 * tokenizer.h -- text <-> token ids, reproducing llama.cpp's tokenizers: SPM
 * (sentencepiece-style, tokenizer.ggml.model = llama), byte-level BPE (gpt2) and
 * WordPiece (bert). Loaded from GGUF metadata or a Hugging Face tokenizer.json.
 *
 * A loaded tokenizer owns a private copy of its vocabulary (it keeps no pointer
 * into the GGUF buffer) and is immutable: encode/decode/piece on a const
 * tokenizer may run concurrently from several threads (scratch is per call).
 */
#ifndef PG_LLM_TOKENIZER_H
#define PG_LLM_TOKENIZER_H

#include "pg_llm/pllm.h"
#include "pg_llm/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pllm_tokenizer pllm_tokenizer;

typedef enum pllm_tok_type
{
	PLLM_TOK_SPM = 1,   /* tokenizer.ggml.model = "llama" */
	PLLM_TOK_BPE = 2,   /* "gpt2": byte-level BPE */
	PLLM_TOK_WPM = 3    /* "bert": WordPiece */
} pllm_tok_type;

/* Token attributes (llama.cpp's llama_token_attr bits). */
#define PLLM_TOK_ATTR_UNDEFINED    0u
#define PLLM_TOK_ATTR_UNKNOWN      (1u << 0)
#define PLLM_TOK_ATTR_UNUSED       (1u << 1)
#define PLLM_TOK_ATTR_NORMAL       (1u << 2)
#define PLLM_TOK_ATTR_CONTROL      (1u << 3)
#define PLLM_TOK_ATTR_USER_DEFINED (1u << 4)
#define PLLM_TOK_ATTR_BYTE         (1u << 5)
#define PLLM_TOK_ATTR_LSTRIP       (1u << 7)
#define PLLM_TOK_ATTR_RSTRIP       (1u << 8)

/* ---- loading ------------------------------------------------------------ */

/*
 * Build a tokenizer from the tokenizer.ggml.* keys of a parsed GGUF. Missing or
 * mistyped required keys give PLLM_ERR_FORMAT; an unknown tokenizer model or
 * pre-tokenizer name gives PLLM_ERR_UNSUPPORTED (as llama.cpp refuses them).
 */
pllm_status pllm_tok_load_gguf(const pllm_gguf *g, pllm_tokenizer **out, pllm_error *err);

/*
 * Build a tokenizer from a Hugging Face tokenizer.json (model.type BPE, byte
 * level). config (may be NULL) is the matching tokenizer_config.json: it gives
 * bos/eos tokens, add_bos_token/add_eos_token and clean_up_tokenization_spaces.
 */
pllm_status pllm_tok_load_hf_json(const char *json, size_t len, pllm_tokenizer **out, pllm_error *err);
pllm_status pllm_tok_load_hf(const char *json, size_t len, const char *config, size_t config_len,
							 pllm_tokenizer **out, pllm_error *err);

/*
 * Open a file that is either a GGUF model/vocab (by its magic) or a
 * tokenizer.json; for the latter a tokenizer_config.json in the same directory
 * is read too when present.
 */
pllm_status pllm_tok_open_file(const char *path, pllm_tokenizer **out, pllm_error *err);

void        pllm_tok_free(pllm_tokenizer *tok);

/* ---- encoding ------------------------------------------------------------ */

/*
 * An upper bound on the number of ids pllm_tok_encode can produce for len bytes
 * of text, whatever the tokenizer and flags (4*len + 8). Typical text needs
 * about len/4 ids; callers that size ids smaller get PLLM_ERR_LIMIT.
 */
size_t      pllm_tok_max_tokens(size_t len);

/*
 * Tokenize text[0..len) as llama.cpp's llama_tokenize does:
 *   add_special:   add BOS/EOS as the vocab asks (SPM/BPE), [CLS] .. [SEP] (WPM)
 *   parse_special: text equal to a control token's text becomes that token
 *                  (user-defined tokens are always split out, like llama.cpp)
 * Writes at most cap ids. If more are needed returns PLLM_ERR_LIMIT with *n_out
 * set to the number needed (ids then holds the first cap ids).
 */
pllm_status pllm_tok_encode(const pllm_tokenizer *tok, const char *text, size_t len,
							bool add_special, bool parse_special,
							int32_t *ids, size_t cap, size_t *n_out, pllm_error *err);

/* ---- decoding ------------------------------------------------------------ */

/*
 * The bytes one token stands for (llama.cpp's token_to_piece with lstrip 0):
 * SPM/WPM "▁" -> space, <0xNN> -> the byte, BPE byte-level chars -> bytes.
 * Control/unknown tokens give "" unless special is true (then their text).
 * Copies min(length, cap) bytes to buf and sets *len to the full length
 * (like snprintf, no NUL added). Invalid ids give PLLM_ERR_INVALID_ARG.
 */
pllm_status pllm_tok_piece(const pllm_tokenizer *tok, int32_t id, bool special,
						   char *buf, size_t cap, size_t *len, pllm_error *err);

/* Flags of pllm_tok_decode. */
#define PLLM_TOK_DECODE_SPECIAL      1u  /* render control tokens' text (unparse_special) */
#define PLLM_TOK_DECODE_SKIP_BOS_EOS 2u  /* drop a leading BOS / trailing EOS the vocab adds (remove_special) */
#define PLLM_TOK_DECODE_CLEAN_SPACES 4u  /* apply llama.cpp's clean_spaces pass when the vocab asks for it */
#define PLLM_TOK_DECODE_STRIP_PREFIX 8u  /* with SKIP_BOS_EOS: also drop the dummy-prefix space after BOS */
/* Exact inverse of encode with add_special: drop the BOS/EOS and the dummy-prefix space it added. */
#define PLLM_TOK_DECODE_INVERSE \
	(PLLM_TOK_DECODE_STRIP_PREFIX | PLLM_TOK_DECODE_SKIP_BOS_EOS | PLLM_TOK_DECODE_SPECIAL)

/*
 * Concatenate the pieces of ids[0..n) as llama.cpp's llama_detokenize does; the
 * first token of an SPM vocab with add_space_prefix loses one leading space.
 * Without PLLM_TOK_DECODE_CLEAN_SPACES the result is the exact inverse of
 * encode for valid UTF-8 text (SPM/BPE). Writes at most cap bytes (no NUL);
 * returns PLLM_ERR_LIMIT with *len = bytes needed when cap is too small.
 */
pllm_status pllm_tok_decode(const pllm_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags,
							char *buf, size_t cap, size_t *len, pllm_error *err);

/* Same with flags = PLLM_TOK_DECODE_SPECIAL into malloc'd, NUL-terminated memory. */
pllm_status pllm_tok_decode_alloc(const pllm_tokenizer *tok, const int32_t *ids, size_t n,
								  char **out, size_t *len, pllm_error *err);
/* The same with explicit flags (detokenize uses PLLM_TOK_DECODE_INVERSE). */
pllm_status pllm_tok_decode_alloc_flags(const pllm_tokenizer *tok, const int32_t *ids, size_t n,
										unsigned flags, char **out, size_t *len, pllm_error *err);

/* ---- information ----------------------------------------------------------- */

int32_t       pllm_tok_n_vocab(const pllm_tokenizer *tok);
pllm_tok_type pllm_tok_type_of(const pllm_tokenizer *tok);
/* "SPM", "BPE", "WPM". */
const char   *pllm_tok_type_name(const pllm_tokenizer *tok);
/* The pre-tokenizer name (tokenizer.ggml.pre, or the one an HF file maps to). */
const char   *pllm_tok_pre_name(const pllm_tokenizer *tok);

/* Special ids, -1 when the vocab has none. */
int32_t pllm_tok_bos(const pllm_tokenizer *tok);
int32_t pllm_tok_eos(const pllm_tokenizer *tok);
int32_t pllm_tok_eot(const pllm_tokenizer *tok);
int32_t pllm_tok_unk(const pllm_tokenizer *tok);
int32_t pllm_tok_sep(const pllm_tokenizer *tok);
int32_t pllm_tok_pad(const pllm_tokenizer *tok);
bool    pllm_tok_add_bos(const pllm_tokenizer *tok);
bool    pllm_tok_add_eos(const pllm_tokenizer *tok);

/* End of generation: EOS, EOT, <|im_end|>, <|eot_id|>, ... as llama.cpp marks them. */
bool     pllm_tok_is_eog(const pllm_tokenizer *tok, int32_t id);
bool     pllm_tok_is_control(const pllm_tokenizer *tok, int32_t id);
uint32_t pllm_tok_attr(const pllm_tokenizer *tok, int32_t id);
float    pllm_tok_score(const pllm_tokenizer *tok, int32_t id);
/* The token's vocabulary text (NUL-terminated, owned by tok); NULL for a bad id. */
const char *pllm_tok_text(const pllm_tokenizer *tok, int32_t id, size_t *len);
/* The id whose vocabulary text is exactly text[0..len), or -1. */
int32_t     pllm_tok_find(const pllm_tokenizer *tok, const char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
