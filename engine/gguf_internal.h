/* gguf_internal.h -- helpers shared by the GGUF parser and its typed getters. */
#ifndef PG_LLM_GGUF_INTERNAL_H
#define PG_LLM_GGUF_INTERNAL_H

#include "pg_llm/gguf.h"

/* Decode one little-endian scalar of type t at p into kv->v. */
void gguf_decode_scalar(pllm_gguf_vtype t, const uint8_t *p, pllm_gguf_kv *kv);

#endif
