/*
 * bench_util.h -- timing and "median (min-max)" summaries shared by the bench
 * programs in test/bench.
 */
#ifndef PG_LLM_BENCH_UTIL_H
#define PG_LLM_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic seconds. */
static inline double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* "median (min-max)" of v[0..n) with `digits` decimals into buf; sorts v. */
static inline const char *
bench_stats(double *v, int n, int digits, char *buf, size_t cap)
{
	qsort(v, (size_t) n, sizeof(double), bench_cmp_double);
	snprintf(buf, cap, "%8.*f (%.*f-%.*f)", digits, v[n / 2], digits, v[0], digits, v[n - 1]);
	return buf;
}

#endif
