/*
 * blas.c -- lazy OpenBLAS binding (see blas.h for why it is not linked).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cpu.h"
#include "threadpool.h"

/* CBLAS enum values, fixed by the CBLAS standard. */
#define BLAS_ROW_MAJOR 101
#define BLAS_NO_TRANS 111
#define BLAS_TRANS 112

typedef void (*blas_sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha,
							  const float *a, int lda, const float *b, int ldb, float beta,
							  float *c, int ldc);
typedef char *(*blas_str_fn)(void);
typedef void (*blas_set_threads_fn)(int n);

static pthread_once_t      blas_once = PTHREAD_ONCE_INIT;
static blas_sgemm_fn       blas_sgemm;
static blas_set_threads_fn blas_set_threads;
static char                blas_text[160] = "none (portable loop)";
static int                 blas_threads_wanted = 0, blas_threads_applied = -1;

static void
blas_load(void)
{
	static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
	const char *coretype = getenv("OPENBLAS_CORETYPE");
	bool        we_set_core = false;
	void       *h = NULL;
	blas_str_fn get_config, get_core;

	if (!coretype && kern_cpu()->avx512f && kern_cpu()->avx512bw && kern_cpu()->avx512vl)
	{
		setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
		we_set_core = true;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !h; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	blas_sgemm = (blas_sgemm_fn) dlsym(h, "cblas_sgemm");
	blas_set_threads = (blas_set_threads_fn) dlsym(h, "openblas_set_num_threads");
	get_config = (blas_str_fn) dlsym(h, "openblas_get_config");
	get_core = (blas_str_fn) dlsym(h, "openblas_get_corename");
	if (!blas_sgemm)
		return;
	{
		/* openblas_get_config() is "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": keep name and version */
		const char *cfg = get_config ? get_config() : "OpenBLAS";
		int         len = (int) strcspn(cfg, " ");

		if (cfg[len] == ' ')
			len += 1 + (int) strcspn(cfg + len + 1, " ");
		snprintf(blas_text, sizeof(blas_text), "%.*s (core %s%s)", len, cfg,
				 get_core ? get_core() : "?", we_set_core ? ", set by pg_llm" : "");
	}
}

bool
kern_blas_available(void)
{
	pthread_once(&blas_once, blas_load);
	return blas_sgemm != NULL;
}

const char *
kern_blas_info(void)
{
	pthread_once(&blas_once, blas_load);
	return blas_text;
}

void
kern_blas_set_threads(int n)
{
	blas_threads_wanted = n;
}

void
kern_sgemm_nt_ref(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
				  const float *b, int64_t ldb, float *c, int64_t ldc)
{
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++)
		{
			const float *ar = a + i * lda, *br = b + j * ldb;
			float        s = 0.0f;

			for (int64_t p = 0; p < k; p++)
				s += ar[p] * br[p];
			c[i * ldc + j] = s;
		}
}

void
kern_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
			  const float *b, int64_t ldb, float *c, int64_t ldc)
{
	if (!kern_blas_available() || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
	{
		kern_sgemm_nt_ref(m, n, k, a, lda, b, ldb, c, ldc);
		return;
	}
	if (blas_set_threads && blas_threads_wanted != blas_threads_applied)
	{
		blas_set_threads(blas_threads_wanted > 0 ? blas_threads_wanted : 1);
		blas_threads_applied = blas_threads_wanted;
	}
	blas_sgemm(BLAS_ROW_MAJOR, BLAS_NO_TRANS, BLAS_TRANS, (int) m, (int) n, (int) k, 1.0f,
			   a, (int) lda, b, (int) ldb, 0.0f, c, (int) ldc);
}

/* Columns of C per pool slice are a multiple of this (OpenBLAS's n-panel is 4..16). */
#define SGEMM_COL_ALIGN 64

typedef struct sgemm_task
{
	int64_t      m, n, k, lda, ldb, ldc;
	const float *a, *b;
	float       *c;
} sgemm_task;

static void
sgemm_slice(void *arg, int ith, int nth)
{
	sgemm_task *t = arg;
	int64_t     j0, j1;

	kern_split_range(t->n, SGEMM_COL_ALIGN, ith, nth, &j0, &j1);
	if (j0 >= j1)
		return;
	if (blas_sgemm)
		blas_sgemm(BLAS_ROW_MAJOR, BLAS_NO_TRANS, BLAS_TRANS, (int) t->m, (int) (j1 - j0), (int) t->k, 1.0f,
				   t->a, (int) t->lda, t->b + j0 * t->ldb, (int) t->ldb, 0.0f, t->c + j0, (int) t->ldc);
	else
		kern_sgemm_nt_ref(t->m, j1 - j0, t->k, t->a, t->lda, t->b + j0 * t->ldb, t->ldb, t->c + j0, t->ldc);
}

void
kern_sgemm_nt_mt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
				 const float *b, int64_t ldb, float *c, int64_t ldc)
{
	sgemm_task t = {m, n, k, lda, ldb, ldc, a, b, c};

	if (kern_pool_threads() <= 1 || n < 2 * SGEMM_COL_ALIGN || !kern_blas_available() || m > INT32_MAX ||
		n > INT32_MAX || k > INT32_MAX)
	{
		kern_sgemm_nt(m, n, k, a, lda, b, ldb, c, ldc);
		return;
	}
	/* one OpenBLAS thread per slice; the next kern_sgemm_nt applies the wanted count again */
	if (blas_set_threads && blas_threads_applied != 1)
	{
		blas_set_threads(1);
		blas_threads_applied = 1;
	}
	kern_pool_run(sgemm_slice, &t);
}
