/*
 * types.c -- names and block geometry of every ggml/GGUF tensor type, so a file
 * can be parsed (and its tensors sized) even when we cannot compute with some of
 * its types; whether we can is kern_traits()'s business.
 */
#include <stdio.h>

#include "kernels.h"

typedef struct type_geometry
{
	const char *name;
	int64_t     block_size;   /* 0: number not assigned (or retired) by ggml */
	size_t      block_bytes;
} type_geometry;

static const type_geometry type_table[PLLM_TYPE_COUNT] = {
	[PLLM_TYPE_F32] = {"f32", 1, 4},
	[PLLM_TYPE_F16] = {"f16", 1, 2},
	[PLLM_TYPE_Q4_0] = {"q4_0", 32, 18},
	[PLLM_TYPE_Q4_1] = {"q4_1", 32, 20},
	[PLLM_TYPE_Q5_0] = {"q5_0", 32, 22},
	[PLLM_TYPE_Q5_1] = {"q5_1", 32, 24},
	[PLLM_TYPE_Q8_0] = {"q8_0", 32, 34},
	[PLLM_TYPE_Q8_1] = {"q8_1", 32, 36},
	[PLLM_TYPE_Q2_K] = {"q2_K", 256, 84},
	[PLLM_TYPE_Q3_K] = {"q3_K", 256, 110},
	[PLLM_TYPE_Q4_K] = {"q4_K", 256, 144},
	[PLLM_TYPE_Q5_K] = {"q5_K", 256, 176},
	[PLLM_TYPE_Q6_K] = {"q6_K", 256, 210},
	[PLLM_TYPE_Q8_K] = {"q8_K", 256, 292},
	[16] = {"iq2_xxs", 256, 66},
	[17] = {"iq2_xs", 256, 74},
	[18] = {"iq3_xxs", 256, 98},
	[19] = {"iq1_s", 256, 50},
	[20] = {"iq4_nl", 32, 18},
	[21] = {"iq3_s", 256, 110},
	[22] = {"iq2_s", 256, 82},
	[23] = {"iq4_xs", 256, 136},
	[24] = {"i8", 1, 1},
	[25] = {"i16", 1, 2},
	[26] = {"i32", 1, 4},
	[27] = {"i64", 1, 8},
	[28] = {"f64", 1, 8},
	[29] = {"iq1_m", 256, 56},
	[PLLM_TYPE_BF16] = {"bf16", 1, 2},
	[34] = {"tq1_0", 256, 54},
	[35] = {"tq2_0", 256, 66},
	[39] = {"mxfp4", 32, 17},
};

static const type_geometry *
type_lookup(uint32_t type)
{
	if (type >= PLLM_TYPE_COUNT || type_table[type].block_size == 0)
		return NULL;
	return &type_table[type];
}

const char *
pllm_type_name(uint32_t type)
{
	static _Thread_local char buf[24];
	const type_geometry *g = type_lookup(type);

	if (g)
		return g->name;
	snprintf(buf, sizeof(buf), "type %u", type);
	return buf;
}

bool
pllm_type_supported(uint32_t type)
{
	return kern_traits(type) != NULL;
}

int64_t
pllm_type_block_size(uint32_t type)
{
	const type_geometry *g = type_lookup(type);

	return g ? g->block_size : 0;
}

size_t
pllm_type_block_bytes(uint32_t type)
{
	const type_geometry *g = type_lookup(type);

	return g ? g->block_bytes : 0;
}

size_t
pllm_type_row_bytes(uint32_t type, int64_t n)
{
	const type_geometry *g = type_lookup(type);

	if (!g || n < 0 || n % g->block_size != 0)
		return 0;
	/* n < 2^62 / block_bytes keeps the product in range; GGUF dims are far smaller */
	if ((uint64_t) (n / g->block_size) > (uint64_t) (SIZE_MAX / 2) / g->block_bytes)
		return 0;
	return (size_t) (n / g->block_size) * g->block_bytes;
}
