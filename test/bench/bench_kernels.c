/*
 * bench_kernels.c -- the matrix products alone, on Qwen2.5-0.5B's layer shapes:
 * decode (1 token, as GB/s of weights read) and prefill (128 tokens, as
 * GMAC/s) per weight type, through kern_matmul_mt. Figures only.
 * Usage: bench_kernels [TYPE...] (f32 f16 bf16 q8_0 q4_0 q5_0 q4_K ...; default all of
 * f32 q8_0 q4_0 q5_0 q4_K)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"
#include "bench_util.h"
#include "threadpool.h"

/* one layer of qwen2-0.5b: q, k, v, o, gate, up, down as (rows, cols) */
static const int64_t shapes[][2] = {
	{896, 896}, {128, 896}, {128, 896}, {896, 896}, {4864, 896}, {4864, 896}, {896, 4864},
};
#define N_SHAPES ((int) (sizeof(shapes) / sizeof(shapes[0])))
#define N_LAYERS 24

static void
bench_type(uint32_t type)
{
	const kern_type_traits *tr = kern_traits(type);
	void   *w[N_LAYERS][N_SHAPES];
	size_t  wbytes = 0, sb = 0;
	float  *x, *out;
	void   *scratch;
	int     toks[] = {1, 128};

	if (!tr)
		return;
	for (int l = 0; l < N_LAYERS; l++)
		for (int s = 0; s < N_SHAPES; s++)
		{
			size_t b = pllm_type_row_bytes(type, shapes[s][1]) * (size_t) shapes[s][0];
			size_t sc;

			if (b == 0)
				return;   /* this type cannot hold these rows */
			w[l][s] = aligned_alloc(64, (b + 63) & ~(size_t) 63);
			for (size_t i = 0; i < b; i++)
				((unsigned char *) w[l][s])[i] = (unsigned char) (i * 2654435761u >> 13);
			/* keep fp16 scales finite: reuse the f32->quant path on random rows would be slow */
			if (tr->block_size > 1)
				for (size_t o = 0; o < b; o += tr->block_bytes)
				{
					uint16_t d = kern_fp32_to_fp16(0.001f);

					memcpy((char *) w[l][s] + o, &d, 2);
					if (type == PLLM_TYPE_Q4_K)
						memcpy((char *) w[l][s] + o + 2, &d, 2);
				}
			else if (type == PLLM_TYPE_F16 || type == PLLM_TYPE_BF16)
				for (size_t o = 0; o < b; o += 2)
					*(uint16_t *) ((char *) w[l][s] + o) &= 0x3bff;
			else
				for (size_t o = 0; o < b; o += 4)
					*(float *) ((char *) w[l][s] + o) = (float) (o % 17) * 0.01f;
			wbytes += b;
			sc = kern_matmul_scratch_bytes(type, shapes[s][1], 128);
			if (sc > sb)
				sb = sc;
		}
	x = malloc(sizeof(float) * 128 * 4864);
	out = malloc(sizeof(float) * 128 * 4864);
	scratch = aligned_alloc(64, (sb + 64) & ~(size_t) 63);
	for (int i = 0; i < 128 * 4864; i++)
		x[i] = (float) (((int64_t) i * 7919) % 2001 - 1000) * 1e-3f;
	for (int ti = 0; ti < 2; ti++)
	{
		int    nt = toks[ti], runs = nt == 1 ? 15 : 3;
		double v[15];

		for (int r = 0; r < runs; r++)
		{
			double t0 = bench_now(), dt;

			for (int l = 0; l < N_LAYERS; l++)
				for (int s = 0; s < N_SHAPES; s++)
					kern_matmul_mt(type, w[l][s], shapes[s][0], shapes[s][1], x, nt, out, scratch);
			dt = bench_now() - t0;
			v[r] = nt == 1 ? wbytes / dt / 1e9 : (double) wbytes / pllm_type_row_bytes(type, 896) * 896 * nt / dt / 1e9;
		}
		qsort(v, (size_t) runs, sizeof(double), bench_cmp_double);
		printf("%-5s %s: %7.2f (%.2f-%.2f) %s\n", tr->name, nt == 1 ? "decode     " : "prefill 128",
			   v[runs / 2], v[0], v[runs - 1], nt == 1 ? "GB/s" : "GMAC/s");
	}
	for (int l = 0; l < N_LAYERS; l++)
		for (int s = 0; s < N_SHAPES; s++)
			free(w[l][s]);
	free(x);
	free(out);
	free(scratch);
}

int
main(int argc, char **argv)
{
	static const char *def[] = {"f32", "q8_0", "q4_0", "q5_0", "q4_K"};
	int                n = argc > 1 ? argc - 1 : 5;

	printf("# %d threads\n", kern_pool_threads());
	for (int i = 0; i < n; i++)
	{
		const char *name = argc > 1 ? argv[i + 1] : def[i];

		for (uint32_t t = 0; t < PLLM_TYPE_COUNT; t++)
			if (kern_traits(t) && strcmp(kern_traits(t)->name, name) == 0)
				bench_type(t);
	}
	return 0;
}
