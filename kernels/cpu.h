/*
 * cpu.h -- what the running CPU can do, detected once, and which kernel family
 * the engine uses. PLLM_KERNELS=scalar|avx2|avx512 forces a family (tests use it
 * to run every path); a request above what the CPU has falls back to the best
 * available one.
 */
#ifndef PG_LLM_CPU_H
#define PG_LLM_CPU_H

#include <stdbool.h>

typedef struct kern_cpu_features
{
	bool avx2;
	bool fma;
	bool f16c;
	bool avx512f;
	bool avx512bw;
	bool avx512vl;
	bool avx512vnni;
	bool avx512bf16;
	bool amx_tile;
	bool amx_int8;
	bool amx_bf16;
} kern_cpu_features;

typedef enum kern_isa
{
	KERN_ISA_SCALAR = 0,
	KERN_ISA_AVX2,
	KERN_ISA_AVX512
} kern_isa;

const kern_cpu_features *kern_cpu(void);
/* The kernel family in use (after PLLM_KERNELS and CPU checks). */
kern_isa    kern_isa_active(void);
const char *kern_isa_name(kern_isa isa);
/* Space-separated feature list, e.g. "avx2 fma f16c avx512f avx512vnni amx-int8". */
const char *kern_cpu_feature_string(void);

#endif
