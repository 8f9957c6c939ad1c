/*
 * pllm.h -- the engine's common vocabulary: status codes, the error record every
 * fallible call fills, cancellation callbacks and build information.
 * C11, no PostgreSQL headers: the extension and the CLI both include this.
 */
#ifndef PG_LLM_PLLM_H
#define PG_LLM_PLLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every engine call that can fail returns one of these. */
typedef enum pllm_status
{
	PLLM_OK = 0,
	PLLM_ERR_IO,          /* missing/unreadable file: sys_errno is set */
	PLLM_ERR_FORMAT,      /* corrupt or truncated file */
	PLLM_ERR_UNSUPPORTED, /* architecture, tensor type, GGUF version */
	PLLM_ERR_NOMEM,
	PLLM_ERR_INVALID_ARG,
	PLLM_ERR_LIMIT,       /* prompt longer than context, buffer too small */
	PLLM_ERR_CANCELLED,   /* should_abort() returned true */
	PLLM_ERR_INTERNAL     /* a bug: can't-happen state */
} pllm_status;

#define PLLM_ERROR_MSG_LEN 256

typedef struct pllm_error
{
	pllm_status code;
	int         sys_errno;
	char        msg[PLLM_ERROR_MSG_LEN];
} pllm_error;

/*
 * Fill err (may be NULL) and return code, so a failure site reads
 * `return pllm_error_set(err, PLLM_ERR_FORMAT, "tensor %s: bad offset", name);`
 */
pllm_status pllm_error_set(pllm_error *err, pllm_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, for a failed system call: records errno and appends strerror(). */
pllm_status pllm_error_set_errno(pllm_error *err, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void        pllm_error_clear(pllm_error *err);
/* Stable lower-case name of a status ("format", "io", ...). */
const char *pllm_status_name(pllm_status code);

/*
 * Cancellation: polled on the calling thread between layers and tokens. Returns
 * true to stop; the engine then unwinds and returns PLLM_ERR_CANCELLED.
 */
typedef bool (*pllm_abort_fn)(void *arg);

/* Version string of the engine ("0.1.0"). */
const char *pllm_version(void);

/*
 * One line describing the build and the running CPU, e.g.
 * "pg_llm 0.1.0; cpu: avx2 avx512f avx512vnni avx512bf16 amx; kernels: avx512; blas: OpenBLAS 0.3.21 (SkylakeX); threads: 2"
 * Writes at most cap bytes (always NUL-terminated); returns buf.
 */
char       *pllm_build_info(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
