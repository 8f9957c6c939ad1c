/*
 * error.c -- filling pllm_error records. The engine never prints: every failure
 * becomes a status code plus a message that the caller (CLI or extension) shows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pg_llm/pllm.h"

pllm_status
pllm_error_set(pllm_error *err, pllm_status code, const char *fmt, ...)
{
	va_list ap;

	if (err)
	{
		err->code = code;
		err->sys_errno = 0;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

pllm_status
pllm_error_set_errno(pllm_error *err, int sys_errno, const char *fmt, ...)
{
	va_list ap;
	size_t  used;

	if (err)
	{
		err->code = PLLM_ERR_IO;
		err->sys_errno = sys_errno;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		used = strlen(err->msg);
		snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", strerror(sys_errno));
	}
	return PLLM_ERR_IO;
}

void
pllm_error_clear(pllm_error *err)
{
	if (err)
	{
		err->code = PLLM_OK;
		err->sys_errno = 0;
		err->msg[0] = '\0';
	}
}

const char *
pllm_status_name(pllm_status code)
{
	static const char *const names[] = {
		[PLLM_OK] = "ok",
		[PLLM_ERR_IO] = "io",
		[PLLM_ERR_FORMAT] = "format",
		[PLLM_ERR_UNSUPPORTED] = "unsupported",
		[PLLM_ERR_NOMEM] = "out of memory",
		[PLLM_ERR_INVALID_ARG] = "invalid argument",
		[PLLM_ERR_LIMIT] = "limit exceeded",
		[PLLM_ERR_CANCELLED] = "cancelled",
		[PLLM_ERR_INTERNAL] = "internal",
	};

	if ((unsigned) code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
