/*
 * test_threadpool.c -- the worker pool runs every slice exactly once for any
 * thread count, survives fork (the child gets its own workers), and the OpenBLAS
 * bridge agrees with the portable sgemm loop.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#include "blas.h"
#include "threadpool.h"

#define N_ITEMS 1000

typedef struct count_task
{
	int hits[N_ITEMS];
	int nth_seen;
} count_task;

static void
count_slice(void *arg, int ith, int nth)
{
	count_task *t = arg;
	int64_t     b, e;

	kern_split_range(N_ITEMS, 8, ith, nth, &b, &e);
	for (int64_t i = b; i < e; i++)
		t->hits[i]++;
	if (ith == 0)
		t->nth_seen = nth;
}

static int
run_counting(int threads)
{
	static count_task t;
	int               bad = 0;

	memset(&t, 0, sizeof(t));
	kern_pool_set_threads(threads);
	for (int rep = 0; rep < 50; rep++)
		kern_pool_run(count_slice, &t);
	for (int i = 0; i < N_ITEMS; i++)
		bad += t.hits[i] != 50;
	CHECK(t.nth_seen == threads, "asked for %d threads, task saw %d", threads, t.nth_seen);
	return bad;
}

static void
test_every_slice_once(void)
{
	int counts[] = {1, 2, 3, 7};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		CHECK(run_counting(counts[i]) == 0, "items not run exactly 50 times with %d threads", counts[i]);
}

static void
test_split_range(void)
{
	int64_t b, e, covered = 0, prev_end = 0;

	for (int ith = 0; ith < 3; ith++)
	{
		kern_split_range(100, 32, ith, 3, &b, &e);
		CHECK(b == prev_end && b % 32 == 0 && e >= b, "slice %d: [%lld, %lld)", ith, (long long) b, (long long) e);
		covered += e - b;
		prev_end = e;
	}
	CHECK(covered == 100 && prev_end == 100, "covered %lld", (long long) covered);
	kern_split_range(5, 32, 1, 2, &b, &e);
	CHECK(b == 5 && e == 5, "empty tail slice");
}

static void
test_pool_after_fork(void)
{
	pid_t pid;
	int   status = -1;

	CHECK(run_counting(2) == 0, "parent before fork");
	pid = fork();
	if (pid == 0)
		_exit(run_counting(2) == 0 ? 0 : 1);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could not use the pool (status %d)", status);
	CHECK(run_counting(2) == 0, "parent after fork");
}

static void
test_sgemm_bridge_matches_loop(void)
{
	enum { M = 7, N = 33, K = 65 };
	static float a[M * K], b[N * K], c1[M * N], c2[M * N];
	double       max_err = 0;

	for (int i = 0; i < M * K; i++)
		a[i] = (float) ((i * 37 % 101) - 50) / 25.0f;
	for (int i = 0; i < N * K; i++)
		b[i] = (float) ((i * 53 % 97) - 48) / 31.0f;
	kern_sgemm_nt(M, N, K, a, K, b, K, c1, N);
	kern_sgemm_nt_ref(M, N, K, a, K, b, K, c2, N);
	for (int i = 0; i < M * N; i++)
		max_err = fmax(max_err, fabs(c1[i] - c2[i]));
	CHECK(max_err < 1e-4, "sgemm differs from the loop by %g", max_err);
	CHECK(c2[0] != 0.0f, "non-trivial product");
	/* element (1, 2) by hand */
	{
		double s = 0;

		for (int p = 0; p < K; p++)
			s += (double) a[1 * K + p] * b[2 * K + p];
		CHECK_NEAR(c1[1 * N + 2], s, 1e-4);
	}
	CHECK(strstr(kern_blas_info(), "OpenBLAS") != NULL, "OpenBLAS not found: %s", kern_blas_info());
}

int
main(void)
{
	RUN(test_every_slice_once);
	RUN(test_split_range);
	RUN(test_pool_after_fork);
	RUN(test_sgemm_bridge_matches_loop);
	return UNIT_DONE();
}
