/*
 * cmd_info.c -- `pg_llm info FILE`: architecture, hyper-parameters, tensor
 * types, sizes and tokenizer of a GGUF model.
 */
#include <string.h>

#include "cli.h"
#include "pg_llm/gguf.h"
#include "pg_llm/model.h"
#include "pg_llm/types.h"

static void
info_str_key(const pllm_gguf *g, const char *label, const char *key)
{
	pllm_str s;

	if (pllm_gguf_get_str(g, key, &s))
		printf("%-18s %.*s\n", label, (int) (s.len > 200 ? 200 : s.len), s.ptr);
}

static void
info_u32_key(const pllm_gguf *g, const char *label, const char *key)
{
	int64_t v;

	if (pllm_gguf_get_i64(g, key, &v))
		printf("%-18s %lld\n", label, (long long) v);
}

static void
info_tokenizer(const pllm_gguf *g)
{
	const pllm_gguf_kv *tokens = pllm_gguf_find(g, "tokenizer.ggml.tokens");
	const pllm_gguf_kv *merges = pllm_gguf_find(g, "tokenizer.ggml.merges");
	bool                b;

	info_str_key(g, "tokenizer", "tokenizer.ggml.model");
	info_str_key(g, "tokenizer pre", "tokenizer.ggml.pre");
	if (tokens && tokens->type == PLLM_GGUF_ARRAY)
		printf("%-18s %llu\n", "tokens", (unsigned long long) tokens->v.arr.n);
	if (merges && merges->type == PLLM_GGUF_ARRAY)
		printf("%-18s %llu\n", "merges", (unsigned long long) merges->v.arr.n);
	info_u32_key(g, "bos id", "tokenizer.ggml.bos_token_id");
	info_u32_key(g, "eos id", "tokenizer.ggml.eos_token_id");
	info_u32_key(g, "eot id", "tokenizer.ggml.eot_token_id");
	info_u32_key(g, "pad id", "tokenizer.ggml.padding_token_id");
	if (pllm_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b))
		printf("%-18s %s\n", "add bos", b ? "yes" : "no");
	if (pllm_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b))
		printf("%-18s %s\n", "add eos", b ? "yes" : "no");
	if (pllm_gguf_find(g, "tokenizer.chat_template"))
		printf("%-18s %s\n", "chat template", "yes");
}

int
cmd_info(int argc, char **argv)
{
	const char      *cmd = "info", *path = NULL;
	pllm_model_opts  mo = pllm_model_opts_default();
	pllm_model      *m = NULL;
	pllm_model_info  in;
	pllm_error       err;
	const pllm_gguf *g;
	uint32_t         i;
	int              a;

	for (a = 1; a < argc; a++)
	{
		if (argv[a][0] == '-' && argv[a][1])
			return cli_usage_error(cmd, "unknown option \"%s\"", argv[a]);
		if (path)
			return cli_usage_error(cmd, "only one FILE, got \"%s\" too", argv[a]);
		path = argv[a];
	}
	if (!path)
		return cli_usage_error(cmd, "a model FILE is required");
	/* The tokenizer is only described here, from its metadata. */
	mo.load_tokenizer = false;
	if (pllm_model_open_file(path, &mo, &m, &err) != PLLM_OK)
		return cli_engine_error(cmd, path, &err);
	pllm_model_get_info(m, &in);
	g = pllm_model_gguf(m);

	printf("%-18s %s\n", "file", path);
	printf("%-18s GGUF v%u, %llu bytes, %u tensors, %llu metadata keys\n", "format", g->version,
		   (unsigned long long) in.file_bytes, in.n_tensors, (unsigned long long) g->n_kv);
	printf("%-18s %s%s\n", "architecture", in.arch, in.is_encoder ? " (encoder)" : " (decoder)");
	if (in.name[0])
		printf("%-18s %s\n", "name", in.name);
	printf("%-18s %llu (%.2f M)\n", "parameters", (unsigned long long) in.n_params, in.n_params / 1e6);
	printf("%-18s %llu (%.2f MiB)\n", "tensor bytes", (unsigned long long) in.n_bytes,
		   in.n_bytes / 1048576.0);
	printf("%-18s", "tensor types");
	for (i = 0; i < in.n_types; i++)
		printf(" %s x%u", pllm_type_name(in.type_id[i]), in.type_count[i]);
	printf("\n%-18s %u\n", "layers", in.n_layer);
	printf("%-18s %u\n", "embedding", in.n_embd);
	printf("%-18s %u\n", "heads", in.n_head);
	printf("%-18s %u\n", "kv heads", in.n_head_kv);
	printf("%-18s %u\n", "head dim", in.head_dim);
	printf("%-18s %u\n", "feed-forward", in.n_ff);
	printf("%-18s %u\n", "vocab", in.n_vocab);
	printf("%-18s %u\n", "context (train)", in.n_ctx_train);
	if (!in.is_encoder)
	{
		printf("%-18s base %g, %s pairs, scaling %s", "rope", in.rope_base,
			   in.rope_neox ? "neox" : "interleaved", in.rope_scaling);
		if (strcmp(in.rope_scaling, "linear") == 0)
			printf(" (factor %g)", 1.0 / in.rope_freq_scale);
		printf("\n%-18s %s\n", "output", in.tied_output ? "tied to token_embd" : "separate output.weight");
	}
	printf("%-18s %g\n", "norm eps", in.norm_eps);
	info_tokenizer(g);
	pllm_model_close(m);
	return CLI_OK;
}
