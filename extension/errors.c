/*
 * errors.c -- the one mapping from engine status codes to PostgreSQL errors
 * (SQLSTATE, message, detail, hint), as tabled in DESIGN.md.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/errcodes.h"

#include "pg_llm_ext.h"

typedef struct PllmErrorMapping
{
	int         sqlstate;
	const char *hint;
} PllmErrorMapping;

static const PllmErrorMapping pllm_error_map[] = {
	[PLLM_ERR_IO] = {0, "Check that the file exists and that the server's operating system user can read it."},
	[PLLM_ERR_FORMAT] = {ERRCODE_INVALID_BINARY_REPRESENTATION, "The file is not a valid GGUF model; download or convert it again."},
	[PLLM_ERR_UNSUPPORTED] = {ERRCODE_FEATURE_NOT_SUPPORTED, "See the README for the supported architectures and tensor types."},
	[PLLM_ERR_NOMEM] = {ERRCODE_OUT_OF_MEMORY, "Free memory, or use a smaller or more strongly quantized model."},
	[PLLM_ERR_INVALID_ARG] = {ERRCODE_INVALID_PARAMETER_VALUE, "Check the argument values against the documentation."},
	[PLLM_ERR_LIMIT] = {ERRCODE_PROGRAM_LIMIT_EXCEEDED, "Shorten the input or raise pg_llm.context_length up to the model's context."},
	[PLLM_ERR_CANCELLED] = {ERRCODE_QUERY_CANCELED, NULL},
	[PLLM_ERR_INTERNAL] = {ERRCODE_INTERNAL_ERROR, "This is a bug in pg_llm; please report it."},
};

int
PllmStatusSqlstate(pllm_status code)
{
	if (code == PLLM_ERR_IO)
		return ERRCODE_IO_ERROR;   /* refined by errcode_for_file_access() below */
	if ((unsigned) code < lengthof(pllm_error_map) && pllm_error_map[code].sqlstate != 0)
		return pllm_error_map[code].sqlstate;
	return ERRCODE_INTERNAL_ERROR;
}

void
PllmReportError(const pllm_error *err, const char *what)
{
	pllm_status code = err->code;
	const char *hint = NULL;

	if (code == PLLM_ERR_CANCELLED)
	{
		/* the engine stopped because an interrupt is pending: let it fire */
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED),
						errmsg("canceling statement due to user request")));
	}
	if ((unsigned) code < lengthof(pllm_error_map))
		hint = pllm_error_map[code].hint;
	if (code == PLLM_ERR_IO)
	{
		errno = err->sys_errno;
		ereport(ERROR, (errcode_for_file_access(),
						errmsg("%s", what),
						errdetail("%s", err->msg),
						hint ? errhint("%s", hint) : 0));
	}
	ereport(ERROR, (errcode(PllmStatusSqlstate(code)),
					errmsg("%s", what),
					err->msg[0] ? errdetail("%s", err->msg) : 0,
					hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}
