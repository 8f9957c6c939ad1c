/*
 * threadpool.c -- persistent workers woken by a generation counter: a short
 * spin (decode runs a task every few microseconds) and then a futex wait, so
 * idle workers cost nothing and busy ones wake without a syscall round trip.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "threadpool.h"

#define POOL_SPIN 20000

typedef struct kern_pool
{
	pid_t            pid;          /* process that created the workers */
	int              n_workers;    /* threads besides the caller */
	pthread_t        th[KERN_POOL_MAX_THREADS];
	_Atomic uint32_t gen;          /* bumped once per task */
	_Atomic uint32_t pending;      /* workers still running the task */
	_Atomic int      sleepers;     /* workers inside futex_wait on gen */
	_Atomic int      caller_asleep;/* the caller is inside futex_wait on pending */
	_Atomic int      stop;
	kern_task_fn     fn;
	void            *arg;
	int              nth;          /* threads taking part in this task */
	uint32_t         start_gen;    /* gen when the current workers were created */
} kern_pool;

static kern_pool       pool;
static int             pool_want = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static void
pool_futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, (uint32_t *) addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void
pool_futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (uint32_t *) addr, FUTEX_WAKE_PRIVATE, KERN_POOL_MAX_THREADS, NULL, NULL, 0);
}

/*
 * Wait until *addr != val: spin first, then sleep in the kernel. *asleep counts
 * sleepers so the waker can skip the futex_wake syscall when nobody sleeps: it
 * is raised before the final re-check (seq_cst), so a waker that bumps *addr
 * either sees it or the sleeper sees the new value.
 */
static void
pool_wait_change(_Atomic uint32_t *addr, uint32_t val, _Atomic int *asleep)
{
	for (int i = 0; i < POOL_SPIN; i++)
	{
		if (atomic_load_explicit(addr, memory_order_acquire) != val)
			return;
		__builtin_ia32_pause();
	}
	atomic_fetch_add(asleep, 1);
	while (atomic_load(addr) == val)
		pool_futex_wait(addr, val);
	atomic_fetch_sub(asleep, 1);
}

static void *
pool_worker(void *p)
{
	int      ith = (int) (intptr_t) p;
	uint32_t seen = pool.start_gen;   /* tasks before our creation are not ours */

	for (;;)
	{
		pool_wait_change(&pool.gen, seen, &pool.sleepers);
		seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
		if (atomic_load(&pool.stop))
			return NULL;
		if (ith < pool.nth)
			pool.fn(pool.arg, ith, pool.nth);
		if (atomic_fetch_sub(&pool.pending, 1) == 1 && atomic_load(&pool.caller_asleep))
			pool_futex_wake(&pool.pending);
	}
}

static int
pool_online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int) n;
}

static void
pool_stop_workers(void)
{
	if (pool.n_workers == 0)
		return;
	if (pool.pid == getpid())
	{
		atomic_store(&pool.stop, 1);
		atomic_fetch_add(&pool.gen, 1);
		pool_futex_wake(&pool.gen);
		for (int i = 0; i < pool.n_workers; i++)
			pthread_join(pool.th[i], NULL);
	}
	/* after a fork the workers do not exist in this process: just forget them */
	pool.n_workers = 0;
	atomic_store(&pool.stop, 0);
}

/* Start workers 1..n-1 with every signal blocked (they inherit the mask). */
static void
pool_start_workers(int n)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pool.pid = getpid();
	pool.start_gen = atomic_load(&pool.gen);
	for (int i = 1; i < n; i++)
	{
		if (pthread_create(&pool.th[pool.n_workers], NULL, pool_worker, (void *) (intptr_t) i) != 0)
			break;   /* run with fewer threads rather than fail */
		pool.n_workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
kern_pool_set_threads(int n)
{
	pthread_mutex_lock(&pool_lock);
	pool_want = n;
	pthread_mutex_unlock(&pool_lock);
}

static int
pool_target(void)
{
	int n = pool_want > 0 ? pool_want : pool_online_cores();

	return n > KERN_POOL_MAX_THREADS ? KERN_POOL_MAX_THREADS : n;
}

int
kern_pool_threads(void)
{
	int n;

	pthread_mutex_lock(&pool_lock);
	n = pool_target();
	pthread_mutex_unlock(&pool_lock);
	return n;
}

void
kern_pool_run(kern_task_fn fn, void *arg)
{
	int n;

	pthread_mutex_lock(&pool_lock);
	n = pool_target();
	if (pool.pid != getpid() || pool.n_workers + 1 != n)
	{
		pool_stop_workers();
		if (n > 1)
			pool_start_workers(n);
		pool.pid = getpid();
	}
	n = pool.n_workers + 1;
	if (n == 1)
	{
		pthread_mutex_unlock(&pool_lock);
		fn(arg, 0, 1);
		return;
	}
	pool.fn = fn;
	pool.arg = arg;
	pool.nth = n;
	atomic_store_explicit(&pool.pending, (uint32_t) pool.n_workers, memory_order_release);
	atomic_fetch_add(&pool.gen, 1);
	if (atomic_load(&pool.sleepers) > 0)
		pool_futex_wake(&pool.gen);
	fn(arg, 0, n);
	for (uint32_t left; (left = atomic_load_explicit(&pool.pending, memory_order_acquire)) != 0;)
		pool_wait_change(&pool.pending, left, &pool.caller_asleep);
	pthread_mutex_unlock(&pool_lock);
}

void
kern_split_range(int64_t n, int64_t align, int ith, int nth, int64_t *begin, int64_t *end)
{
	int64_t units = (n + align - 1) / align;
	int64_t per = units / nth, extra = units % nth;
	int64_t b = ith * per + (ith < extra ? ith : extra);
	int64_t e = b + per + (ith < extra ? 1 : 0);

	*begin = b * align < n ? b * align : n;
	*end = e * align < n ? e * align : n;
}
