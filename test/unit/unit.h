/*
 * unit.h -- the tiny test framework of the C unit tests. A test is a function
 * run by RUN(); it fails if any CHECK inside it fails. Each binary prints one
 * "ok - name" / "not ok - name" line per test and exits non-zero on failure;
 * test/run_unit.sh sums those lines over all binaries.
 *
 * Data files live under test/data; binaries run with the repository root as cwd
 * (or PLLM_TEST_DATA pointing at the data directory).
 */
#ifndef PG_LLM_TEST_UNIT_H
#define PG_LLM_TEST_UNIT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks;  /* CHECK failures inside the current test */
static int unit_tests_passed;
static int unit_tests_failed;

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			unit_failed_checks++; \
			fprintf(stdout, "#   %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stdout, __VA_ARGS__); \
			fputc('\n', stdout); \
		} \
	} while (0)

/* Approximate equality with an absolute tolerance, reporting both values. */
#define CHECK_NEAR(a, b, tol) \
	do { \
		double unit_a_ = (double) (a), unit_b_ = (double) (b); \
		CHECK(fabs(unit_a_ - unit_b_) <= (tol), "%s=%.9g %s=%.9g tol=%g", #a, unit_a_, #b, unit_b_, (double) (tol)); \
	} while (0)

#define RUN(fn) \
	do { \
		unit_failed_checks = 0; \
		fn(); \
		if (unit_failed_checks == 0) { unit_tests_passed++; printf("ok - %s\n", #fn); } \
		else { unit_tests_failed++; printf("not ok - %s\n", #fn); } \
		fflush(stdout); \
	} while (0)

/* Last statement of main(). */
#define UNIT_DONE() \
	(printf("# %d passed, %d failed\n", unit_tests_passed, unit_tests_failed), \
	 unit_tests_failed ? 1 : 0)

/* Path of a data file: $PLLM_TEST_DATA/name or test/data/name. Static buffer. */
static inline const char *
unit_data(const char *name)
{
	static char buf[4][1024];
	static int  slot;
	const char *dir = getenv("PLLM_TEST_DATA");
	char       *b = buf[slot++ & 3];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir ? dir : "test/data", name);
	return b;
}

/* Read a whole file into malloc'd memory (NUL-terminated); NULL on failure. */
static inline char *
unit_read_file(const char *path, size_t *len)
{
	FILE   *f = fopen(path, "rb");
	char   *data;
	long    n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t) n + 1);
	if (data && fread(data, 1, (size_t) n, f) != (size_t) n)
	{
		free(data);
		data = NULL;
	}
	fclose(f);
	if (data)
	{
		data[n] = '\0';
		if (len)
			*len = (size_t) n;
	}
	return data;
}

/*
 * Parse "ids separated by spaces" lines (a fixture's inputs.txt) into
 * ids[s * max_ids ...], lens[s], for up to n_seq lines; returns the lines read,
 * or -1 when the file cannot be read or a line has more than max_ids ids.
 */
static inline int
unit_read_id_lines(const char *path, int32_t *ids, int *lens, int n_seq, int max_ids)
{
	char *txt = unit_read_file(path, NULL);
	char *p = txt;
	int   s;

	if (!txt)
		return -1;
	for (s = 0; s < n_seq && *p; s++)
	{
		lens[s] = 0;
		while (*p && *p != '\n')
		{
			char *end;
			long  v = strtol(p, &end, 10);

			if (end == p)
				break;
			if (lens[s] == max_ids)
			{
				free(txt);
				return -1;
			}
			ids[s * max_ids + lens[s]++] = (int32_t) v;
			for (p = end; *p == ' '; p++)
				;
		}
		if (*p == '\n')
			p++;
	}
	free(txt);
	return s;
}

#endif
