/*
 * gen_model.c -- writes random-weight GGUF models with the shapes of real ones
 * (Qwen2.5-0.5B, SmolLM2-135M, MiniLM-L6) for `make bench`. Weights are random
 * but well-formed blocks (finite fp16 scales), so the kernels do real work; the
 * outputs are meaningless. Usage: gen_model SHAPE TYPE OUT.gguf
 *   SHAPE: qwen2-0.5b | smollm2-135m | minilm-l6     TYPE: f32 | q8_0 | q4_0 | q4_k
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "pg_llm/types.h"

typedef struct shape
{
	const char *name, *arch;
	int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
	float rope_base;
	int qkv_bias, tied;
} shape;

static const shape shapes[] = {
	{"qwen2-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e6f, 1, 1},
	{"smollm2-135m", "llama", 576, 30, 9, 3, 64, 1536, 49152, 8192, 1e5f, 0, 1},
	{"minilm-l6", "bert", 384, 6, 12, 12, 32, 1536, 30522, 512, 0.0f, 1, 1},
};

typedef struct tensor
{
	char    name[64];
	int     n_dims;
	int64_t ne[2];
	int     type;
	uint64_t offset, bytes;
} tensor;

static tensor tensors[512];
static int    n_tensors;
static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return rng;
}

static void
add_tensor(const char *name, int64_t ne0, int64_t ne1, int type)
{
	tensor *t = &tensors[n_tensors++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->n_dims = ne1 > 1 ? 2 : 1;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->type = ne1 > 1 ? type : PLLM_TYPE_F32;
	/* as llama.cpp's quantizer: K-quant rows that are not whole super-blocks fall back to q5_0 */
	if (t->type == PLLM_TYPE_Q4_K && ne0 % 256 != 0)
		t->type = PLLM_TYPE_Q5_0;
	t->bytes = pllm_type_row_bytes((uint32_t) t->type, ne0) * (uint64_t) ne1;
}

static void w_u32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void w_u64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void w_str(FILE *f, const char *s) { w_u64(f, strlen(s)); fwrite(s, 1, strlen(s), f); }
static int  n_kv_written;
/* Start a key/value pair: its key and value type (counted for the header). */
static void w_key(FILE *f, const char *k, uint32_t vtype) { w_str(f, k); w_u32(f, vtype); n_kv_written++; }
static void kv_u32(FILE *f, const char *k, uint32_t v) { w_key(f, k, 4); w_u32(f, v); }
static void kv_f32(FILE *f, const char *k, float v) { w_key(f, k, 6); fwrite(&v, 4, 1, f); }
static void kv_str(FILE *f, const char *k, const char *v) { w_key(f, k, 8); w_str(f, v); }

static void
kv_hp(FILE *f, const shape *s, const char *suffix, uint32_t v)
{
	char key[96];

	snprintf(key, sizeof(key), "%s.%s", s->arch, suffix);
	kv_u32(f, key, v);
}

static void
build_tensors(const shape *s, int type)
{
	int  kvd = s->n_head_kv * s->head_dim, qd = s->n_head * s->head_dim;
	char n[64];
	bool bert = strcmp(s->arch, "bert") == 0;

	add_tensor("token_embd.weight", s->n_embd, s->n_vocab, type);
	if (bert)
	{
		add_tensor("position_embd.weight", s->n_embd, s->n_ctx, PLLM_TYPE_F32);
		add_tensor("token_types.weight", s->n_embd, 2, PLLM_TYPE_F32);
		add_tensor("token_embd_norm.weight", s->n_embd, 1, type);
		add_tensor("token_embd_norm.bias", s->n_embd, 1, type);
	}
	else
		add_tensor("output_norm.weight", s->n_embd, 1, type);
	if (!s->tied)
		add_tensor("output.weight", s->n_embd, s->n_vocab, type);
#define L(fmt, a, b) do { snprintf(n, sizeof(n), fmt, l); add_tensor(n, a, b, type); } while (0)
	for (int l = 0; l < s->n_layer; l++)
	{
		if (!bert)
			L("blk.%d.attn_norm.weight", s->n_embd, 1);
		L("blk.%d.attn_q.weight", s->n_embd, qd);
		L("blk.%d.attn_k.weight", s->n_embd, kvd);
		L("blk.%d.attn_v.weight", s->n_embd, kvd);
		if (s->qkv_bias)
		{
			L("blk.%d.attn_q.bias", qd, 1);
			L("blk.%d.attn_k.bias", kvd, 1);
			L("blk.%d.attn_v.bias", kvd, 1);
		}
		L("blk.%d.attn_output.weight", qd, s->n_embd);
		if (bert)
		{
			L("blk.%d.attn_output.bias", s->n_embd, 1);
			L("blk.%d.attn_output_norm.weight", s->n_embd, 1);
			L("blk.%d.attn_output_norm.bias", s->n_embd, 1);
			L("blk.%d.ffn_up.weight", s->n_embd, s->n_ff);
			L("blk.%d.ffn_up.bias", s->n_ff, 1);
			L("blk.%d.ffn_down.weight", s->n_ff, s->n_embd);
			L("blk.%d.ffn_down.bias", s->n_embd, 1);
			L("blk.%d.layer_output_norm.weight", s->n_embd, 1);
			L("blk.%d.layer_output_norm.bias", s->n_embd, 1);
		}
		else
		{
			L("blk.%d.ffn_norm.weight", s->n_embd, 1);
			L("blk.%d.ffn_gate.weight", s->n_embd, s->n_ff);
			L("blk.%d.ffn_up.weight", s->n_embd, s->n_ff);
			L("blk.%d.ffn_down.weight", s->n_ff, s->n_embd);
		}
	}
#undef L
}

static void
write_tokenizer(FILE *f, const shape *s)
{
	bool bert = strcmp(s->arch, "bert") == 0;
	char tok[32];

	kv_str(f, "tokenizer.ggml.model", bert ? "bert" : "llama");
	w_key(f, "tokenizer.ggml.tokens", 9); w_u32(f, 8); w_u64(f, (uint64_t) s->n_vocab);
	for (int i = 0; i < s->n_vocab; i++)
	{
		if (bert)
			snprintf(tok, sizeof(tok), i == 0 ? "[PAD]" : i == 100 ? "[UNK]" : i == 101 ? "[CLS]" :
					 i == 102 ? "[SEP]" : i == 103 ? "[MASK]" : "t%d", i);
		else if (i < 3)
			snprintf(tok, sizeof(tok), "%s", i == 0 ? "<unk>" : i == 1 ? "<s>" : "</s>");
		else if (i < 259)
			snprintf(tok, sizeof(tok), "<0x%02X>", i - 3);
		else
			snprintf(tok, sizeof(tok), "\xe2\x96\x81t%d", i);
		w_str(f, tok);
	}
	w_key(f, "tokenizer.ggml.token_type", 9); w_u32(f, 5); w_u64(f, (uint64_t) s->n_vocab);
	for (int i = 0; i < s->n_vocab; i++)
		w_u32(f, bert ? (i == 100 ? 2 : (i >= 101 && i <= 103) || i == 0 ? 3 : 1)
				 : (i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1));
	if (!bert)
	{
		w_key(f, "tokenizer.ggml.scores", 9); w_u32(f, 6); w_u64(f, (uint64_t) s->n_vocab);
		for (int i = 0; i < s->n_vocab; i++)
		{
			float sc = i < 259 ? 0.0f : -(float) i;

			fwrite(&sc, 4, 1, f);
		}
	}
	kv_u32(f, "tokenizer.ggml.bos_token_id", bert ? 101 : 1);
	kv_u32(f, "tokenizer.ggml.eos_token_id", bert ? 102 : 2);
	if (bert)
	{
		kv_u32(f, "tokenizer.ggml.unknown_token_id", 100);
		kv_u32(f, "tokenizer.ggml.seperator_token_id", 102);
		kv_u32(f, "tokenizer.ggml.padding_token_id", 0);
	}
}

static void
write_header(FILE *f, const shape *s)
{
	bool bert = strcmp(s->arch, "bert") == 0;
	long pos;

	fwrite("GGUF", 1, 4, f);
	w_u32(f, 3);
	w_u64(f, (uint64_t) n_tensors);
	w_u64(f, 0);                       /* n_kv, patched once known */
	kv_str(f, "general.architecture", s->arch);
	kv_str(f, "general.name", s->name);
	kv_hp(f, s, "context_length", (uint32_t) s->n_ctx);
	kv_hp(f, s, "embedding_length", (uint32_t) s->n_embd);
	kv_hp(f, s, "block_count", (uint32_t) s->n_layer);
	kv_hp(f, s, "feed_forward_length", (uint32_t) s->n_ff);
	kv_hp(f, s, "attention.head_count", (uint32_t) s->n_head);
	if (bert)
	{
		kv_f32(f, "bert.attention.layer_norm_epsilon", 1e-12f);
		kv_u32(f, "bert.pooling_type", 1);
		w_key(f, "bert.attention.causal", 7); fputc(0, f);
	}
	else
	{
		char key[96];

		kv_hp(f, s, "attention.head_count_kv", (uint32_t) s->n_head_kv);
		snprintf(key, sizeof(key), "%s.rope.freq_base", s->arch);
		kv_f32(f, key, s->rope_base);
		snprintf(key, sizeof(key), "%s.attention.layer_norm_rms_epsilon", s->arch);
		kv_f32(f, key, 1e-6f);
		kv_hp(f, s, "rope.dimension_count", (uint32_t) s->head_dim);
	}
	write_tokenizer(f, s);
	pos = ftell(f);
	fseek(f, 16, SEEK_SET);
	w_u64(f, (uint64_t) n_kv_written);
	fseek(f, pos, SEEK_SET);
	for (int i = 0; i < n_tensors; i++)
	{
		w_str(f, tensors[i].name);
		w_u32(f, (uint32_t) tensors[i].n_dims);
		for (int d = 0; d < tensors[i].n_dims; d++)
			w_u64(f, (uint64_t) tensors[i].ne[d]);
		w_u32(f, (uint32_t) tensors[i].type);
		w_u64(f, tensors[i].offset);
	}
}

/* Random bytes for one row of `type`, with every fp16 scale set to a small value. */
static void
fill_row(uint8_t *row, int type, int64_t n)
{
	const kern_type_traits *tr = kern_traits((uint32_t) type);
	size_t                  bytes = pllm_type_row_bytes((uint32_t) type, n);
	uint16_t                d = kern_fp32_to_fp16(type == PLLM_TYPE_Q8_0 ? 0.0005f : 0.002f);

	if (type == PLLM_TYPE_F32)
	{
		for (int64_t i = 0; i < n; i++)
			((float *) row)[i] = ((float) (next_rand() % 2001) - 1000.0f) * 5e-5f;
		return;
	}
	for (size_t i = 0; i < bytes; i += 8)
	{
		uint64_t r = next_rand();

		memcpy(row + i, &r, bytes - i < 8 ? bytes - i : 8);
	}
	for (size_t b = 0; b < bytes; b += tr->block_bytes)
	{
		memcpy(row + b, &d, 2);              /* d comes first in Q8_0, Q4_0, Q5_0, Q4_K */
		if (type == PLLM_TYPE_Q4_K)
			memcpy(row + b + 2, &d, 2);      /* dmin */
	}
}

int
main(int argc, char **argv)
{
	const shape *s = NULL;
	int          type = -1;
	FILE        *f;
	uint64_t     off = 0;
	long         pos;
	static const struct { const char *n; int t; } types[] = {
		{"f32", PLLM_TYPE_F32}, {"q8_0", PLLM_TYPE_Q8_0}, {"q4_0", PLLM_TYPE_Q4_0}, {"q4_k", PLLM_TYPE_Q4_K}};

	for (size_t i = 0; argc == 4 && i < sizeof(shapes) / sizeof(shapes[0]); i++)
		if (strcmp(argv[1], shapes[i].name) == 0)
			s = &shapes[i];
	for (size_t i = 0; argc == 4 && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(argv[2], types[i].n) == 0)
			type = types[i].t;
	if (!s || type < 0)
	{
		fprintf(stderr, "usage: gen_model qwen2-0.5b|smollm2-135m|minilm-l6 f32|q8_0|q4_0|q4_k OUT.gguf\n");
		return 2;
	}
	build_tensors(s, type);
	for (int i = 0; i < n_tensors; i++)
	{
		tensors[i].offset = off;
		off += (tensors[i].bytes + 31) / 32 * 32;
	}
	f = fopen(argv[3], "wb");
	if (!f)
	{
		perror(argv[3]);
		return 1;
	}
	write_header(f, s);
	pos = ftell(f);
	while (pos % 32)
	{
		fputc(0, f);
		pos++;
	}
	for (int i = 0; i < n_tensors; i++)
	{
		size_t   rb = pllm_type_row_bytes((uint32_t) tensors[i].type, tensors[i].ne[0]);
		uint8_t *row = malloc(rb);
		bool     norm = tensors[i].n_dims == 1 && strstr(tensors[i].name, "norm.weight");

		for (int64_t r = 0; r < tensors[i].ne[1]; r++)
		{
			fill_row(row, tensors[i].type, tensors[i].ne[0]);
			if (norm)
				for (int64_t k = 0; k < tensors[i].ne[0]; k++)
					((float *) row)[k] = 1.0f + ((float *) row)[k];
			fwrite(row, 1, rb, f);
		}
		for (uint64_t p = tensors[i].bytes; p % 32; p++)
			fputc(0, f);
		free(row);
	}
	if (fclose(f) != 0)
	{
		perror(argv[3]);
		return 1;
	}
	return 0;
}
