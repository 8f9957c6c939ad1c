/*
 * bench_batch.c -- the two figures of issue 7 that `make bench` prints:
 *   1. 16 prompts, greedy, 32 new tokens each: one pllm_batch_generate_ids()
 *      against 16 pllm_generate_ids() calls on one session;
 *   2. 100 prompts sharing a 200-token prefix (each with its own 8-12 token end),
 *      greedy, 16 new tokens each: the batch with a prefix cache against without.
 * Both also check the outputs are identical. Median and range over several
 * runs (BENCH_RUNS, default 3). Never asserts on time.
 * Usage: bench_batch MODEL.gguf (a decoder; random ids, so any vocabulary works)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "threadpool.h"
#include "pg_llm/batch.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"

#define MAX_RUNS 9

static uint32_t
lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void
random_ids(int32_t *ids, int n, uint32_t n_vocab, uint32_t *seed)
{
	for (int i = 0; i < n; i++)
		ids[i] = (int32_t) (3 + lcg(seed) % (n_vocab - 3));
}

static bool
same_results(const pllm_gen_result *a, const pllm_gen_result *b, int n)
{
	for (int i = 0; i < n; i++)
		if (!a[i].text || !b[i].text || a[i].n_gen != b[i].n_gen || strcmp(a[i].text, b[i].text) != 0)
			return false;
	return true;
}

static void
free_results(pllm_gen_result *r, int n)
{
	for (int i = 0; i < n; i++)
		pllm_gen_result_free(&r[i]);
}

static pllm_gen_params
greedy(int max_tokens)
{
	pllm_gen_params gp = pllm_gen_params_default();

	gp.max_tokens = max_tokens;
	gp.sampling.temperature = 0.0f;
	gp.ignore_eog = true;     /* random weights: every sequence makes all its tokens */
	return gp;
}

/* 1. 16 x 32 greedy: sequential calls against one batch. */
static void
bench_batch16(pllm_model *m, uint32_t n_vocab, int runs)
{
	enum { N = 16, GEN = 32 };
	int32_t           store[N][48];
	const int32_t    *ids[N];
	int               n_ids[N];
	pllm_gen_result   seq[N], bat[N];
	pllm_gen_params   gp = greedy(GEN);
	pllm_batch_opts   bo = pllm_batch_opts_default();
	pllm_session_opts so = pllm_session_opts_default();
	pllm_session     *s;
	pllm_batch_stats  bs;
	pllm_error        err;
	double            ts[MAX_RUNS], tb[MAX_RUNS], speed[MAX_RUNS];
	uint32_t          seed = 11;
	bool              identical = true;
	char              a[64], b[64], c[64];

	for (int i = 0; i < N; i++)
	{
		n_ids[i] = 8 + (int) (lcg(&seed) % 33);   /* 8..40 prompt tokens */
		store[i][0] = 1;
		random_ids(store[i] + 1, n_ids[i] - 1, n_vocab, &seed);
		ids[i] = store[i];
	}
	so.n_ctx = 128;
	bo.n_ctx = 128;
	bo.n_seq = N;
	if (pllm_session_create(m, &so, &s, &err) != PLLM_OK)
	{
		printf("  session: %s\n", err.msg);
		return;
	}
	for (int r = 0; r < runs; r++)
	{
		double t0 = bench_now();

		for (int i = 0; i < N; i++)
			if (pllm_generate_ids(s, ids[i], n_ids[i], &gp, NULL, NULL, &seq[i], &err) != PLLM_OK)
			{
				printf("  generate: %s\n", err.msg);
				goto out;
			}
		ts[r] = bench_now() - t0;
		t0 = bench_now();
		if (pllm_batch_generate_ids(m, ids, n_ids, N, &gp, NULL, &bo, bat, &bs, &err) != PLLM_OK)
		{
			printf("  batch: %s\n", err.msg);
			free_results(seq, N);
			goto out;
		}
		tb[r] = bench_now() - t0;
		speed[r] = ts[r] / tb[r];
		identical = identical && same_results(seq, bat, N);
		free_results(seq, N);
		free_results(bat, N);
	}
	printf("  batch of 16 prompts (8-40 tokens), greedy, 32 new tokens each (%lld passes):\n"
		   "    16 sequential calls: %s s\n    one batch:           %s s\n    speed-up:            %s x"
		   "   outputs identical: %s\n",
		   (long long) bs.n_forward, bench_stats(ts, runs, 2, a, sizeof(a)), bench_stats(tb, runs, 2, b, sizeof(b)),
		   bench_stats(speed, runs, 2, c, sizeof(c)), identical ? "yes" : "NO");
out:
	pllm_session_free(s);
}

/* 2. 100 rows sharing a 200-token prefix: batch with and without a prefix cache. */
static void
bench_prefix(pllm_model *m, uint32_t n_vocab, int runs)
{
	enum { N = 100, PREFIX = 200, GEN = 16 };
	static int32_t     store[N][PREFIX + 16];
	const int32_t     *ids[N];
	int                n_ids[N];
	pllm_gen_result   *plain = calloc(N, sizeof(pllm_gen_result)), *cached = calloc(N, sizeof(pllm_gen_result));
	pllm_gen_params    gp = greedy(GEN);
	pllm_batch_opts    bo = pllm_batch_opts_default();
	pllm_batch_stats   s0, s1;
	pllm_error         err;
	double             t0s[MAX_RUNS], t1s[MAX_RUNS], speed[MAX_RUNS];
	uint32_t           seed = 5;
	bool               identical = true;
	char               a[64], b[64], c[64];

	store[0][0] = 1;
	random_ids(store[0] + 1, PREFIX - 1, n_vocab, &seed);
	for (int i = 0; i < N; i++)
	{
		memcpy(store[i], store[0], sizeof(int32_t) * PREFIX);
		n_ids[i] = PREFIX + 8 + (int) (lcg(&seed) % 5);
		random_ids(store[i] + PREFIX, n_ids[i] - PREFIX, n_vocab, &seed);
		ids[i] = store[i];
	}
	bo.n_ctx = 256;
	bo.n_seq = 16;
	for (int r = 0; r < runs; r++)
	{
		pllm_prefix_cache *pc;
		double             t0 = bench_now();

		if (pllm_batch_generate_ids(m, ids, n_ids, N, &gp, NULL, &bo, plain, &s0, &err) != PLLM_OK)
		{
			printf("  batch: %s\n", err.msg);
			break;
		}
		t0s[r] = bench_now() - t0;
		/* a fresh cache each run: the first row computes the prefix */
		if (pllm_prefix_cache_create(m, bo.kv_type, (size_t) 256 << 20, &pc, &err) != PLLM_OK)
		{
			printf("  cache: %s\n", err.msg);
			free_results(plain, N);
			break;
		}
		bo.prefix_cache = pc;
		t0 = bench_now();
		if (pllm_batch_generate_ids(m, ids, n_ids, N, &gp, NULL, &bo, cached, &s1, &err) != PLLM_OK)
			printf("  batch with cache: %s\n", err.msg);
		t1s[r] = bench_now() - t0;
		bo.prefix_cache = NULL;
		pllm_prefix_cache_free(pc);
		speed[r] = t0s[r] / t1s[r];
		identical = identical && same_results(plain, cached, N);
		free_results(plain, N);
		free_results(cached, N);
		if (r == runs - 1)
			printf("  100 prompts sharing a %d-token prefix (+8-12 own tokens), greedy, %d new tokens, batches of 16:\n"
				   "    without prefix cache: %s s  (%lld prompt positions computed)\n"
				   "    with prefix cache:    %s s  (%lld computed, %lld copied)\n"
				   "    speed-up:             %s x   outputs identical: %s\n",
				   PREFIX, GEN, bench_stats(t0s, runs, 2, a, sizeof(a)), (long long) s0.n_prompt_tokens,
				   bench_stats(t1s, runs, 2, b, sizeof(b)), (long long) s1.n_prompt_tokens, (long long) s1.n_reused_tokens,
				   bench_stats(speed, runs, 2, c, sizeof(c)), identical ? "yes" : "NO");
	}
	free(plain);
	free(cached);
}

int
main(int argc, char **argv)
{
	pllm_model_opts mo = pllm_model_opts_default();
	pllm_model     *m;
	pllm_model_info info;
	pllm_error      err;
	const char     *env = getenv("BENCH_RUNS");
	int             runs = env ? atoi(env) : 3;

	if (argc != 2)
	{
		fprintf(stderr, "usage: bench_batch MODEL.gguf\n");
		return 2;
	}
	if (runs < 1 || runs > MAX_RUNS)
		runs = 3;
	if (pllm_model_open_file(argv[1], &mo, &m, &err) != PLLM_OK)
	{
		printf("%s: %s\n", argv[1], err.msg);
		return 1;
	}
	pllm_model_get_info(m, &info);
	printf("%s (batch generation, %d threads, %d runs)\n", argv[1], kern_pool_threads(), runs);
	bench_batch16(m, info.n_vocab, runs);
	bench_prefix(m, info.n_vocab, runs);
	pllm_model_close(m);
	return 0;
}
