/*
 * cli.h -- shared pieces of the pg_llm command: the command table entry type,
 * strict option-value parsing and error reporting. Every command returns the
 * process exit status: 0 ok, 1 failure, 2 bad usage.
 */
#ifndef PG_LLM_CLI_H
#define PG_LLM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "pg_llm/pllm.h"
#include "pg_llm/sampler.h"

#define CLI_OK    0
#define CLI_FAIL  1
#define CLI_USAGE 2

/* argv[0] is the command name; options follow. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

typedef struct cli_command
{
	const char *name;
	cli_cmd_fn  run;
	const char *synopsis;   /* one line for `pg_llm --help` */
	const char *help;       /* options, for `pg_llm CMD --help` */
} cli_command;

/* Commands (cmd_*.c). Adding a command = one function + one line in main.c's table. */
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_batch(int argc, char **argv);

/* Prints "pg_llm CMD: message" to stderr; returns CLI_USAGE. */
int  cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "pg_llm CMD: what: <engine message>" to stderr; returns CLI_FAIL. */
int  cli_engine_error(const char *cmd, const char *what, const pllm_error *err);

/*
 * For an option at argv[*i] that takes a value: advance *i and return the value,
 * or report "option X needs a value" and return NULL.
 */
const char *cli_value(const char *cmd, int argc, char **argv, int *i);
/* Whole-string numeric parsing within [lo, hi]; report and return false otherwise. */
bool cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
bool cli_parse_u64(const char *cmd, const char *opt, const char *s, unsigned long long *out);
bool cli_parse_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out);

/*
 * If argv[*i] is a sampling/stopping option shared by generate and batch, parse
 * it (advancing *i past its value) into gp and return CLI_OK or CLI_USAGE;
 * return -1 when it is not one of them.
 */
int  cli_gen_option(const char *cmd, int argc, char **argv, int *i, pllm_gen_params *gp);

/* True for "-h" / "--help". */
bool cli_is_help(const char *arg);
/* Print the help text of a command (from the table in main.c). */
void cli_print_command_help(const char *cmd, FILE *f);

#endif
