/*
 * bench.c -- the figures `make bench` prints: memory read bandwidth, sgemm
 * peak, and per model file prefill / decode tokens/s (decode also as a share
 * of the bandwidth bound) or embeddings/s. Median and range over several runs.
 * Never asserts on time. Usage: bench MODEL.gguf... (shape from the file)
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "bench_util.h"
#include "threadpool.h"
#include "pg_llm/embed.h"
#include "pg_llm/model.h"
#include "pg_llm/session.h"

#define RUNS 5

typedef struct read_task
{
	const __m256i *p;
	size_t         n;      /* 32-byte words */
	long long      sums[64];
} read_task;

__attribute__((target("avx2"))) static void
read_slice(void *arg, int ith, int nth)
{
	read_task *t = arg;
	int64_t    b, e;
	__m256i    acc = _mm256_setzero_si256();

	kern_split_range((int64_t) t->n, 64, ith, nth, &b, &e);
	for (int64_t i = b; i < e; i++)
		acc = _mm256_add_epi64(acc, _mm256_load_si256(t->p + i));
	t->sums[ith] = _mm256_extract_epi64(acc, 0) + _mm256_extract_epi64(acc, 3);
}

/* Read bandwidth (GB/s) with the kernels' pool, median of RUNS passes over 1 GiB. */
static double
measure_bandwidth(void)
{
	size_t     bytes = (size_t) 1 << 30;
	char      *buf = aligned_alloc(64, bytes);
	read_task  t = {.p = (const __m256i *) buf, .n = bytes / 32};
	double     gbs[RUNS];
	char       s[64];

	memset(buf, 1, bytes);
	kern_pool_run(read_slice, &t);
	for (int r = 0; r < RUNS; r++)
	{
		double t0 = bench_now();

		kern_pool_run(read_slice, &t);
		gbs[r] = bytes / (bench_now() - t0) / 1e9;
	}
	free(buf);
	printf("memory read bandwidth, %d threads: %s GB/s\n", kern_pool_threads(), bench_stats(gbs, RUNS, 1, s, sizeof(s)));
	return gbs[RUNS / 2];
}

static void
measure_sgemm(void)
{
	int     n = 2048;
	float  *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
	double  gf[3];
	char    s[64];

	for (int i = 0; i < n * n; i++)
	{
		a[i] = (float) (i % 7) * 0.1f;
		b[i] = (float) (i % 5) * 0.1f;
	}
	kern_blas_set_threads(kern_pool_threads());
	kern_sgemm_nt(n, n, n, a, n, b, n, c, n);
	for (int r = 0; r < 3; r++)
	{
		double t0 = bench_now();

		kern_sgemm_nt(n, n, n, a, n, b, n, c, n);
		gf[r] = 2.0 * n * n * (double) n / (bench_now() - t0) / 1e9;
	}
	printf("sgemm 2048^3 via %s: %s GFLOP/s\n", kern_blas_info(), bench_stats(gf, 3, 1, s, sizeof(s)));
	free(a); free(b); free(c);
}

static void
random_ids(int32_t *ids, int n, uint32_t n_vocab, uint32_t seed)
{
	for (int i = 0; i < n; i++)
	{
		seed = seed * 1664525u + 1013904223u;
		ids[i] = (int32_t) (3 + (seed >> 8) % (n_vocab - 3));
	}
}

static double
prefill_rate(pllm_session *s, const int32_t *ids, int n)
{
	pllm_error err;
	double     t0;

	pllm_session_reset(s);
	t0 = bench_now();
	for (int done = 0; done < n;)
	{
		int chunk = n - done < (int) pllm_session_n_batch(s) ? n - done : (int) pllm_session_n_batch(s);

		if (pllm_session_eval(s, ids + done, chunk, false, &err) != PLLM_OK)
		{
			fprintf(stderr, "eval: %s\n", err.msg);
			return 0;
		}
		done += chunk;
	}
	return n / (bench_now() - t0);
}

static double
decode_rate(pllm_session *s, const int32_t *ids, int n_tokens)
{
	pllm_error err;
	double     t0;

	pllm_session_reset(s);
	if (pllm_session_eval(s, ids, 16, false, &err) != PLLM_OK)
		return 0;
	t0 = bench_now();
	for (int i = 0; i < n_tokens; i++)
		if (pllm_session_eval(s, ids + 16 + i, 1, false, &err) != PLLM_OK)
			return 0;
	return n_tokens / (bench_now() - t0);
}

static void
bench_decoder(const char *path, pllm_model *m, const pllm_model_info *info, double bw)
{
	pllm_session_opts o = pllm_session_opts_default();
	pllm_session     *s;
	pllm_error        err;
	int32_t           ids[600];
	double            p128[RUNS], p512[RUNS], dec[RUNS];
	char              a[64], b[64], c[64];
	double            bytes_per_token = (double) info->n_bytes;

	o.n_ctx = 1024;
	o.n_batch = 512;
	if (pllm_session_create(m, &o, &s, &err) != PLLM_OK)
	{
		printf("%s: %s\n", path, err.msg);
		return;
	}
	/* the embedding table is read one row per token unless it is also the output */
	{
		const pllm_gguf_tensor *te = pllm_gguf_find_tensor(pllm_model_gguf(m), "token_embd.weight");

		if (te && !info->tied_output)
			bytes_per_token -= (double) te->nbytes;
	}
	random_ids(ids, 600, info->n_vocab, 7);
	for (int r = 0; r < RUNS; r++)
	{
		p128[r] = prefill_rate(s, ids, 128);
		p512[r] = r < 3 ? prefill_rate(s, ids, 512) : p512[0];
		dec[r] = decode_rate(s, ids, 32);
	}
	printf("%s\n  prefill 128: %s tok/s\n  prefill 512: %s tok/s\n  decode:      %s tok/s"
		   " = %.0f%% of the bandwidth bound (%.2f GB read per token, bound %.1f tok/s)\n",
		   path, bench_stats(p128, RUNS, 1, a, sizeof(a)), bench_stats(p512, 3, 1, b, sizeof(b)),
		   bench_stats(dec, RUNS, 1, c, sizeof(c)), 100.0 * dec[RUNS / 2] * bytes_per_token / (bw * 1e9),
		   bytes_per_token / 1e9, bw * 1e9 / bytes_per_token);
	pllm_session_free(s);
}

static void
bench_encoder(const char *path, pllm_model *m, const pllm_model_info *info)
{
	enum { LEN = 32, MAXB = 64 };
	static int32_t  store[MAXB][LEN];
	const int32_t  *ids[MAXB];
	int             n_ids[MAXB];
	int             batches[] = {1, 8, 64};
	float          *out = malloc(sizeof(float) * MAXB * info->n_embd);
	pllm_error      err;

	printf("%s\n", path);
	for (int i = 0; i < MAXB; i++)
	{
		random_ids(store[i], LEN, info->n_vocab, (uint32_t) i + 1);
		store[i][0] = 101;
		store[i][LEN - 1] = 102;
		ids[i] = store[i];
		n_ids[i] = LEN;
	}
	for (size_t bi = 0; bi < sizeof(batches) / sizeof(batches[0]); bi++)
	{
		int    nb = batches[bi];
		double rate[RUNS];
		char   s[64];

		for (int r = 0; r < RUNS; r++)
		{
			double t0 = bench_now();
			int    total = 0;

			while (bench_now() - t0 < 0.5 || total < nb)
			{
				if (pllm_embed_ids(m, ids, n_ids, nb, NULL, out, NULL, &err) != PLLM_OK)
				{
					printf("  embed: %s\n", err.msg);
					free(out);
					return;
				}
				total += nb;
			}
			rate[r] = total / (bench_now() - t0);
		}
		printf("  embeddings, batch %2d x %d tokens: %s /s\n", nb, LEN, bench_stats(rate, RUNS, 1, s, sizeof(s)));
	}
	free(out);
}

int
main(int argc, char **argv)
{
	double bw;

	if (argc < 2)
	{
		fprintf(stderr, "usage: bench MODEL.gguf...\n");
		return 2;
	}
	bw = measure_bandwidth();
	measure_sgemm();
	for (int i = 1; i < argc; i++)
	{
		pllm_model     *m;
		pllm_model_info info;
		pllm_error      err;

		if (pllm_model_open_file(argv[i], NULL, &m, &err) != PLLM_OK)
		{
			printf("%s: %s\n", argv[i], err.msg);
			continue;
		}
		pllm_model_get_info(m, &info);
		if (info.is_encoder)
			bench_encoder(argv[i], m, &info);
		else
			bench_decoder(argv[i], m, &info, bw);
		pllm_model_close(m);
	}
	return 0;
}
