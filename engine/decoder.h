/*
 * decoder.h -- what a llama-style family (llama, qwen2, ...) tells the shared
 * decoder loader (decoder.c) about its tensors.
 */
#ifndef PG_LLM_DECODER_H
#define PG_LLM_DECODER_H

#include "arch.h"

typedef struct pllm_decoder_spec
{
	bool qkv_bias_required;   /* qwen2: attn_{q,k,v}.bias must exist */
} pllm_decoder_spec;

/* Bind token_embd, output(_norm), rope_freqs and every layer's weights. */
pllm_status pllm_decoder_bind(pllm_model *m, const pllm_decoder_spec *spec, pllm_error *err);

#endif
