/*
 * pg_llm_ext.h -- declarations shared by the extension's files: GUC variables
 * and the single place where engine errors become ereport().
 */
#ifndef PG_LLM_EXT_H
#define PG_LLM_EXT_H

#include "postgres.h"

#include "pg_llm/pllm.h"

/* GUCs (extension/guc.c) */
extern char *pllm_default_model;
extern char *pllm_default_embedding_model;
extern char *pllm_model_dir;
extern char *pllm_preload_models;
extern int   pllm_threads;
extern int   pllm_max_tokens;
extern int   pllm_context_length;

void PllmDefineGucs(void);

/* The SQLSTATE for an engine status (extension/errors.c). */
int  PllmStatusSqlstate(pllm_status code);

/*
 * Turn a failed engine call into an ERROR: the SQLSTATE from DESIGN.md's table,
 * `what` as the message ("could not load model \"x\""), the engine's text as the
 * detail and a hint saying what to do. PLLM_ERR_CANCELLED services the pending
 * interrupt instead. Never returns.
 */
void PllmReportError(const pllm_error *err, const char *what) pg_attribute_noreturn();

#endif
