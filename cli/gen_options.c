/*
 * gen_options.c -- the sampling and stopping options that `generate` and
 * `batch` share (-n, --temp, --top-k, --top-p, --min-p, --repeat-penalty,
 * --seed, --stop, --ignore-eos), parsed into pllm_gen_params in one place.
 */
#include <string.h>

#include "cli.h"

int
cli_gen_option(const char *cmd, int argc, char **argv, int *i, pllm_gen_params *gp)
{
	const char *a = argv[*i];
	const char *v;
	long        lv;
	unsigned long long seed;
	int         n_stop;

	if (!strcmp(a, "--ignore-eos"))
	{
		gp->ignore_eog = true;
		return CLI_OK;
	}
	if (strcmp(a, "-n") && strcmp(a, "--n-predict") && strcmp(a, "--temp") && strcmp(a, "--top-k") &&
		strcmp(a, "--top-p") && strcmp(a, "--min-p") && strcmp(a, "--repeat-penalty") &&
		strcmp(a, "--seed") && strcmp(a, "--stop"))
		return -1;
	if (!(v = cli_value(cmd, argc, argv, i)))
		return CLI_USAGE;
	if (!strcmp(a, "-n") || !strcmp(a, "--n-predict"))
	{
		if (!cli_parse_long(cmd, a, v, 0, 1 << 20, &lv))
			return CLI_USAGE;
		gp->max_tokens = (int32_t) lv;
	}
	else if (!strcmp(a, "--temp"))
		return cli_parse_float(cmd, a, v, 0, 100, &gp->sampling.temperature) ? CLI_OK : CLI_USAGE;
	else if (!strcmp(a, "--top-k"))
	{
		if (!cli_parse_long(cmd, a, v, 0, 1 << 24, &lv))
			return CLI_USAGE;
		gp->sampling.top_k = (int32_t) lv;
	}
	else if (!strcmp(a, "--top-p"))
		return cli_parse_float(cmd, a, v, 0, 1, &gp->sampling.top_p) ? CLI_OK : CLI_USAGE;
	else if (!strcmp(a, "--min-p"))
		return cli_parse_float(cmd, a, v, 0, 1, &gp->sampling.min_p) ? CLI_OK : CLI_USAGE;
	else if (!strcmp(a, "--repeat-penalty"))
		return cli_parse_float(cmd, a, v, 0.01, 100, &gp->sampling.repeat_penalty) ? CLI_OK : CLI_USAGE;
	else if (!strcmp(a, "--seed"))
	{
		if (!cli_parse_u64(cmd, a, v, &seed))
			return CLI_USAGE;
		gp->sampling.seed = seed;
	}
	else
	{
		for (n_stop = 0; n_stop < PLLM_GEN_MAX_STOP && gp->stop[n_stop]; n_stop++)
			;
		if (n_stop >= PLLM_GEN_MAX_STOP)
			return cli_usage_error(cmd, "at most %d --stop strings", PLLM_GEN_MAX_STOP);
		if (*v)
			gp->stop[n_stop] = v;
	}
	return CLI_OK;
}
