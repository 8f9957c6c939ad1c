/*
 * cmd_eval.c -- `pg_llm eval`: run token ids as one batch from position 0 and
 * write the logits of every position (float32 little-endian, n_ids x n_vocab),
 * the format of the reference fixtures, so outputs can be compared byte-wise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg_llm/model.h"
#include "pg_llm/session.h"

/* Parse space/comma-separated ids; returns count or -1. */
static int
eval_parse_ids(const char *s, int32_t **out)
{
	size_t   cap = strlen(s) / 2 + 1;
	int32_t *ids = malloc(cap * sizeof(int32_t));
	int      n = 0;

	if (!ids)
		return -1;
	for (;;)
	{
		char *end;
		long  v;

		while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v < 0 || v > INT32_MAX || (size_t) n >= cap)
		{
			free(ids);
			return -1;
		}
		ids[n++] = (int32_t) v;
		s = end;
	}
	*out = ids;
	return n;
}

int
cmd_eval(int argc, char **argv)
{
	const char       *cmd = "eval", *model_path = NULL, *ids_text = NULL, *out_path = NULL, *v;
	pllm_session_opts so = pllm_session_opts_default();
	pllm_model       *m = NULL;
	pllm_session     *s = NULL;
	pllm_error        err;
	int32_t          *ids = NULL;
	int               n, i, rc = CLI_OK;
	long              lv;
	FILE             *f;

	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];

		if (!strcmp(a, "-m") || !strcmp(a, "--model"))
		{
			if (!(model_path = cli_value(cmd, argc, argv, &i)))
				return CLI_USAGE;
		}
		else if (!strcmp(a, "--ids"))
		{
			if (!(ids_text = cli_value(cmd, argc, argv, &i)))
				return CLI_USAGE;
		}
		else if (!strcmp(a, "--logits-out") || !strcmp(a, "-o"))
		{
			if (!(out_path = cli_value(cmd, argc, argv, &i)))
				return CLI_USAGE;
		}
		else if (!strcmp(a, "--threads") || !strcmp(a, "-t"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 1, 1024, &lv))
				return CLI_USAGE;
			so.n_threads = (int) lv;
		}
		else if (!strcmp(a, "--ctx") || !strcmp(a, "-c"))
		{
			if (!(v = cli_value(cmd, argc, argv, &i)) || !cli_parse_long(cmd, a, v, 1, 1 << 20, &lv))
				return CLI_USAGE;
			so.n_ctx = (uint32_t) lv;
		}
		else
			return cli_usage_error(cmd, "unknown option \"%s\"", a);
	}
	if (!model_path || !ids_text || !out_path)
		return cli_usage_error(cmd, "-m FILE, --ids \"...\" and --logits-out FILE are required");
	n = eval_parse_ids(ids_text, &ids);
	if (n < 0)
		return cli_usage_error(cmd, "--ids must be non-negative integers separated by spaces");
	if (n == 0)
	{
		free(ids);
		return cli_usage_error(cmd, "--ids is empty");
	}
	if (pllm_model_open_file(model_path, NULL, &m, &err) != PLLM_OK)
	{
		free(ids);
		return cli_engine_error(cmd, model_path, &err);
	}
	/* One batch holding every id, so every position's logits are kept. */
	if (so.n_ctx == 0 && (uint32_t) n > pllm_model_n_ctx_train(m))
		so.n_ctx = (uint32_t) n;
	so.n_batch = (uint32_t) n;
	if (pllm_session_create(m, &so, &s, &err) != PLLM_OK)
		rc = cli_engine_error(cmd, "could not create a session", &err);
	else if (pllm_session_eval(s, ids, n, true, &err) != PLLM_OK)
		rc = cli_engine_error(cmd, "evaluation failed", &err);
	else if (!(f = fopen(out_path, "wb")))
	{
		fprintf(stderr, "pg_llm eval: could not open \"%s\": %s\n", out_path, strerror(errno));
		rc = CLI_FAIL;
	}
	else
	{
		uint32_t nv = pllm_model_n_vocab(m);

		/* x86-64 is little-endian: the floats are written as they lie. */
		for (i = 0; i < n && rc == CLI_OK; i++)
			if (fwrite(pllm_session_logits(s, i), sizeof(float), nv, f) != nv)
				rc = CLI_FAIL;
		if (fclose(f) != 0)
			rc = CLI_FAIL;
		if (rc != CLI_OK)
			fprintf(stderr, "pg_llm eval: could not write \"%s\": %s\n", out_path, strerror(errno));
	}
	pllm_session_free(s);
	pllm_model_close(m);
	free(ids);
	return rc;
}
