/*
 * guc.c -- the pg_llm.* configuration parameters (DESIGN.md, README "GUCs").
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "pg_llm_ext.h"

char *pllm_default_model = NULL;
char *pllm_default_embedding_model = NULL;
char *pllm_model_dir = NULL;
char *pllm_preload_models = NULL;
int   pllm_threads = 0;
int   pllm_max_tokens = 4096;
int   pllm_context_length = 0;
int   pllm_prefix_cache_mb = 64;

void
PllmDefineGucs(void)
{
	DefineCustomStringVariable("pg_llm.default_model",
							   "Model used by llm.generate and llm.chat when no model is named.",
							   NULL, &pllm_default_model, "", PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_llm.default_embedding_model",
							   "Model used by llm.embed when no model is named.",
							   NULL, &pllm_default_embedding_model, "", PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("pg_llm.model_dir",
							   "Directory that model files must be inside to be loaded.",
							   "Paths given to llm.load_model are resolved and must lie inside this directory.",
							   &pllm_model_dir, "", PGC_SUSET, 0, NULL, NULL, NULL);
	/* a PGC_POSTMASTER setting can only be created while the postmaster loads us */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("pg_llm.preload_models",
								   "Models the postmaster maps at start, as 'name=path, ...'.",
								   "Takes effect only with shared_preload_libraries = 'pg_llm'.",
								   &pllm_preload_models, "", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_llm.threads",
							"Maximum number of threads one backend uses for model arithmetic (0 = online cores).",
							NULL, &pllm_threads, 0, 0, 1024, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_llm.max_tokens",
							"Hard upper limit on the tokens one call may generate.",
							NULL, &pllm_max_tokens, 4096, 1, 1000000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_llm.context_length",
							"Context length of generation sessions (0 = the model's own).",
							NULL, &pllm_context_length, 0, 0, 1048576, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_llm.prefix_cache_mb",
							"Memory for the prompt-prefix cache of each model a session generates with (0 = no cache).",
							"Prompts that start with tokens already evaluated by this session copy their state "
							"from the cache instead of recomputing it; least recently used prefixes are dropped.",
							&pllm_prefix_cache_mb, 64, 0, 1048576, PGC_USERSET, GUC_UNIT_MB, NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_llm");
}
