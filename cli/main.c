/*
 * main.c -- the pg_llm command: dispatches `pg_llm COMMAND ...` through a table
 * of commands, and answers --version and --help. Diagnostics go to stderr,
 * results to stdout.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
	{"generate", cmd_generate, "generate -m FILE -p TEXT [options]   stream a continuation of TEXT",
	 "usage: pg_llm generate -m FILE -p TEXT [options]\n"
	 "Streams the continuation of TEXT (not TEXT itself) to stdout.\n"
	 "  -m, --model FILE        GGUF model\n"
	 "  -p, --prompt TEXT       prompt text\n"
	 "  -n, --n-predict N       tokens to generate at most (default 128)\n"
	 "      --temp T            temperature; 0 = greedy (default 0.8)\n"
	 "      --top-k K           keep the K most likely tokens; 0 = off (default 40)\n"
	 "      --top-p P           nucleus sampling; 1 = off (default 0.95)\n"
	 "      --min-p P           drop tokens below P x the top probability; 0 = off (default 0.05)\n"
	 "      --repeat-penalty R  penalise the last 64 tokens; 1 = off (default 1.0)\n"
	 "      --seed S            RNG seed (default 0); same seed, same output\n"
	 "      --stop TEXT         stop before TEXT (repeatable, up to 8)\n"
	 "      --threads N         compute threads (default: online cores)\n"
	 "      --ctx N             context length (default: the model's, at most 4096)\n"
	 "      --ignore-eos        do not stop at end-of-generation tokens\n"
	 "  -v, --verbose           print timing and token counts to stderr\n"},
	{"batch", cmd_batch, "batch -m FILE [options] PROMPT... | -   generate for many prompts at once (one JSON string per line)",
	 "usage: pg_llm batch -m FILE [options] PROMPT...\n       pg_llm batch -m FILE [options] -\n"
	 "Decodes the prompts (arguments, or stdin lines with -) together and prints each\n"
	 "continuation as a JSON string on its own line, in prompt order.\n"
	 "  -m, --model FILE        GGUF model\n"
	 "  -n, --n-predict N       tokens to generate at most per prompt (default 128)\n"
	 "      --temp T            temperature; 0 = greedy (default 0.8)\n"
	 "      --seed S            RNG seed of every sequence (default 0)\n"
	 "      --stop TEXT         stop before TEXT (repeatable, up to 8)\n"
	 "      --seqs N            sequences decoded together (default 16)\n"
	 "      --prefix-cache MB   reuse the KV state of shared prompt beginnings, up to MB\n"
	 "      --threads N         compute threads (default: online cores)\n"
	 "      --ctx N             context length per sequence (default: the model's, at most 4096)\n"
	 "      --ignore-eos        do not stop at end-of-generation tokens\n"
	 "  -v, --verbose           print timing and token counts to stderr\n"},
	{"tokenize", cmd_tokenize, "tokenize -m FILE [--no-special] [--parse-special] [TEXT | -]   print token ids",
	 "usage: pg_llm tokenize -m FILE [--no-special] [--parse-special] [TEXT | -]\n"
	 "Prints the token ids of TEXT (or of stdin's exact bytes with -) on one line.\n"
	 "  -m, --model FILE    GGUF model or Hugging Face tokenizer.json\n"
	 "  --no-special        do not add BOS/EOS-style special tokens\n"
	 "  --parse-special     turn special-token text (e.g. <|im_start|>) into its id\n"},
	{"detokenize", cmd_detokenize, "detokenize -m FILE IDS...   print the text of token ids",
	 "usage: pg_llm detokenize -m FILE IDS...\n"
	 "Prints the text of the ids (separate arguments or one space-separated argument).\n"
	 "  -m, --model FILE    GGUF model or Hugging Face tokenizer.json\n"},
	{"eval", cmd_eval, "eval -m FILE --ids \"1 2 3\" --logits-out OUT.bin   logits of every position",
	 "usage: pg_llm eval -m FILE --ids \"1 2 3\" --logits-out OUT.bin [--threads N] [--ctx N]\n"
	 "Runs the ids as one batch from position 0 and writes float32 little-endian\n"
	 "logits for every position: n_ids rows of n_vocab floats.\n"},
	{"embed", cmd_embed, "embed -m FILE [options] TEXT... | - | --ids \"101 7 102\"...   one embedding per line (JSON)",
	 "usage: pg_llm embed -m FILE [options] TEXT...\n       pg_llm embed -m FILE [options] -\n       pg_llm embed -m FILE [options] --ids \"101 7 8 102\" [--ids \"...\"]...\n"
	 "Prints one vector per input and line, as a JSON array (%.9g). Inputs: TEXT arguments,\n"
	 "stdin lines (-), or token ids (--ids, repeatable; bypasses the tokenizer).\n"
	 "  -m, --model FILE      GGUF model (bert-family encoder, or a decoder)\n"
	 "  -b, --batch N         inputs per engine call (default 32)\n"
	 "      --no-normalize    print raw pooled vectors (default: L2-normalised)\n"
	 "      --pooling P       mean, cls, last or model (default: the model's)\n"
	 "      --no-truncate     fail on inputs longer than the model's context (default: cut them,\n"
	 "                        keeping the final [SEP], and say so on stderr)\n"
	 "  -t, --threads N       compute threads (default: online cores)\n"},
	{"info", cmd_info, "info FILE   architecture, hyper-parameters, tensor types, tokenizer",
	 "usage: pg_llm info FILE\n"
	 "Prints what the model file holds: architecture, hyper-parameters, tensor\n"
	 "types, sizes and tokenizer.\n"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
print_help(FILE *f)
{
	char   info[512];
	size_t i;

	fprintf(f, "usage: pg_llm COMMAND [options]\n       pg_llm --version | --help\n\n"
			"Runs GGUF language models on the CPU (the engine of the pg_llm PostgreSQL extension).\n\n"
			"commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fprintf(f, "\n`pg_llm COMMAND --help` lists a command's options.\n");
	fprintf(f, "Exit status: 0 success, 1 failure (bad file, engine error), 2 bad arguments.\n");
	fprintf(f, "Environment: PLLM_KERNELS=scalar|avx2|avx512 forces a kernel family.\n\n%s\n",
			pllm_build_info(info, sizeof(info)));
}

void
cli_print_command_help(const char *cmd, FILE *f)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, cmd) == 0)
			fputs(commands[i].help, f);
}

bool
cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pg_llm %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"pg_llm %s --help\".\n", cmd);
	return CLI_USAGE;
}

int
cli_engine_error(const char *cmd, const char *what, const pllm_error *err)
{
	fprintf(stderr, "pg_llm %s: %s: %s (%s)\n", cmd, what, err->msg[0] ? err->msg : "failed",
			pllm_status_name(err->code));
	return CLI_FAIL;
}

const char *
cli_value(const char *cmd, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
	{
		cli_usage_error(cmd, "option %s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

bool
cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long  v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
	{
		cli_usage_error(cmd, "invalid value \"%s\" for %s (an integer from %ld to %ld)", s, opt, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

bool
cli_parse_u64(const char *cmd, const char *opt, const char *s, unsigned long long *out)
{
	char              *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
	{
		cli_usage_error(cmd, "invalid value \"%s\" for %s (a non-negative integer)", s, opt);
		return false;
	}
	*out = v;
	return true;
}

bool
cli_parse_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out)
{
	char  *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
	{
		cli_usage_error(cmd, "invalid value \"%s\" for %s (a number from %g to %g)", s, opt, lo, hi);
		return false;
	}
	*out = (float) v;
	return true;
}

int
main(int argc, char **argv)
{
	char   info[512];
	size_t i;

	if (argc < 2)
	{
		print_help(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
	{
		printf("%s\n", pllm_build_info(info, sizeof(info)));
		return CLI_OK;
	}
	if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0)
	{
		if (argc > 2 && strcmp(argv[1], "help") == 0)
		{
			for (i = 0; i < N_COMMANDS; i++)
				if (strcmp(commands[i].name, argv[2]) == 0)
				{
					fputs(commands[i].help, stdout);
					return CLI_OK;
				}
		}
		print_help(stdout);
		return CLI_OK;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
		{
			int j;

			for (j = 2; j < argc; j++)
				if (cli_is_help(argv[j]))
				{
					fputs(commands[i].help, stdout);
					return CLI_OK;
				}
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "pg_llm: unknown command \"%s\"\nTry \"pg_llm --help\".\n", argv[1]);
	return CLI_USAGE;
}
