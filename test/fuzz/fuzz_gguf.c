/*
 * fuzz_gguf.c -- libFuzzer target for the GGUF parser (`make fuzz`).
 * Accepted files must describe tensors that lie inside the buffer.
 */
#include <stdlib.h>

#include "pg_llm/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pllm_gguf *g = NULL;
	pllm_error err;

	if (pllm_gguf_parse(data, size, &g, &err) == PLLM_OK)
	{
		for (uint64_t i = 0; i < g->n_tensors; i++)
			if ((const uint8_t *) g->tensors[i].data + g->tensors[i].nbytes > data + size)
				abort();
		for (uint64_t i = 0; i < g->n_kv; i++)
			(void) pllm_gguf_find(g, "general.architecture");
		pllm_gguf_free(g);
	}
	return 0;
}
