/*
 * cpu.c -- CPU feature detection through cpuid (and xgetbv for the OS-enabled
 * register state), computed once per process. Thread-safe: the first caller
 * may race with another, but both compute the same values.
 */
#include <cpuid.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

static kern_cpu_features cpu_features;
static kern_isa          cpu_isa;
static char              cpu_feature_text[160];
static volatile int      cpu_detected;

static unsigned long long
cpu_xgetbv(void)
{
	unsigned int lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((unsigned long long) hi << 32) | lo;
}

static void
cpu_detect_features(kern_cpu_features *f)
{
	unsigned int a, b, c, d, max_leaf;
	bool         os_avx = false, os_avx512 = false, os_amx = false;

	memset(f, 0, sizeof(*f));
	if (!__get_cpuid(0, &max_leaf, &b, &c, &d))
		return;
	__cpuid(1, a, b, c, d);
	if (c & bit_OSXSAVE)
	{
		unsigned long long xcr0 = cpu_xgetbv();

		os_avx = (xcr0 & 0x6) == 0x6;
		os_avx512 = (xcr0 & 0xe6) == 0xe6;
		os_amx = (xcr0 & 0x60000) == 0x60000;
	}
	f->fma = os_avx && (c & bit_FMA);
	f->f16c = os_avx && (c & bit_F16C);
	if (max_leaf < 7)
		return;
	__cpuid_count(7, 0, a, b, c, d);
	f->avx2 = os_avx && (b & bit_AVX2);
	f->avx512f = os_avx512 && (b & bit_AVX512F);
	f->avx512bw = os_avx512 && (b & bit_AVX512BW);
	f->avx512vl = os_avx512 && (b & bit_AVX512VL);
	f->avx512vnni = os_avx512 && (c & (1u << 11));
	f->amx_bf16 = os_amx && (d & (1u << 22));
	f->amx_tile = os_amx && (d & (1u << 24));
	f->amx_int8 = os_amx && (d & (1u << 25));
	__cpuid_count(7, 1, a, b, c, d);
	f->avx512bf16 = os_avx512 && (a & (1u << 5));
}

static kern_isa
cpu_choose_isa(const kern_cpu_features *f)
{
	kern_isa    best = KERN_ISA_SCALAR;
	const char *want = getenv("PLLM_KERNELS");

	if (f->avx2 && f->fma && f->f16c)
		best = KERN_ISA_AVX2;
	if (best == KERN_ISA_AVX2 && f->avx512f && f->avx512bw && f->avx512vl)
		best = KERN_ISA_AVX512;
	if (want && strcmp(want, "scalar") == 0)
		return KERN_ISA_SCALAR;
	if (want && strcmp(want, "avx2") == 0 && best >= KERN_ISA_AVX2)
		return KERN_ISA_AVX2;
	return best;
}

static void
cpu_format_features(const kern_cpu_features *f, char *buf, size_t cap)
{
	static const struct { size_t off; const char *name; } names[] = {
		{offsetof(kern_cpu_features, avx2), "avx2"},
		{offsetof(kern_cpu_features, fma), "fma"},
		{offsetof(kern_cpu_features, f16c), "f16c"},
		{offsetof(kern_cpu_features, avx512f), "avx512f"},
		{offsetof(kern_cpu_features, avx512bw), "avx512bw"},
		{offsetof(kern_cpu_features, avx512vl), "avx512vl"},
		{offsetof(kern_cpu_features, avx512vnni), "avx512vnni"},
		{offsetof(kern_cpu_features, avx512bf16), "avx512bf16"},
		{offsetof(kern_cpu_features, amx_tile), "amx-tile"},
		{offsetof(kern_cpu_features, amx_int8), "amx-int8"},
		{offsetof(kern_cpu_features, amx_bf16), "amx-bf16"},
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (*(const bool *) ((const char *) f + names[i].off) && used < cap)
			used += (size_t) snprintf(buf + used, cap - used, "%s%s", used ? " " : "", names[i].name);
	if (used == 0)
		snprintf(buf, cap, "none");
}

static void
cpu_init(void)
{
	if (cpu_detected)
		return;
	cpu_detect_features(&cpu_features);
	cpu_isa = cpu_choose_isa(&cpu_features);
	cpu_format_features(&cpu_features, cpu_feature_text, sizeof(cpu_feature_text));
	__atomic_store_n(&cpu_detected, 1, __ATOMIC_RELEASE);
}

const kern_cpu_features *
kern_cpu(void)
{
	cpu_init();
	return &cpu_features;
}

kern_isa
kern_isa_active(void)
{
	cpu_init();
	return cpu_isa;
}

const char *
kern_isa_name(kern_isa isa)
{
	switch (isa)
	{
		case KERN_ISA_AVX2: return "avx2";
		case KERN_ISA_AVX512: return "avx512";
		default: return "scalar";
	}
}

const char *
kern_cpu_feature_string(void)
{
	cpu_init();
	return cpu_feature_text;
}
