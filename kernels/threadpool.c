/*
 * threadpool.c -- persistent workers woken by a generation counter: a short
 * spin (decode runs a task every few microseconds) and then a futex wait, so
 * idle workers cost nothing and busy ones wake without a syscall round trip.
 * The slices of a task are claimed from a shared ticket, by the caller as well:
 * a worker the scheduler has not run yet (a busy machine, more threads than
 * free cores) leaves its slice to whoever is running instead of stalling
 * the task until it gets a core.
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
	_Atomic uint64_t ticket;       /* task number << 32 | next slice << 16 | slices */
	_Atomic uint32_t done;         /* slices of the current task finished */
	_Atomic int      sleepers;     /* workers inside futex_wait on gen */
	_Atomic int      caller_asleep;/* the caller is inside futex_wait on done */
	_Atomic int      stop;
	kern_task_fn     fn;
	void            *arg;
	uint32_t         task;         /* number of the current task */
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

/*
 * Claim and run slices of the current task until none is left. A claim is a
 * CAS on the whole ticket, so a stale view (an earlier task) never succeeds;
 * fn and arg were written before the ticket was published and stay until every
 * slice is done, so a successful claimer reads the right ones.
 */
static void
pool_take_slices(void)
{
	uint64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);

	for (;;)
	{
		uint32_t next = (uint32_t) (t >> 16) & 0xFFFFu, nth = (uint32_t) t & 0xFFFFu;

		if (next >= nth)
			return;
		if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + (1u << 16), memory_order_acq_rel,
												   memory_order_acquire))
			continue;
		pool.fn(pool.arg, (int) next, (int) nth);
		if (atomic_fetch_add(&pool.done, 1) + 1 == nth &&
			atomic_load(&pool.caller_asleep))
			pool_futex_wake(&pool.done);
		t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
	}
}

static void *
pool_worker(void *p)
{
	uint32_t seen = pool.start_gen;   /* tasks before our creation are not ours */

	(void) p;
	for (;;)
	{
		pool_wait_change(&pool.gen, seen, &pool.sleepers);
		seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
		if (atomic_load(&pool.stop))
			return NULL;
		pool_take_slices();
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
	pool.task++;
	atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
	atomic_store_explicit(&pool.ticket, (uint64_t) pool.task << 32 | (uint64_t) n, memory_order_release);
	atomic_fetch_add(&pool.gen, 1);
	if (atomic_load(&pool.sleepers) > 0)
		pool_futex_wake(&pool.gen);
	pool_take_slices();
	for (uint32_t d; (d = atomic_load_explicit(&pool.done, memory_order_acquire)) != (uint32_t) n;)
		pool_wait_change(&pool.done, d, &pool.caller_asleep);
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
