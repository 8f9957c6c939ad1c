/*
 * traits.c -- the type traits table (block geometry, activation type, scalar
 * reference kernels) and its per-ISA copies, in which the SIMD vec_dot variants
 * replace the scalar ones where they exist. Which copy kern_traits() returns is
 * decided by cpu.c (CPU features and PLLM_KERNELS).
 */
#include <pthread.h>

#include "cpu.h"
#include "quant.h"

#define N_ISA 3

static const kern_type_traits traits_ref[PLLM_TYPE_COUNT] = {
	[PLLM_TYPE_F32] = {"f32", 1, 4, PLLM_TYPE_F32, kern_dequant_f32, kern_quant_f32, kern_vec_dot_f32, NULL},
	[PLLM_TYPE_F16] = {"f16", 1, 2, PLLM_TYPE_F16, kern_dequant_f16, kern_quant_f16, kern_vec_dot_f16, NULL},
	[PLLM_TYPE_BF16] = {"bf16", 1, 2, PLLM_TYPE_BF16, kern_dequant_bf16, kern_quant_bf16, kern_vec_dot_bf16, NULL},
	[PLLM_TYPE_Q4_0] = {"q4_0", QK4_0, sizeof(block_q4_0), PLLM_TYPE_Q8_0,
						kern_dequant_q4_0, kern_quant_q4_0, kern_vec_dot_q4_0, NULL},
	[PLLM_TYPE_Q4_1] = {"q4_1", QK4_1, sizeof(block_q4_1), PLLM_TYPE_Q8_1,
						kern_dequant_q4_1, kern_quant_q4_1, kern_vec_dot_q4_1, NULL},
	[PLLM_TYPE_Q5_0] = {"q5_0", QK5_0, sizeof(block_q5_0), PLLM_TYPE_Q8_0,
						kern_dequant_q5_0, kern_quant_q5_0, kern_vec_dot_q5_0, NULL},
	[PLLM_TYPE_Q5_1] = {"q5_1", QK5_1, sizeof(block_q5_1), PLLM_TYPE_Q8_1,
						kern_dequant_q5_1, kern_quant_q5_1, kern_vec_dot_q5_1, NULL},
	[PLLM_TYPE_Q8_0] = {"q8_0", QK8_0, sizeof(block_q8_0), PLLM_TYPE_Q8_0,
						kern_dequant_q8_0, kern_quant_q8_0, kern_vec_dot_q8_0, NULL},
	[PLLM_TYPE_Q8_1] = {"q8_1", QK8_1, sizeof(block_q8_1), PLLM_TYPE_Q8_1,
						kern_dequant_q8_1, kern_quant_q8_1, NULL, NULL},
	[PLLM_TYPE_Q4_K] = {"q4_K", QK_K, sizeof(block_q4_K), PLLM_TYPE_Q8_K,
						kern_dequant_q4_K, NULL, kern_vec_dot_q4_K, NULL},
	[PLLM_TYPE_Q5_K] = {"q5_K", QK_K, sizeof(block_q5_K), PLLM_TYPE_Q8_K,
						kern_dequant_q5_K, NULL, kern_vec_dot_q5_K, NULL},
	[PLLM_TYPE_Q6_K] = {"q6_K", QK_K, sizeof(block_q6_K), PLLM_TYPE_Q8_K,
						kern_dequant_q6_K, NULL, kern_vec_dot_q6_K, NULL},
	[PLLM_TYPE_Q8_K] = {"q8_K", QK_K, sizeof(block_q8_K), PLLM_TYPE_Q8_K,
						kern_dequant_q8_K, kern_quant_q8_K, NULL, NULL},
};

/* SIMD vec_dot variants per kernel family; unlisted types keep the scalar one. */
static const kern_vec_dot_fn vec_dot_isa[N_ISA][PLLM_TYPE_COUNT] = {
	[KERN_ISA_AVX2] = {
		[PLLM_TYPE_F32] = kern_vec_dot_f32_avx2,
		[PLLM_TYPE_F16] = kern_vec_dot_f16_avx2,
		[PLLM_TYPE_Q8_0] = kern_vec_dot_q8_0_avx2,
		[PLLM_TYPE_Q4_0] = kern_vec_dot_q4_0_avx2,
		[PLLM_TYPE_Q4_K] = kern_vec_dot_q4_K_avx2,
	},
	[KERN_ISA_AVX512] = {
		[PLLM_TYPE_F32] = kern_vec_dot_f32_avx512,
		[PLLM_TYPE_F16] = kern_vec_dot_f16_avx512,
		[PLLM_TYPE_Q8_0] = kern_vec_dot_q8_0_avx512,
		[PLLM_TYPE_Q4_0] = kern_vec_dot_q4_0_avx512,
		[PLLM_TYPE_Q4_K] = kern_vec_dot_q4_K_avx512,
		[PLLM_TYPE_Q6_K] = kern_vec_dot_q6_K_avx512,
	},
};

/* Tiled products per family (AVX-512 ones also need VNNI). */
static const kern_gemm_fn gemm_isa[N_ISA][PLLM_TYPE_COUNT] = {
	[KERN_ISA_AVX512] = {
		[PLLM_TYPE_Q8_0] = kern_gemm_q8_0_avx512,
		[PLLM_TYPE_Q4_0] = kern_gemm_q4_0_avx512,
		[PLLM_TYPE_Q5_0] = kern_gemm_q5_0_avx512,
		[PLLM_TYPE_Q4_K] = kern_gemm_q4_K_avx512,
	},
};

static kern_type_traits traits_isa[N_ISA][PLLM_TYPE_COUNT];
static pthread_once_t   traits_once = PTHREAD_ONCE_INIT;

static void
traits_build(void)
{
	for (int isa = 0; isa < N_ISA; isa++)
		for (int t = 0; t < PLLM_TYPE_COUNT; t++)
		{
			traits_isa[isa][t] = traits_ref[t];
			if (traits_ref[t].vec_dot && vec_dot_isa[isa][t])
				traits_isa[isa][t].vec_dot = vec_dot_isa[isa][t];
			if (traits_ref[t].vec_dot && gemm_isa[isa][t] &&
				(isa != KERN_ISA_AVX512 || kern_cpu()->avx512vnni))
				traits_isa[isa][t].gemm = gemm_isa[isa][t];
			if (isa == KERN_ISA_AVX512 && t == PLLM_TYPE_Q8_0)
				traits_isa[isa][t].quant_row = kern_quant_q8_0_avx512;
		}
}

/* Whether this CPU can run kernel family isa. */
static bool
isa_available(int isa)
{
	const kern_cpu_features *f = kern_cpu();

	switch (isa)
	{
		case KERN_ISA_SCALAR:
			return true;
		case KERN_ISA_AVX2:
			return f->avx2 && f->fma && f->f16c;
		case KERN_ISA_AVX512:
			return f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw && f->avx512vl;
		default:
			return false;
	}
}

const kern_type_traits *
kern_type_info(uint32_t type)
{
	if (type >= PLLM_TYPE_COUNT || traits_ref[type].name == NULL)
		return NULL;
	return &traits_ref[type];
}

const kern_type_traits *
kern_traits_for_isa(uint32_t type, int isa)
{
	if (type >= PLLM_TYPE_COUNT || traits_ref[type].vec_dot == NULL ||
		isa < 0 || isa >= N_ISA || !isa_available(isa))
		return NULL;
	pthread_once(&traits_once, traits_build);
	return &traits_isa[isa][type];
}

const kern_type_traits *
kern_traits(uint32_t type)
{
	return kern_traits_for_isa(type, (int) kern_isa_active());
}
