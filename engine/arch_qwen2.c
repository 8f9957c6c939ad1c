/*
 * arch_qwen2.c -- the `qwen2` family (Qwen1.5/2/2.5): the llama decoder with
 * Q/K/V biases, NEOX RoPE pairs (x[i], x[i+d/2]) and usually tied embeddings.
 */
#include "arch.h"
#include "decoder.h"

static pllm_status
qwen2_load(pllm_model *m, pllm_error *err)
{
	static const pllm_decoder_spec spec = {.qkv_bias_required = true};
	pllm_status st;

	if ((st = pllm_hp_load_decoder(m, err)) != PLLM_OK)
		return st;
	m->hp.rope_neox = true;
	return pllm_decoder_bind(m, &spec, err);
}

const pllm_arch pllm_arch_qwen2 = {
	.name = "qwen2",
	.is_encoder = false,
	.load = qwen2_load,
	.work_bytes = pllm_decoder_work_bytes,
	.forward = pllm_decoder_forward,
	.free_data = NULL,
};
