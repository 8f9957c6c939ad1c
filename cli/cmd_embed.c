/*
 * cmd_embed.c -- `pg_llm embed`: one embedding per input, printed as a JSON
 * array per line (%.9g, enough to round-trip a float). Inputs are TEXT
 * arguments, stdin lines (-), or token ids (--ids "101 7 102") that bypass the
 * tokenizer; they run in groups of --batch inputs per engine call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg_llm/embed.h"
#include "pg_llm/model.h"

typedef struct embed_inputs
{
	char   **texts;     /* texts (owned when read from stdin) */
	int32_t **ids;      /* or id lists (owned) */
	int     *n_ids;
	int      n, cap;
	bool     owned;
} embed_inputs;

static bool
inputs_grow(embed_inputs *in)
{
	int       cap = in->cap ? in->cap * 2 : 16;
	char    **t = realloc(in->texts, (size_t) cap * sizeof(*t));
	int32_t **i;
	int      *n;

	if (t)
		in->texts = t;
	i = t ? realloc(in->ids, (size_t) cap * sizeof(*i)) : NULL;
	if (i)
		in->ids = i;
	n = i ? realloc(in->n_ids, (size_t) cap * sizeof(*n)) : NULL;
	if (!n)
		return false;
	in->n_ids = n;
	in->cap = cap;
	return true;
}

static void
inputs_free(embed_inputs *in)
{
	for (int i = 0; i < in->n; i++)
	{
		if (in->owned)
			free(in->texts[i]);
		free(in->ids[i]);
	}
	free(in->texts);
	free(in->ids);
	free(in->n_ids);
}

/* Parse "101 7 8 102" (spaces or commas) into a new id list. */
static bool
parse_ids(const char *s, int32_t **out, int *n_out)
{
	size_t   cap = strlen(s) / 2 + 1;
	int32_t *ids = malloc(cap * sizeof(int32_t));
	int      n = 0;

	if (!ids)
		return false;
	for (;;)
	{
		char *end;
		long  v;

		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		if (!*s)
			break;
		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v < 0 || v > INT32_MAX || (*end && *end != ' ' && *end != ',' && *end != '\t'))
		{
			free(ids);
			return false;
		}
		ids[n++] = (int32_t) v;
		s = end;
	}
	if (n == 0)
	{
		free(ids);
		return false;
	}
	*out = ids;
	*n_out = n;
	return true;
}

/* One text per stdin line (without the newline); empty lines are inputs too. */
static bool
read_stdin_lines(embed_inputs *in)
{
	char   *line = NULL;
	size_t  cap = 0;
	ssize_t got;

	in->owned = true;
	while ((got = getline(&line, &cap, stdin)) >= 0)
	{
		if (got > 0 && line[got - 1] == '\n')
			line[--got] = '\0';
		if (got > 0 && line[got - 1] == '\r')
			line[--got] = '\0';
		if (in->n == in->cap && !inputs_grow(in))
			break;
		in->texts[in->n] = line;
		in->ids[in->n] = NULL;
		in->n_ids[in->n++] = 0;
		line = NULL;
		cap = 0;
	}
	free(line);
	return !ferror(stdin);
}

static void
print_vector(const float *v, uint32_t dim)
{
	putchar('[');
	for (uint32_t i = 0; i < dim; i++)
		printf(i ? ",%.9g" : "%.9g", (double) v[i]);
	fputs("]\n", stdout);
}

int
cmd_embed(int argc, char **argv)
{
	const char     *cmd = "embed", *path = NULL;
	pllm_embed_opts eo = pllm_embed_opts_default();
	pllm_model_opts mo = pllm_model_opts_default();
	embed_inputs    in = {0};
	bool            from_stdin = false, use_ids = false;
	long            batch = 32, lv;
	pllm_model     *m = NULL;
	pllm_error      err = {0};
	float          *out = NULL;
	bool           *trunc = NULL;
	int             rc = CLI_OK;

	for (int a = 1; a < argc; a++)
	{
		const char *s = argv[a], *v;

		if (!strcmp(s, "-m") || !strcmp(s, "--model"))
		{
			if (!(path = cli_value(cmd, argc, argv, &a)))
				goto usage;
		}
		else if (!strcmp(s, "--batch") || !strcmp(s, "-b"))
		{
			if (!(v = cli_value(cmd, argc, argv, &a)) || !cli_parse_long(cmd, s, v, 1, 1 << 20, &batch))
				goto usage;
		}
		else if (!strcmp(s, "--threads") || !strcmp(s, "-t"))
		{
			if (!(v = cli_value(cmd, argc, argv, &a)) || !cli_parse_long(cmd, s, v, 1, 64, &lv))
				goto usage;
			eo.n_threads = (int) lv;
		}
		else if (!strcmp(s, "--pooling"))
		{
			if (!(v = cli_value(cmd, argc, argv, &a)))
				goto usage;
			if (!strcmp(v, "mean"))
				eo.pooling = PLLM_POOLING_MEAN;
			else if (!strcmp(v, "cls"))
				eo.pooling = PLLM_POOLING_CLS;
			else if (!strcmp(v, "last"))
				eo.pooling = PLLM_POOLING_LAST;
			else if (!strcmp(v, "model"))
				eo.pooling = PLLM_POOLING_MODEL;
			else
			{
				cli_usage_error(cmd, "invalid value \"%s\" for --pooling (mean, cls, last or model)", v);
				goto usage;
			}
		}
		else if (!strcmp(s, "--no-normalize"))
			eo.normalize = false;
		else if (!strcmp(s, "--no-truncate"))
			eo.truncate = false;
		else if (!strcmp(s, "--ids"))
		{
			if (!(v = cli_value(cmd, argc, argv, &a)))
				goto usage;
			if (in.n == in.cap && !inputs_grow(&in))
			{
				fprintf(stderr, "pg_llm embed: out of memory\n");
				rc = CLI_FAIL;
				goto done;
			}
			if (!parse_ids(v, &in.ids[in.n], &in.n_ids[in.n]))
			{
				cli_usage_error(cmd, "invalid --ids \"%s\" (non-negative integers separated by spaces)", v);
				goto usage;
			}
			in.texts[in.n++] = NULL;
			use_ids = true;
		}
		else if (!strcmp(s, "-"))
			from_stdin = true;
		else if (!strcmp(s, "--"))
		{
			while (++a < argc)
			{
				if (in.n == in.cap && !inputs_grow(&in))
				{
					fprintf(stderr, "pg_llm embed: out of memory\n");
					rc = CLI_FAIL;
					goto done;
				}
				in.ids[in.n] = NULL;
				in.texts[in.n++] = argv[a];
			}
		}
		else if (s[0] == '-' && s[1])
		{
			cli_usage_error(cmd, "unknown option \"%s\"", s);
			goto usage;
		}
		else
		{
			if (in.n == in.cap && !inputs_grow(&in))
			{
				fprintf(stderr, "pg_llm embed: out of memory\n");
				rc = CLI_FAIL;
				goto done;
			}
			in.ids[in.n] = NULL;
			in.texts[in.n++] = (char *) s;
		}
	}
	if (!path)
	{
		cli_usage_error(cmd, "a model is required (-m FILE)");
		goto usage;
	}
	if (use_ids && (from_stdin || in.n != 0))
	{
		for (int i = 0; i < in.n; i++)
			if (!in.ids[i])
			{
				cli_usage_error(cmd, "give either texts or --ids, not both");
				goto usage;
			}
		if (from_stdin)
		{
			cli_usage_error(cmd, "give either - (stdin) or --ids, not both");
			goto usage;
		}
	}
	if (from_stdin && in.n)
	{
		cli_usage_error(cmd, "give TEXT arguments or - (stdin), not both");
		goto usage;
	}
	if (!from_stdin && in.n == 0)
	{
		cli_usage_error(cmd, "nothing to embed: give TEXT..., - (stdin lines) or --ids \"...\"");
		goto usage;
	}
	if (from_stdin && !read_stdin_lines(&in))
	{
		fprintf(stderr, "pg_llm embed: could not read stdin: %s\n", strerror(errno));
		rc = CLI_FAIL;
		goto done;
	}

	mo.load_tokenizer = !use_ids;
	if (pllm_model_open_file(path, &mo, &m, &err) != PLLM_OK)
	{
		rc = cli_engine_error(cmd, path, &err);
		goto done;
	}
	out = malloc((size_t) batch * pllm_embed_dim(m) * sizeof(float));
	trunc = malloc((size_t) batch * sizeof(bool));
	if (!out || !trunc)
	{
		fprintf(stderr, "pg_llm embed: out of memory\n");
		rc = CLI_FAIL;
		goto done;
	}
	for (int first = 0; first < in.n; first += (int) batch)
	{
		int         k = in.n - first < batch ? in.n - first : (int) batch;
		pllm_status st;

		if (use_ids)
			st = pllm_embed_ids(m, (const int32_t *const *) in.ids + first, in.n_ids + first, k, &eo, out,
								trunc, &err);
		else
			st = pllm_embed_texts(m, (const char *const *) in.texts + first, NULL, k, &eo, out, trunc, &err);
		if (st != PLLM_OK)
		{
			rc = cli_engine_error(cmd, "embedding failed", &err);
			goto done;
		}
		for (int i = 0; i < k; i++)
		{
			if (trunc[i])
				fprintf(stderr, "pg_llm embed: input %d was truncated to %u tokens\n", first + i,
						pllm_embed_max_tokens(m));
			print_vector(out + (size_t) i * pllm_embed_dim(m), pllm_embed_dim(m));
		}
	}
	if (fflush(stdout) != 0)
		rc = CLI_FAIL;
	goto done;
usage:
	rc = CLI_USAGE;
done:
	free(out);
	free(trunc);
	pllm_model_close(m);
	inputs_free(&in);
	return rc;
}
