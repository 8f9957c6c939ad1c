/*
 * threadpool.h -- a persistent pool of worker threads for the kernels.
 *
 * Created lazily by the first kern_pool_run() in the process that computes (never
 * in a PostgreSQL postmaster before fork: a fork leaves the workers behind, so the
 * pool notices a new pid and starts afresh). Workers block every signal and only do
 * arithmetic. Work is split by the task itself from (ith, nth). kern_pool_run is
 * meant to be called from one thread at a time per process; concurrent callers are
 * serialised.
 */
#ifndef PG_LLM_THREADPOOL_H
#define PG_LLM_THREADPOOL_H

#include <stdint.h>

#define KERN_POOL_MAX_THREADS 64

/* fn(arg, ith, nth) runs once for each ith in [0, nth) on nth threads (caller included). */
typedef void (*kern_task_fn)(void *arg, int ith, int nth);

/* Threads to use from now on (<= 0: online cores); capped at KERN_POOL_MAX_THREADS. */
void kern_pool_set_threads(int n);
int  kern_pool_threads(void);
void kern_pool_run(kern_task_fn fn, void *arg);

/* Split [0, n) into nth chunks aligned to `align`; sets [*begin, *end) for ith. */
void kern_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end);

#endif
