/*
 * cmd_batch.c -- `pg_llm batch`: generate for many prompts at once through
 * pllm_batch_generate() (the entry point of llm.generate_batch), optionally
 * with a prefix cache, printing one JSON string per prompt and line.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pg_llm/batch.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"

static double
batch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* text as a JSON string literal */
static void
batch_print_json(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	puts("\"");
}

/* Append each line of stdin to *prompts (malloc'd copies); false when out of memory. */
static bool
batch_read_lines(char ***prompts, int *n, int *cap)
{
	char   *line = NULL;
	size_t  lcap = 0;
	ssize_t len;

	while ((len = getline(&line, &lcap, stdin)) >= 0)
	{
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (*n == *cap)
		{
			int    nc = *cap ? *cap * 2 : 64;
			char **p = realloc(*prompts, sizeof(char *) * (size_t) nc);

			if (!p)
				break;
			*prompts = p;
			*cap = nc;
		}
		if (!((*prompts)[*n] = strdup(line)))
			break;
		(*n)++;
	}
	free(line);
	return feof(stdin) != 0;
}

int
cmd_batch(int argc, char **argv)
{
	const char        *cmd = "batch", *model_path = NULL, *v;
	pllm_gen_params    gp = pllm_gen_params_default();
	pllm_batch_opts    bo = pllm_batch_opts_default();
	pllm_model        *m = NULL;
	pllm_prefix_cache *pc = NULL;
	pllm_gen_result   *res = NULL;
	pllm_batch_stats   bs;
	pllm_error         err;
	char             **prompts = NULL;
	bool               verbose = false, from_stdin = false;
	int                n = 0, cap = 0, i, rc = CLI_OK;
	long               lv;
	long               cache_mb = 0;
	double             t0;

	gp.max_tokens = 128;
	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		int         opt = cli_gen_option(cmd, argc, argv, &i, &gp);

		if (opt >= 0)
		{
			if (opt != CLI_OK)
				return opt;
		}
		else if (!strcmp(a, "-m") || !strcmp(a, "--model"))
		{
			if (!(model_path = cli_value(cmd, argc, argv, &i)))
				return CLI_USAGE;
		}
		else if (!strcmp(a, "--seqs"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 1, 1024, &lv))
				return CLI_USAGE;
			bo.n_seq = (int) lv;
		}
		else if (!strcmp(a, "--prefix-cache"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 0, 1 << 20, &cache_mb))
				return CLI_USAGE;
		}
		else if (!strcmp(a, "--threads") || !strcmp(a, "-t"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 1, 1024, &lv))
				return CLI_USAGE;
			bo.n_threads = (int) lv;
		}
		else if (!strcmp(a, "--ctx") || !strcmp(a, "-c"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 1, 1 << 20, &lv))
				return CLI_USAGE;
			bo.n_ctx = (uint32_t) lv;
		}
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			verbose = true;
		else if (!strcmp(a, "-"))
			from_stdin = true;
		else if (a[0] == '-' && a[1] != '\0')
			return cli_usage_error(cmd, "unknown option \"%s\"", a);
		else
		{
			if (n == cap)
			{
				cap = cap ? cap * 2 : 16;
				prompts = realloc(prompts, sizeof(char *) * (size_t) cap);
				if (!prompts)
					return cli_usage_error(cmd, "out of memory");
			}
			if (!(prompts[n++] = strdup(a)))
				return cli_usage_error(cmd, "out of memory");
		}
	}
	if (!model_path)
		rc = cli_usage_error(cmd, "a model is required (-m FILE)");
	else if (from_stdin && !batch_read_lines(&prompts, &n, &cap))
	{
		fprintf(stderr, "pg_llm %s: could not read the prompts from stdin\n", cmd);
		rc = CLI_FAIL;
	}
	else if (n == 0)
		rc = cli_usage_error(cmd, "no prompts (give them as arguments, or - for stdin lines)");
	if (rc != CLI_OK)
		goto done;

	if (pllm_model_open_file(model_path, NULL, &m, &err) != PLLM_OK)
	{
		rc = cli_engine_error(cmd, model_path, &err);
		goto done;
	}
	if (cache_mb > 0)
	{
		if (pllm_prefix_cache_create(m, bo.kv_type, (size_t) cache_mb << 20, &pc, &err) != PLLM_OK)
		{
			rc = cli_engine_error(cmd, "could not create the prefix cache", &err);
			goto done;
		}
		bo.prefix_cache = pc;
	}
	res = calloc((size_t) n, sizeof(pllm_gen_result));
	if (!res)
	{
		rc = cli_usage_error(cmd, "out of memory");
		goto done;
	}
	t0 = batch_now();
	if (pllm_batch_generate(m, (const char *const *) prompts, NULL, n, &gp, NULL, &bo, res, &bs, &err) != PLLM_OK)
		rc = cli_engine_error(cmd, "generation failed", &err);
	else
	{
		for (i = 0; i < n; i++)
			batch_print_json(res[i].text, res[i].text_len);
		if (verbose)
		{
			double dt = batch_now() - t0;

			fprintf(stderr, "pg_llm batch: %d prompts, %lld prompt tokens computed (%lld from the prefix cache), "
					"%lld generated, %lld passes, %.3f s (%.1f generated tokens/s)\n",
					n, (long long) bs.n_prompt_tokens, (long long) bs.n_reused_tokens, (long long) bs.n_gen_tokens,
					(long long) bs.n_forward, dt, dt > 0 ? bs.n_gen_tokens / dt : 0.0);
		}
	}
done:
	for (i = 0; res && i < n; i++)
		pllm_gen_result_free(&res[i]);
	free(res);
	for (i = 0; i < n; i++)
		free(prompts[i]);
	free(prompts);
	pllm_prefix_cache_free(pc);
	pllm_model_close(m);
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = CLI_FAIL;
	return rc;
}
