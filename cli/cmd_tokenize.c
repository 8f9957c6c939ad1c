/*
 * cmd_tokenize.c -- `pg_llm tokenize` (text -> ids on one line) and
 * `pg_llm detokenize` (ids -> text), using the tokenizer of a GGUF model or of
 * a Hugging Face tokenizer.json.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pg_llm/model.h"

#include "pg_llm/tokenizer.h"


/* Read all of stdin (exact bytes). */
static char *
tok_read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char  *buf = malloc(cap);

	while (buf && (got = fread(buf + n, 1, cap - n, stdin)) > 0)
	{
		n += got;
		if (n == cap)
		{
			char *nb = realloc(buf, cap * 2);

			if (!nb)
			{
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf && ferror(stdin))
	{
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int
cmd_tokenize(int argc, char **argv)
{
	const char     *cmd = "tokenize", *path = NULL, *text = NULL;
	bool            add_special = true, parse_special = false, from_stdin = false;
	pllm_tokenizer *tok = NULL;
	pllm_error      err;
	char           *buf = NULL;
	size_t          len = 0, n = 0, i;
	int32_t        *ids = NULL;
	int             a, rc = CLI_OK;

	for (a = 1; a < argc; a++)
	{
		if (!strcmp(argv[a], "-m") || !strcmp(argv[a], "--model"))
		{
			if (!(path = cli_value(cmd, argc, argv, &a)))
				return CLI_USAGE;
		}
		else if (!strcmp(argv[a], "--no-special"))
			add_special = false;
		else if (!strcmp(argv[a], "--parse-special"))
			parse_special = true;
		else if (!strcmp(argv[a], "-"))
			from_stdin = true;
		else if (!strcmp(argv[a], "--"))
		{
			if (a + 1 < argc)
				text = argv[++a];
		}
		else if (argv[a][0] == '-' && argv[a][1])
			return cli_usage_error(cmd, "unknown option \"%s\"", argv[a]);
		else if (text)
			return cli_usage_error(cmd, "give the text as one argument (quote it)");
		else
			text = argv[a];
	}
	if (!path)
		return cli_usage_error(cmd, "a model or tokenizer.json is required (-m FILE)");
	if (from_stdin == (text != NULL))
		return cli_usage_error(cmd, "give TEXT or - (read stdin), exactly one");
	if (from_stdin)
	{
		if (!(buf = tok_read_stdin(&len)))
		{
			fprintf(stderr, "pg_llm tokenize: could not read stdin: %s\n", strerror(errno));
			return CLI_FAIL;
		}
		text = buf;
	}
	else
		len = strlen(text);
	if (pllm_tok_open_file(path, &tok, &err) != PLLM_OK)
	{
		free(buf);
		return cli_engine_error(cmd, path, &err);
	}
	ids = malloc(pllm_tok_max_tokens(len) * sizeof(int32_t));
	if (!ids)
		rc = CLI_FAIL;
	else if (pllm_tok_encode(tok, text, len, add_special, parse_special, ids, pllm_tok_max_tokens(len), &n, &err) != PLLM_OK)
		rc = cli_engine_error(cmd, "tokenization failed", &err);
	else
	{
		for (i = 0; i < n; i++)
			printf(i ? " %d" : "%d", (int) ids[i]);
		putchar('\n');
	}
	free(ids);
	free(buf);
	pllm_tok_free(tok);
	return rc;
}

int
cmd_detokenize(int argc, char **argv)
{
	const char     *cmd = "detokenize", *path = NULL;
	pllm_tokenizer *tok = NULL;
	pllm_error      err;
	int32_t        *ids;
	size_t          n = 0, cap = 0, len = 0;
	char           *out = NULL;
	int             a, rc = CLI_OK;

	for (a = 1; a < argc; a++)
	{
		if (!strcmp(argv[a], "-m") || !strcmp(argv[a], "--model"))
		{
			if (!(path = cli_value(cmd, argc, argv, &a)))
				return CLI_USAGE;
		}
		else if (argv[a][0] == '-' && argv[a][1] && (argv[a][1] < '0' || argv[a][1] > '9'))
			return cli_usage_error(cmd, "unknown option \"%s\"", argv[a]);
		else
			cap += strlen(argv[a]) / 2 + 1;
	}
	if (!path)
		return cli_usage_error(cmd, "a model or tokenizer.json is required (-m FILE)");
	ids = malloc((cap + 1) * sizeof(int32_t));
	if (!ids)
		return CLI_FAIL;
	for (a = 1; a < argc; a++)
	{
		const char *s = argv[a];

		if (!strcmp(s, "-m") || !strcmp(s, "--model"))
		{
			a++;
			continue;
		}
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
			if (end == s || errno || v < 0 || v > INT32_MAX || n >= cap)
			{
				free(ids);
				return cli_usage_error(cmd, "invalid token id in \"%s\"", argv[a]);
			}
			ids[n++] = (int32_t) v;
			s = end;
		}
	}
	if (pllm_tok_open_file(path, &tok, &err) != PLLM_OK)
	{
		free(ids);
		return cli_engine_error(cmd, path, &err);
	}
	if (pllm_tok_decode_alloc_flags(tok, ids, n, PLLM_TOK_DECODE_INVERSE,
									&out, &len, &err) != PLLM_OK)
		rc = cli_engine_error(cmd, "detokenization failed", &err);
	else
	{
		fwrite(out, 1, len, stdout);
		putchar('\n');
	}
	free(out);
	free(ids);
	pllm_tok_free(tok);
	return rc;
}

