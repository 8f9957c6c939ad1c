/*
 * arch_llama.c -- the `llama` family (Llama 2/3, TinyLlama, SmolLM, Mistral):
 * RMSNorm, interleaved RoPE pairs, GQA, SwiGLU, optional attention biases,
 * tied or separate output.weight, linear or llama3 (rope_freqs) rope scaling.
 */
#include "arch.h"
#include "decoder.h"

static pllm_status
llama_load(pllm_model *m, pllm_error *err)
{
	static const pllm_decoder_spec spec = {.qkv_bias_required = false};
	pllm_status st;

	if ((st = pllm_hp_load_decoder(m, err)) != PLLM_OK)
		return st;
	m->hp.rope_neox = false;
	return pllm_decoder_bind(m, &spec, err);
}

const pllm_arch pllm_arch_llama = {
	.name = "llama",
	.is_encoder = false,
	.load = llama_load,
	.work_bytes = pllm_decoder_work_bytes,
	.forward = pllm_decoder_forward,
	.free_data = NULL,
};
