/*
 * mapfile.h -- read-only memory mapping of model files, so weights are used in
 * place and shared by the page cache between processes.
 */
#ifndef PG_LLM_MAPFILE_H
#define PG_LLM_MAPFILE_H

#include "pg_llm/pllm.h"

typedef struct pllm_mapped_file
{
	const void *data;
	size_t      size;
} pllm_mapped_file;

/* Maps path read-only (MAP_SHARED, so every process shares the page cache). */
pllm_status pllm_file_map(const char *path, pllm_mapped_file *out, pllm_error *err);
void        pllm_file_unmap(pllm_mapped_file *m);

#endif
