/*
 * test_tokenizer.c -- tokenizers against llama.cpp's test vectors (one RUN per
 * vocabulary: every string's ids must equal the .out line, and decoding must
 * give the text back), plus special tokens, BOS/EOS, buffer limits, end-of-
 * generation marks and corrupt metadata. Data: test/data/vocab (PROVENANCE.md).
 */
#include <pthread.h>

#include "pg_llm/gguf.h"
#include "pg_llm/tokenizer.h"
#include "gguf_builder.h"
#include "unit.h"

#define SEP "\n__ggml_vocab_test__\n"

/* ---- helpers ------------------------------------------------------------------- */

static pllm_tokenizer *
open_tok(const char *rel)
{
	pllm_tokenizer *tok = NULL;
	pllm_error      err = { 0 };

	if (pllm_tok_open_file(unit_data(rel), &tok, &err) != PLLM_OK)
	{
		CHECK(0, "open %s: %s", rel, err.msg);
		return NULL;
	}
	return tok;
}

static void
print_ids(const char *what, const int32_t *ids, size_t n)
{
	printf("#     %s:", what);
	for (size_t i = 0; i < n && i < 64; i++)
		printf(" %d", ids[i]);
	printf("\n");
}

static bool
encode(const pllm_tokenizer *tok, const char *s, size_t len, bool add, bool parse, int32_t **ids, size_t *n)
{
	size_t     cap = pllm_tok_max_tokens(len);
	pllm_error err = { 0 };

	*ids = malloc(cap * sizeof(int32_t));
	if (!*ids || pllm_tok_encode(tok, s, len, add, parse, *ids, cap, n, &err) != PLLM_OK)
	{
		CHECK(0, "encode failed: %s", err.msg);
		return false;
	}
	return true;
}

static char *
decode(const pllm_tokenizer *tok, const int32_t *ids, size_t n, unsigned flags, size_t *len)
{
	size_t     cap = 64, got = 0;
	pllm_error err = { 0 };
	char      *buf = malloc(cap);
	pllm_status st = pllm_tok_decode(tok, ids, n, flags, buf, cap, &got, &err);

	if (st == PLLM_ERR_LIMIT)
	{
		free(buf);
		cap = got;
		buf = malloc(cap + 1);
		st = pllm_tok_decode(tok, ids, n, flags, buf, cap, &got, &err);
	}
	CHECK(st == PLLM_OK, "decode failed: %s", err.msg);
	*len = got;
	return buf;
}

typedef enum roundtrip
{
	RT_EXACT,       /* decode(encode(s)) == s */
	RT_REENCODE     /* WordPiece: decode gives the normalised words; encoding it again gives the same ids */
} roundtrip;

/*
 * Check every string of inp against the matching line of out; print and
 * return how many strings passed.
 */
static void
run_vectors(const char *name, const pllm_tokenizer *tok, const char *inp_rel, const char *out_rel, roundtrip rt)
{
	size_t inp_len = 0, out_len = 0;
	char  *inp = unit_read_file(unit_data(inp_rel), &inp_len);
	char  *out = unit_read_file(unit_data(out_rel), &out_len);
	char  *s, *line;
	int    total = 0, pass = 0, rt_pass = 0;

	CHECK(inp && out, "cannot read %s / %s", inp_rel, out_rel);
	if (!inp || !out || !tok)
		goto done;
	s = inp;
	line = out;
	for (;;)
	{
		char    *end = strstr(s, SEP), *eol;
		int32_t *ids = NULL, want[1024];
		size_t   n = 0, n_want = 0, dlen = 0;
		char    *dec;
		bool     ok;

		if (!end)
			break;
		*end = '\0';
		eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		for (char *p = line; *p;)
		{
			char *q;
			long  v = strtol(p, &q, 10);

			if (q == p)
				break;
			if (n_want < 1024)
				want[n_want++] = (int32_t) v;
			p = q;
		}
		total++;
		if (!encode(tok, s, strlen(s), false, false, &ids, &n))
		{
			free(ids);
			break;
		}
		ok = n == n_want && memcmp(ids, want, n * sizeof(int32_t)) == 0;
		pass += ok;
		CHECK(ok, "%s: string %d \"%.60s\" differs", name, total, s);
		if (!ok)
		{
			print_ids("want", want, n_want);
			print_ids("got ", ids, n);
		}
		dec = decode(tok, ids, n, 0, &dlen);
		if (rt == RT_EXACT)
		{
			bool same = dlen == strlen(s) && memcmp(dec, s, dlen) == 0;

			rt_pass += same;
			CHECK(same, "%s: string %d: decode(encode(s)) != s: \"%.*s\"", name, total, (int) dlen, dec);
		}
		else
		{
			int32_t *ids2 = NULL;
			size_t   n2 = 0;
			bool     same;

			/* [UNK] decodes to nothing, so compare with the other ids */
			size_t k = 0;

			for (size_t i = 0; i < n; i++)
				if (ids[i] != pllm_tok_unk(tok))
					ids[k++] = ids[i];
			encode(tok, dec, dlen, false, false, &ids2, &n2);
			same = n2 == k && memcmp(ids2, ids, k * sizeof(int32_t)) == 0;
			rt_pass += same;
			CHECK(same, "%s: string %d: encode(decode(ids)) != ids (decoded \"%.*s\")", name, total, (int) dlen, dec);
			free(ids2);
		}
		free(dec);
		free(ids);
		s = end + strlen(SEP);
		line = eol ? eol + 1 : line + strlen(line);
	}
	printf("# %s: %d/%d strings give the expected ids, %d/%d round-trip\n", name, pass, total, rt_pass, total);
	CHECK(total >= 40, "%s: only %d strings read", name, total);
done:
	free(inp);
	free(out);
}

static void
vocab_test(const char *name, const char *file, const char *inp, const char *out, roundtrip rt)
{
	pllm_tokenizer *tok = open_tok(file);

	run_vectors(name, tok, inp, out, rt);
	pllm_tok_free(tok);
}

#define V "vocab/llama.cpp/ggml-vocab-"

/* ---- one RUN per vocabulary ------------------------------------------------------- */

static void
test_vocab_llama_spm(void)
{
	vocab_test("llama-spm", V "llama-spm.gguf", V "llama-spm.gguf.inp", V "llama-spm.gguf.out", RT_EXACT);
}

static void
test_vocab_phi3(void)
{
	vocab_test("phi-3", V "phi-3.gguf", V "phi-3.gguf.inp", V "phi-3.gguf.out", RT_EXACT);
}

static void
test_vocab_gpt2(void)
{
	vocab_test("gpt-2", V "gpt-2.gguf", V "gpt-2.gguf.inp", V "gpt-2.gguf.out", RT_EXACT);
}

static void
test_vocab_deepseek_llm(void)
{
	vocab_test("deepseek-llm", V "deepseek-llm.gguf", V "deepseek-llm.gguf.inp", V "deepseek-llm.gguf.out", RT_EXACT);
}

static void
test_vocab_deepseek_coder(void)
{
	vocab_test("deepseek-coder", V "deepseek-coder.gguf", V "deepseek-coder.gguf.inp", V "deepseek-coder.gguf.out",
			   RT_EXACT);
}

static void
test_vocab_bert_bge(void)
{
	vocab_test("bert-bge", V "bert-bge.gguf", V "bert-bge.gguf.inp", V "bert-bge.gguf.out", RT_REENCODE);
}

static void
test_vocab_qwen2_hf(void)
{
	vocab_test("qwen2 (qwen3 tokenizer.json)", "vocab/hf/qwen3/tokenizer.json", V "qwen2.gguf.inp",
			   V "qwen2.gguf.out", RT_EXACT);
}

static void
test_vocab_llama_bpe_hf(void)
{
	vocab_test("llama-bpe (llama3 tokenizer.json)", "vocab/hf/llama3/tokenizer.json", V "llama-bpe.gguf.inp",
			   V "llama-bpe.gguf.out", RT_EXACT);
}

static void
test_vocab_deepseek_v3_hf(void)
{
	vocab_test("deepseek-v3 (tokenizer.json, secondary vectors)", "vocab/hf/deepseek-v3/tokenizer.json",
			   "vocab/hf/deepseek-v3/deepseek-v3.inp", "vocab/hf/deepseek-v3/deepseek-v3.out", RT_EXACT);
}

/* ---- behaviour -------------------------------------------------------------------- */

static bool
ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	return na == nb && memcmp(a, b, na * sizeof(int32_t)) == 0;
}

static bool
contains(const int32_t *a, size_t n, int32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == id)
			return true;
	return false;
}

static void
test_parse_special(void)
{
	pllm_tokenizer *spm = open_tok(V "llama-spm.gguf");
	pllm_tokenizer *qw = open_tok("vocab/hf/qwen3/tokenizer.json");
	int32_t        *a = NULL, *b = NULL;
	size_t          na = 0, nb = 0;
	const char     *chat = "<|im_start|>user\nhi<|im_end|>";

	if (spm)
	{
		/* "<s>" is BOS with parse_special; after it SPM adds the dummy space again */
		encode(spm, "<s>Hello", 8, false, true, &a, &na);
		encode(spm, "Hello", 5, false, false, &b, &nb);
		CHECK(na == nb + 1 && a[0] == 1 && ids_equal(a + 1, na - 1, b, nb), "<s>Hello with parse_special");
		free(a);
		encode(spm, "<s>Hello", 8, false, false, &a, &na);
		CHECK(!contains(a, na, 1), "<s> must stay text without parse_special");
		free(a);
		free(b);
	}
	if (qw)
	{
		encode(qw, chat, strlen(chat), false, true, &a, &na);
		CHECK(na >= 4 && a[0] == 151644 && a[na - 1] == 151645, "chatml markers with parse_special");
		free(a);
		encode(qw, chat, strlen(chat), false, false, &a, &na);
		CHECK(!contains(a, na, 151644) && !contains(a, na, 151645), "chatml markers are text without parse_special");
		free(a);
		/* a user-defined (non-special) added token is split out even without parse_special */
		encode(qw, "a<think>b", 9, false, false, &a, &na);
		CHECK(contains(a, na, 151667), "<think> is user-defined");
		free(a);
	}
	pllm_tok_free(spm);
	pllm_tok_free(qw);
}

static void
test_add_special(void)
{
	pllm_tokenizer *spm = open_tok(V "llama-spm.gguf");
	pllm_tokenizer *bert = open_tok(V "bert-bge.gguf");
	pllm_tokenizer *gpt2 = open_tok(V "gpt-2.gguf");
	pllm_tokenizer *dsl = open_tok(V "deepseek-llm.gguf");
	pllm_tokenizer *l3 = open_tok("vocab/hf/llama3/tokenizer.json");
	int32_t        *a = NULL;
	size_t          na = 0;

	if (spm)
	{
		CHECK(pllm_tok_add_bos(spm) && !pllm_tok_add_eos(spm) && pllm_tok_bos(spm) == 1 && pllm_tok_eos(spm) == 2,
			  "llama-spm flags");
		encode(spm, "Hello world", 11, true, false, &a, &na);
		CHECK(na == 3 && a[0] == 1 && a[1] == 15043 && a[2] == 3186, "llama-spm BOS Hello world");
		free(a);
		encode(spm, "", 0, true, false, &a, &na);
		CHECK(na == 1 && a[0] == 1, "empty text with add_special is [BOS]");
		free(a);
	}
	if (bert)
	{
		encode(bert, "hello", 5, true, false, &a, &na);
		CHECK(na == 3 && a[0] == 101 && a[2] == 102, "bert [CLS] hello [SEP]");
		free(a);
	}
	if (gpt2)
	{
		CHECK(!pllm_tok_add_bos(gpt2), "gpt-2 adds no BOS");
		encode(gpt2, "Hello", 5, true, false, &a, &na);
		CHECK(na == 1 && a[0] == 15496, "gpt-2 Hello with add_special");
		free(a);
	}
	if (dsl)
	{
		encode(dsl, "Hello", 5, true, false, &a, &na);
		CHECK(na == 2 && a[0] == 100000, "deepseek-llm BOS");
		free(a);
	}
	if (l3)
	{
		CHECK(pllm_tok_bos(l3) == 128000 && pllm_tok_add_bos(l3), "llama3 BOS from tokenizer_config.json");
		encode(l3, "Hello", 5, true, false, &a, &na);
		CHECK(na == 2 && a[0] == 128000, "llama3 BOS Hello");
		free(a);
	}
	pllm_tok_free(spm);
	pllm_tok_free(bert);
	pllm_tok_free(gpt2);
	pllm_tok_free(dsl);
	pllm_tok_free(l3);
}

static void
test_limits(void)
{
	pllm_tokenizer *spm = open_tok(V "llama-spm.gguf");
	int32_t         ids[4];
	size_t          n = 0, len = 0;
	pllm_error      err = { 0 };
	char            buf[4];

	if (!spm)
		return;
	CHECK(pllm_tok_encode(spm, "Hello world", 11, true, false, ids, 1, &n, &err) == PLLM_ERR_LIMIT && n == 3,
		  "small cap gives LIMIT and the needed count (n=%zu)", n);
	CHECK(pllm_tok_encode(spm, "Hello world", 11, true, false, ids, 3, &n, &err) == PLLM_OK && n == 3, "exact cap");
	CHECK(pllm_tok_decode(spm, ids, 3, 0, buf, sizeof(buf), &len, &err) == PLLM_ERR_LIMIT && len == 12,
		  "decode LIMIT: BOS hidden, its following space kept (len=%zu)", len);
	CHECK(pllm_tok_piece(spm, 15043, false, buf, 2, &len, &err) == PLLM_OK && len == 6 && memcmp(buf, " H", 2) == 0,
		  "piece truncates like snprintf");
	CHECK(pllm_tok_piece(spm, 32000, false, buf, 4, &len, &err) == PLLM_ERR_INVALID_ARG, "piece of a bad id");
	ids[0] = -5;
	CHECK(pllm_tok_decode(spm, ids, 1, 0, buf, sizeof(buf), &len, &err) == PLLM_ERR_INVALID_ARG, "decode of a bad id");
	CHECK(pllm_tok_encode(spm, NULL, 3, false, false, ids, 4, &n, &err) == PLLM_ERR_INVALID_ARG, "NULL text");
	pllm_tok_free(spm);
}

static void
test_pieces_and_eog(void)
{
	pllm_tokenizer *spm = open_tok(V "llama-spm.gguf");
	pllm_tokenizer *qw = open_tok("vocab/hf/qwen3/tokenizer.json");
	pllm_tokenizer *l3 = open_tok("vocab/hf/llama3/tokenizer.json");
	pllm_tokenizer *bert = open_tok(V "bert-bge.gguf");
	char            buf[64];
	size_t          len = 0;
	pllm_error      err;
	int32_t         ids[3] = { 1, 15043, 2 };
	char           *text = NULL;

	if (spm)
	{
		CHECK(pllm_tok_piece(spm, 29871, false, buf, sizeof(buf), &len, &err) == PLLM_OK && len == 1 && buf[0] == ' ',
			  "SPM U+2581 piece is a space");
		CHECK(pllm_tok_piece(spm, 13, false, buf, sizeof(buf), &len, &err) == PLLM_OK && len == 1 && buf[0] == '\n',
			  "<0x0A> is a newline");
		CHECK(pllm_tok_piece(spm, 1, false, buf, sizeof(buf), &len, &err) == PLLM_OK && len == 0, "control hidden");
		CHECK(pllm_tok_piece(spm, 1, true, buf, sizeof(buf), &len, &err) == PLLM_OK && len == 3 &&
			  memcmp(buf, "<s>", 3) == 0, "control rendered with special");
		CHECK(pllm_tok_is_eog(spm, 2) && !pllm_tok_is_eog(spm, 1) && pllm_tok_is_control(spm, 1), "SPM EOG/control");
		CHECK(strcmp(pllm_tok_type_name(spm), "SPM") == 0 && pllm_tok_n_vocab(spm) == 32000, "SPM info");
		CHECK(pllm_tok_decode_alloc(spm, ids, 3, &text, &len, &err) == PLLM_OK && text &&
			  strcmp(text, "<s> Hello</s>") == 0, "decode_alloc renders specials: \"%s\"", text ? text : "");
		free(text);
		CHECK(pllm_tok_decode(spm, ids, 3, PLLM_TOK_DECODE_SKIP_BOS_EOS, buf, sizeof(buf), &len, &err) == PLLM_OK &&
			  len == 6 && memcmp(buf, " Hello", 6) == 0, "BOS removed: the space after it stays, as in llama.cpp");
		CHECK(pllm_tok_decode_alloc_flags(spm, ids, 2, PLLM_TOK_DECODE_INVERSE, &text, &len, &err) == PLLM_OK &&
			  text && strcmp(text, "Hello") == 0, "INVERSE of [BOS, Hello] gives back the encoded text: \"%s\"", text ? text : "");
		free(text);
	}
	if (qw)
	{
		CHECK(pllm_tok_is_eog(qw, 151645) && pllm_tok_is_eog(qw, 151643) && !pllm_tok_is_eog(qw, 151644),
			  "qwen EOG: <|im_end|>, <|endoftext|>");
		CHECK(pllm_tok_eos(qw) == 151645 && pllm_tok_bos(qw) == -1 && !pllm_tok_add_bos(qw), "qwen config ids");
		CHECK(strcmp(pllm_tok_pre_name(qw), "qwen2") == 0 && strcmp(pllm_tok_type_name(qw), "BPE") == 0, "qwen info");
	}
	if (l3)
	{
		CHECK(pllm_tok_is_eog(l3, 128009) && pllm_tok_is_eog(l3, 128001) && pllm_tok_eot(l3) == 128009,
			  "llama3 EOG: <|eot_id|>, <|end_of_text|>");
		CHECK(pllm_tok_find(l3, "<|eot_id|>", 10) == 128009, "find by text");
	}
	if (bert)
		CHECK(pllm_tok_sep(bert) == 102 && pllm_tok_unk(bert) == 100 && pllm_tok_bos(bert) == 101, "bert ids");
	pllm_tok_free(spm);
	pllm_tok_free(qw);
	pllm_tok_free(l3);
	pllm_tok_free(bert);
}

/* ---- corrupt metadata ------------------------------------------------------------ */

static pllm_status
load_built(gb_buf *b, pllm_error *err)
{
	pllm_gguf      *g = NULL;
	pllm_tokenizer *tok = NULL;
	pllm_status     st = pllm_gguf_parse(b->p, b->len, &g, err);

	if (st == PLLM_OK)
	{
		st = pllm_tok_load_gguf(g, &tok, err);
		CHECK((st == PLLM_OK) == (tok != NULL), "output set only on success");
		pllm_tok_free(tok);
	}
	pllm_gguf_free(g);
	free(b->p);
	memset(b, 0, sizeof(*b));
	return st;
}

static void
gb_tokens(gb_buf *b, int n)
{
	gb_str(b, "tokenizer.ggml.tokens");
	gb_u32(b, 9);
	gb_u32(b, 8);
	gb_u64(b, (uint64_t) n);
	gb_str(b, "<unk>");
	gb_str(b, "<s>");
	gb_str(b, "</s>");
	for (int i = 3; i < n; i++)
		gb_str(b, i == 3 ? "\xe2\x96\x81" : "a");
}

static void
test_corrupt_metadata(void)
{
	gb_buf     b = { 0 };
	pllm_error err;

	/* a minimal valid SPM vocabulary loads */
	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_OK, "minimal vocab: %s", err.msg);

	gb_header(&b, 3, 0, 1);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "missing tokens array");

	gb_header(&b, 3, 0, 1);
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "missing model");

	gb_header(&b, 3, 0, 2);
	gb_kv_u32(&b, "tokenizer.ggml.model", 7);
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "model is not a string");

	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "klingon");
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_ERR_UNSUPPORTED, "unknown model");

	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_str(&b, "tokenizer.ggml.tokens");
	gb_u32(&b, 9);
	gb_u32(&b, 4);   /* uint32 elements, not strings */
	gb_u64(&b, 2);
	gb_u32(&b, 1);
	gb_u32(&b, 2);
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "tokens of the wrong type");

	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_kv_str(&b, "tokenizer.ggml.tokens", "abc");
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "tokens is a scalar");

	gb_header(&b, 3, 0, 3);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_tokens(&b, 5);
	gb_str(&b, "tokenizer.ggml.scores");
	gb_u32(&b, 9);
	gb_u32(&b, 6);
	gb_u64(&b, 2);   /* shorter than the vocabulary */
	gb_f32(&b, 0);
	gb_f32(&b, 0);
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "too few scores");

	gb_header(&b, 3, 0, 3);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_tokens(&b, 5);
	gb_kv_str(&b, "tokenizer.ggml.token_type", "x");
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "token_type of the wrong type");

	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "gpt2");
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "BPE without merges");

	gb_header(&b, 3, 0, 3);
	gb_kv_str(&b, "tokenizer.ggml.model", "gpt2");
	gb_kv_str(&b, "tokenizer.ggml.pre", "no-such-pre");
	gb_tokens(&b, 5);
	CHECK(load_built(&b, &err) == PLLM_ERR_UNSUPPORTED, "unknown pre-tokenizer");

	gb_header(&b, 3, 0, 2);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");
	gb_tokens(&b, 6);   /* "a" twice */
	CHECK(load_built(&b, &err) == PLLM_ERR_FORMAT, "duplicate token");

	{
		pllm_tokenizer *tok = NULL;
		const char     *bad[] = { "{", "[]", "{\"model\":{\"type\":\"BPE\"}}",
								  "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{},\"merges\":[]}}",
								  "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]},"
								  "\"pre_tokenizer\":{\"type\":\"ByteLevel\"}}" };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			pllm_status st = pllm_tok_load_hf_json(bad[i], strlen(bad[i]), &tok, &err);

			CHECK(st != PLLM_OK && tok == NULL, "bad tokenizer.json %zu accepted", i);
		}
	}
}

/* ---- threads -------------------------------------------------------------------- */

typedef struct thr_arg
{
	const pllm_tokenizer *tok;
	const char           *text;
	int32_t               ids[256];
	size_t                n;
	bool                  same;
} thr_arg;

static void *
thr_encode(void *p)
{
	thr_arg   *a = p;
	int32_t    first[256];
	size_t     n0 = 0;
	pllm_error err;

	a->same = true;
	for (int r = 0; r < 200; r++)
	{
		if (pllm_tok_encode(a->tok, a->text, strlen(a->text), true, true, a->ids, 256, &a->n, &err) != PLLM_OK)
			a->same = false;
		if (r == 0)
		{
			memcpy(first, a->ids, a->n * sizeof(int32_t));
			n0 = a->n;
		}
		else if (a->n != n0 || memcmp(first, a->ids, n0 * sizeof(int32_t)) != 0)
			a->same = false;
	}
	return NULL;
}

static void
test_threads(void)
{
	pllm_tokenizer *tok = open_tok("vocab/hf/qwen3/tokenizer.json");
	thr_arg         a[4];
	pthread_t       th[4];

	if (!tok)
		return;
	for (int i = 0; i < 4; i++)
	{
		a[i].tok = tok;
		a[i].text = i % 2 ? "<|im_start|>Hello, y'all! 3333 \xe6\x88\x91\xe6\x83\xb3" : "  tabs\t and\nnewlines 12345";
		pthread_create(&th[i], NULL, thr_encode, &a[i]);
	}
	for (int i = 0; i < 4; i++)
	{
		pthread_join(th[i], NULL);
		CHECK(a[i].same, "thread %d got differing results", i);
	}
	CHECK(a[0].n == a[2].n && memcmp(a[0].ids, a[2].ids, a[0].n * sizeof(int32_t)) == 0, "threads agree");
	pllm_tok_free(tok);
}

/* A converted BERT model (add_eos_token set, no eos id) frames text in [CLS] ... [SEP]. */
static void
test_bert_model_specials(void)
{
	size_t          len;
	char           *buf = unit_read_file(unit_data("fixtures/tiny-bert/tiny-bert-f32.gguf"), &len);
	pllm_gguf      *g = NULL;
	pllm_tokenizer *tok = NULL;
	pllm_error      err;
	int32_t         ids[64];
	size_t          n = 0;

	CHECK(buf != NULL, "tiny-bert fixture missing");
	if (!buf)
		return;
	CHECK(pllm_gguf_parse(buf, len, &g, &err) == PLLM_OK, "%s", err.msg);
	if (g)
		CHECK(pllm_tok_load_gguf(g, &tok, &err) == PLLM_OK, "%s", err.msg);
	if (tok)
	{
		CHECK(pllm_tok_encode(tok, "hello", 5, true, false, ids, 64, &n, &err) == PLLM_OK, "%s", err.msg);
		CHECK(n >= 3 && ids[0] == 101 && ids[n - 1] == 102, "n=%zu first=%d last=%d", n, ids[0], ids[n ? n - 1 : 0]);
		CHECK(pllm_tok_encode(tok, "hello", 5, false, false, ids, 64, &n, &err) == PLLM_OK &&
			  n >= 1 && ids[0] != 101 && ids[n - 1] != 102, "no specials without add_special");
		pllm_tok_free(tok);
	}
	pllm_gguf_free(g);
	free(buf);
}

int
main(void)
{
	RUN(test_vocab_llama_spm);
	RUN(test_vocab_phi3);
	RUN(test_vocab_gpt2);
	RUN(test_vocab_deepseek_llm);
	RUN(test_vocab_deepseek_coder);
	RUN(test_vocab_bert_bge);
	RUN(test_vocab_qwen2_hf);
	RUN(test_vocab_llama_bpe_hf);
	RUN(test_vocab_deepseek_v3_hf);
	RUN(test_parse_special);
	RUN(test_add_special);
	RUN(test_limits);
	RUN(test_pieces_and_eog);
	RUN(test_corrupt_metadata);
	RUN(test_threads);
	RUN(test_bert_model_specials);
	return UNIT_DONE();
}
