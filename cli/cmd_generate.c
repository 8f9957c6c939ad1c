/*
 * cmd_generate.c -- `pg_llm generate`: stream a model's continuation of a
 * prompt to stdout through pllm_generate(), the same entry point SQL uses.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"

static bool
gen_print_piece(const char *text, size_t len, void *user)
{
	(void) user;
	fwrite(text, 1, len, stdout);
	fflush(stdout);
	return true;
}

static double
gen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
cmd_generate(int argc, char **argv)
{
	const char        *cmd = "generate", *model_path = NULL, *prompt = NULL, *v;
	pllm_gen_params    gp = pllm_gen_params_default();
	pllm_session_opts  so = pllm_session_opts_default();
	pllm_model        *m = NULL;
	pllm_session      *s = NULL;
	pllm_gen_result    res;
	pllm_error         err;
	bool               verbose = false;
	int                i, rc = CLI_OK;
	long               lv;
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
		else if (!strcmp(a, "-p") || !strcmp(a, "--prompt"))
		{
			if (!(prompt = cli_value(cmd, argc, argv, &i)))
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
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			verbose = true;
		else
			return cli_usage_error(cmd, "unknown option \"%s\"", a);
	}
	if (!model_path)
		return cli_usage_error(cmd, "a model is required (-m FILE)");
	if (!prompt)
		return cli_usage_error(cmd, "a prompt is required (-p TEXT)");

	if (pllm_model_open_file(model_path, NULL, &m, &err) != PLLM_OK)
		return cli_engine_error(cmd, model_path, &err);
	if (pllm_session_create(m, &so, &s, &err) != PLLM_OK)
	{
		rc = cli_engine_error(cmd, "could not create a session", &err);
		goto done;
	}
	t0 = gen_now();
	if (pllm_generate(s, prompt, strlen(prompt), &gp, gen_print_piece, NULL, &res, &err) != PLLM_OK)
	{
		fflush(stdout);
		rc = cli_engine_error(cmd, "generation failed", &err);
	}
	else
	{
		static const char *const reasons[] = {"none", "end of generation", "stop string", "max tokens",
											  "context full", "callback"};

		putchar('\n');
		if (verbose)
		{
			double dt = gen_now() - t0;

			fprintf(stderr, "pg_llm generate: %d prompt tokens, %d generated, stop: %s, %.3f s (%.1f tokens/s)\n",
					res.n_prompt, res.n_gen, reasons[res.stop], dt, dt > 0 ? (res.n_prompt + res.n_gen) / dt : 0.0);
		}
	}
	pllm_gen_result_free(&res);
done:
	pllm_session_free(s);
	pllm_model_close(m);
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = CLI_FAIL;
	return rc;
}
