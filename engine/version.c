/*
 * version.c -- the engine version and a one-line description of the build and
 * the running CPU (`pg_llm --version`, llm.version() in SQL).
 */
#include <stdio.h>

#include "blas.h"
#include "cpu.h"
#include "pg_llm/pllm.h"
#include "threadpool.h"

#ifndef PLLM_VERSION
#define PLLM_VERSION "0.0.0"
#endif

const char *
pllm_version(void)
{
	return PLLM_VERSION;
}

char *
pllm_build_info(char *buf, size_t cap)
{
	if (!buf || cap == 0)
		return buf;
	snprintf(buf, cap, "pg_llm %s; cpu: %s; kernels: %s; blas: %s; threads: %d; compiler: %s",
			 PLLM_VERSION, kern_cpu_feature_string(), kern_isa_name(kern_isa_active()),
			 kern_blas_info(), kern_pool_threads(),
#if defined(__clang__)
			 "clang " __clang_version__
#elif defined(__GNUC__)
			 "gcc " __VERSION__
#else
			 "unknown"
#endif
		);
	return buf;
}
