/*
 * types.h -- tensor element types, numbered exactly as ggml/GGUF number them so
 * the value in a file's tensor info can be used directly.
 */
#ifndef PG_LLM_TYPES_H
#define PG_LLM_TYPES_H

#include "pg_llm/pllm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pllm_type
{
	PLLM_TYPE_F32 = 0,
	PLLM_TYPE_F16 = 1,
	PLLM_TYPE_Q4_0 = 2,
	PLLM_TYPE_Q4_1 = 3,
	PLLM_TYPE_Q5_0 = 6,
	PLLM_TYPE_Q5_1 = 7,
	PLLM_TYPE_Q8_0 = 8,
	PLLM_TYPE_Q8_1 = 9,
	PLLM_TYPE_Q2_K = 10,
	PLLM_TYPE_Q3_K = 11,
	PLLM_TYPE_Q4_K = 12,
	PLLM_TYPE_Q5_K = 13,
	PLLM_TYPE_Q6_K = 14,
	PLLM_TYPE_Q8_K = 15,
	PLLM_TYPE_BF16 = 30,
	PLLM_TYPE_COUNT = 40  /* upper bound of the numbering, not a type */
} pllm_type;

/* "f32", "q4_K", ...; "type 17" style text for numbers we do not know. */
const char *pllm_type_name(uint32_t type);
/* True when the engine can dequantize and multiply weights of this type. */
bool        pllm_type_supported(uint32_t type);
/* Elements per block (1 for F32/F16/BF16) and bytes per block; 0 if unknown. */
int64_t     pllm_type_block_size(uint32_t type);
size_t      pllm_type_block_bytes(uint32_t type);
/*
 * Bytes of a row of n elements; 0 when the type is unknown or n is not a multiple
 * of its block size (callers treat 0 as a format error).
 */
size_t      pllm_type_row_bytes(uint32_t type, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
