/*
 * pg_llm.c -- module entry point: _PG_init defines the GUCs, and the small
 * informational SQL functions live here (llm.version()).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "pg_llm_ext.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
	PllmDefineGucs();
	/* the shared registry exists only when the postmaster loads us */
	if (process_shared_preload_libraries_in_progress)
		PllmRegistryInstallHooks();
}

PG_FUNCTION_INFO_V1(pg_llm_version);
Datum
pg_llm_version(PG_FUNCTION_ARGS)
{
	char info[512];

	PG_RETURN_TEXT_P(cstring_to_text(pllm_build_info(info, sizeof(info))));
}

/*
 * llm._raise(status text, message text): raise the ERROR that an engine failure
 * with this status would raise. Lets the regression tests pin the one mapping
 * of DESIGN.md's error table without needing a broken model for each case.
 */
PG_FUNCTION_INFO_V1(pg_llm__raise);
Datum
pg_llm__raise(PG_FUNCTION_ARGS)
{
	char       *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char       *msg = text_to_cstring(PG_GETARG_TEXT_PP(1));
	pllm_error  err;

	for (int code = PLLM_ERR_IO; code <= PLLM_ERR_INTERNAL; code++)
		if (strcmp(name, pllm_status_name((pllm_status) code)) == 0)
		{
			pllm_error_set(&err, (pllm_status) code, "%s", msg);
			if (code == PLLM_ERR_IO)
				err.sys_errno = ENOENT;
			PllmReportError(&err, "engine call failed");
		}
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("unknown engine status \"%s\"", name)));
	PG_RETURN_VOID();
}
