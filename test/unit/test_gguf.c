/*
 * test_gguf.c -- the GGUF parser on well-formed and malformed buffers:
 * every metadata type, alignment, vocab-only files, and corrupt input
 * (truncation at every byte, huge counts, bad offsets, random bit flips)
 * that must give an error and never a crash (this binary also runs under ASan).
 */
#include "unit.h"
#include "gguf_builder.h"

#include "pg_llm/gguf.h"
#include "pg_llm/types.h"

/* A valid v3 file: one kv of each scalar type, arrays, two F32 tensors. */
static gb_buf
build_valid(uint32_t version, uint32_t alignment)
{
	gb_buf   b = {0};
	uint64_t ne_a[2] = {4, 2}, ne_b[1] = {3};

	gb_header(&b, version, 2, 8);
	gb_kv_str(&b, "general.architecture", "llama");
	gb_kv_u32(&b, "llama.block_count", 7);
	gb_kv_f32(&b, "llama.rope.freq_base", 10000.0f);
	gb_str(&b, "i8"); gb_u32(&b, 1); gb_u8(&b, 0xfe);                  /* int8 -2 */
	gb_str(&b, "flag"); gb_u32(&b, 7); gb_u8(&b, 1);                   /* bool */
	gb_str(&b, "big"); gb_u32(&b, 10); gb_u64(&b, 1ull << 40);         /* uint64 */
	gb_str(&b, "tokens"); gb_u32(&b, 9); gb_u32(&b, 8); gb_u64(&b, 3); /* string[3] */
	gb_str(&b, "a"); gb_str(&b, ""); gb_str(&b, "ccc");
	gb_kv_u32(&b, "general.alignment", alignment);
	gb_tensor(&b, "w", 2, ne_a, PLLM_TYPE_F32, 0);
	gb_tensor(&b, "bias", 1, ne_b, PLLM_TYPE_F32, alignment * ((32 + alignment - 1) / alignment));
	gb_align(&b, alignment);
	for (int i = 0; i < 8; i++)
		gb_f32(&b, (float) i);
	gb_align(&b, alignment);
	while (b.len % alignment || b.len % 32)
		gb_u8(&b, 0);
	gb_f32(&b, 1.5f); gb_f32(&b, 2.5f); gb_f32(&b, 3.5f);
	return b;
}

static void
test_parse_valid_v3(void)
{
	gb_buf                  b = build_valid(3, 32);
	pllm_gguf              *g = NULL;
	pllm_error              err;
	pllm_str                s;
	uint32_t                u;
	int64_t                 i;
	float                   f;
	bool                    flag;
	const pllm_gguf_kv     *kv;
	const pllm_gguf_tensor *t;

	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_OK, "%s", err.msg);
	if (!g)
		return;
	CHECK(g->version == 3 && g->n_kv == 8 && g->n_tensors == 2, "counts");
	CHECK(pllm_gguf_get_str(g, "general.architecture", &s) && pllm_str_eq(s, "llama"), "arch");
	CHECK(pllm_gguf_get_u32(g, "llama.block_count", &u) && u == 7, "block_count");
	CHECK(pllm_gguf_get_f32(g, "llama.rope.freq_base", &f) && f == 10000.0f, "freq_base");
	CHECK(pllm_gguf_get_i64(g, "i8", &i) && i == -2, "int8 sign extension: %lld", (long long) i);
	CHECK(!pllm_gguf_get_u32(g, "i8", &u), "negative value must not convert to u32");
	CHECK(pllm_gguf_get_bool(g, "flag", &flag) && flag, "bool");
	CHECK(!pllm_gguf_get_u32(g, "big", &u), "2^40 does not fit u32");
	CHECK(pllm_gguf_get_i64(g, "big", &i) && i == (1ll << 40), "u64");
	CHECK(!pllm_gguf_get_str(g, "llama.block_count", &s), "type mismatch is not found");
	CHECK(pllm_gguf_find(g, "missing") == NULL, "missing key");
	kv = pllm_gguf_find(g, "tokens");
	CHECK(kv && kv->type == PLLM_GGUF_ARRAY && kv->v.arr.n == 3, "string array");
	if (kv && kv->v.arr.strs)
		CHECK(pllm_str_eq(kv->v.arr.strs[0], "a") && kv->v.arr.strs[1].len == 0 &&
			  pllm_str_eq(kv->v.arr.strs[2], "ccc"), "string array values");
	t = pllm_gguf_find_tensor(g, "w");
	CHECK(t && t->ne[0] == 4 && t->ne[1] == 2 && t->nbytes == 32, "tensor w shape");
	if (t)
		CHECK(((const float *) t->data)[5] == 5.0f, "tensor w data in place");
	t = pllm_gguf_find_tensor(g, "bias");
	CHECK(t && t->nbytes == 12 && ((uintptr_t) ((const uint8_t *) t->data - b.p)) % 32 == 0, "bias aligned");
	if (t)
		CHECK(((const float *) t->data)[2] == 3.5f, "bias data");
	pllm_gguf_free(g);
	free(b.p);
}

static void
test_parse_v2_and_alignment(void)
{
	gb_buf     b = build_valid(2, 64);
	pllm_gguf *g = NULL;
	pllm_error err;

	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_OK, "%s", err.msg);
	CHECK(g && g->alignment == 64 && g->data_offset % 64 == 0, "alignment 64");
	pllm_gguf_free(g);
	free(b.p);
}

static void
test_refuses_versions(void)
{
	pllm_gguf *g = NULL;
	pllm_error err;
	gb_buf     b = build_valid(1, 32);

	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_ERR_UNSUPPORTED && g == NULL, "v1");
	CHECK(strstr(err.msg, "version 1") != NULL, "message names v1: %s", err.msg);
	free(b.p);
	b = build_valid(4, 32);
	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_ERR_UNSUPPORTED, "v4");
	memcpy(b.p, "GGUX", 4);
	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_ERR_FORMAT, "bad magic");
	CHECK(pllm_gguf_parse(NULL, 0, &g, &err) == PLLM_ERR_FORMAT, "empty buffer");
	free(b.p);
}

/* Every proper prefix of a file with tensors is an error, never a crash. */
static void
test_truncated_everywhere(void)
{
	gb_buf     b = build_valid(3, 32);
	pllm_error err;
	int        ok_prefixes = 0;

	for (size_t n = 0; n < b.len; n++)
	{
		uint8_t   *copy = malloc(n ? n : 1);   /* exact-size copy so ASan sees overreads */
		pllm_gguf *g = NULL;

		memcpy(copy, b.p, n);
		if (pllm_gguf_parse(copy, n, &g, &err) == PLLM_OK)
		{
			ok_prefixes++;
			pllm_gguf_free(g);
		}
		free(copy);
	}
	CHECK(ok_prefixes == 0, "%d truncated prefixes were accepted", ok_prefixes);
	free(b.p);
}

static void
test_vocab_only_file_ends_early(void)
{
	gb_buf     b = {0};
	pllm_gguf *g = NULL;
	pllm_error err;

	gb_header(&b, 3, 0, 1);
	gb_kv_str(&b, "tokenizer.ggml.model", "llama");   /* 47 bytes: not a multiple of 32 */
	CHECK(b.len % 32 != 0, "test premise");
	CHECK(pllm_gguf_parse(b.p, b.len, &g, &err) == PLLM_OK, "%s", err.msg);
	CHECK(g && g->n_tensors == 0 && g->data_offset > b.len, "data offset beyond end is fine");
	pllm_gguf_free(g);
	free(b.p);
}

static pllm_status
parse_status(gb_buf *b, pllm_error *err)
{
	pllm_gguf  *g = NULL;
	pllm_status st = pllm_gguf_parse(b->p, b->len, &g, err);

	pllm_gguf_free(g);
	free(b->p);
	memset(b, 0, sizeof(*b));
	return st;
}

static void
test_huge_counts_and_lengths(void)
{
	gb_buf     b = {0};
	pllm_error err;

	gb_header(&b, 3, 0, UINT64_MAX / 2);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "huge n_kv");
	gb_header(&b, 3, UINT64_MAX, 0);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "huge n_tensors");
	gb_header(&b, 3, 0, 1);
	gb_u64(&b, UINT64_MAX - 3);   /* key length */
	gb_put(&b, "abcdabcdabcd", 12);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "huge string length");
	gb_header(&b, 3, 0, 1);
	gb_str(&b, "arr"); gb_u32(&b, 9); gb_u32(&b, 6); gb_u64(&b, 1ull << 62);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "huge f32 array");
	gb_header(&b, 3, 0, 1);
	gb_str(&b, "arr"); gb_u32(&b, 9); gb_u32(&b, 8); gb_u64(&b, 1ull << 61);
	gb_u64(&b, 0);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "huge string array");
	gb_header(&b, 3, 0, 1);
	gb_str(&b, "arr"); gb_u32(&b, 9); gb_u32(&b, 9); gb_u64(&b, 1);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "nested array");
	gb_header(&b, 3, 0, 1);
	gb_str(&b, "k"); gb_u32(&b, 13); gb_u32(&b, 0);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "bad value type");
}

/* A file with one tensor described by the arguments and 64 bytes of data. */
static pllm_status
parse_one_tensor(uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset, pllm_error *err)
{
	gb_buf b = {0};

	gb_header(&b, 3, 1, 0);
	gb_tensor(&b, "t", n_dims, ne, type, offset);
	gb_align(&b, 32);
	for (int i = 0; i < 16; i++)
		gb_f32(&b, 0.0f);
	return parse_status(&b, err);
}

static void
test_bad_tensor_infos(void)
{
	pllm_error err;
	uint64_t   ne_ok[2] = {4, 4}, ne_big[2] = {1ull << 32, 1ull << 32}, ne_zero[2] = {0, 4};
	uint64_t   ne_5[5] = {1, 1, 1, 1, 1}, ne_odd[1] = {33};

	CHECK(parse_one_tensor(2, ne_ok, PLLM_TYPE_F32, 0, &err) == PLLM_OK, "baseline: %s", err.msg);
	CHECK(parse_one_tensor(2, ne_ok, PLLM_TYPE_F32, 32, &err) == PLLM_ERR_FORMAT, "data past end");
	CHECK(strstr(err.msg, "past the end") != NULL, "message: %s", err.msg);
	CHECK(parse_one_tensor(2, ne_ok, PLLM_TYPE_F32, 4, &err) == PLLM_ERR_FORMAT, "misaligned offset");
	CHECK(parse_one_tensor(2, ne_big, PLLM_TYPE_F32, 0, &err) == PLLM_ERR_FORMAT, "size overflow/past end");
	CHECK(parse_one_tensor(2, ne_zero, PLLM_TYPE_F32, 0, &err) == PLLM_ERR_FORMAT, "zero dimension");
	CHECK(parse_one_tensor(5, ne_5, PLLM_TYPE_F32, 0, &err) == PLLM_ERR_FORMAT, "5 dimensions");
	CHECK(parse_one_tensor(1, ne_odd, PLLM_TYPE_Q8_0, 0, &err) == PLLM_ERR_FORMAT, "row not a block multiple");
	CHECK(parse_one_tensor(2, ne_ok, 99, 0, &err) == PLLM_ERR_UNSUPPORTED, "unknown type");
	CHECK(strstr(err.msg, "unknown tensor type 99") != NULL, "names the problem: %s", err.msg);
	CHECK(parse_one_tensor(2, ne_ok, UINT32_MAX, 0, &err) == PLLM_ERR_UNSUPPORTED, "type 2^32-1");
}

static void
test_duplicates_and_alignment_key(void)
{
	gb_buf     b = {0};
	pllm_error err;

	gb_header(&b, 3, 0, 2);
	gb_kv_u32(&b, "x", 1);
	gb_kv_u32(&b, "x", 2);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "duplicate key");
	gb_header(&b, 3, 0, 1);
	gb_kv_u32(&b, "general.alignment", 24);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "alignment not a power of two");
	gb_header(&b, 3, 0, 1);
	gb_kv_u32(&b, "general.alignment", 0);
	CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "alignment 0");
	{
		uint64_t ne[1] = {8};

		gb_header(&b, 3, 2, 0);
		gb_tensor(&b, "t", 1, ne, PLLM_TYPE_F32, 0);
		gb_tensor(&b, "t", 1, ne, PLLM_TYPE_F32, 32);
		gb_align(&b, 32);
		for (int i = 0; i < 16; i++)
			gb_f32(&b, 0.0f);
		CHECK(parse_status(&b, &err) == PLLM_ERR_FORMAT, "duplicate tensor name");
	}
}

/* Deterministic random corruption: errors are fine, crashes and hangs are not. */
static void
test_random_bit_flips(void)
{
	gb_buf   b = build_valid(3, 32);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int      accepted = 0, rejected = 0;

	for (int iter = 0; iter < 3000; iter++)
	{
		uint8_t   *copy = malloc(b.len);
		pllm_gguf *g = NULL;
		pllm_error err;

		memcpy(copy, b.p, b.len);
		for (int k = 0; k < 1 + iter % 4; k++)
		{
			rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
			copy[rng % b.len] ^= (uint8_t) (1u << ((rng >> 32) % 8));
		}
		if (pllm_gguf_parse(copy, b.len, &g, &err) == PLLM_OK)
		{
			/* whatever was accepted must be internally consistent */
			for (uint64_t t = 0; t < g->n_tensors; t++)
				CHECK((const uint8_t *) g->tensors[t].data + g->tensors[t].nbytes <= copy + b.len,
					  "accepted tensor runs past the buffer");
			accepted++;
			pllm_gguf_free(g);
		}
		else
			rejected++;
		free(copy);
	}
	CHECK(rejected > 0 && accepted > 0, "accepted %d rejected %d", accepted, rejected);
	free(b.p);
}

int
main(void)
{
	RUN(test_parse_valid_v3);
	RUN(test_parse_v2_and_alignment);
	RUN(test_refuses_versions);
	RUN(test_truncated_everywhere);
	RUN(test_vocab_only_file_ends_early);
	RUN(test_huge_counts_and_lengths);
	RUN(test_bad_tensor_infos);
	RUN(test_duplicates_and_alignment_key);
	RUN(test_random_bit_flips);
	return UNIT_DONE();
}
