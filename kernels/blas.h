/*
 * blas.h -- bridge to OpenBLAS's sgemm, loaded lazily with dlopen in the process
 * that computes. Loading it ourselves lets us (1) keep OpenBLAS out of the
 * PostgreSQL postmaster, whose library constructors would otherwise start BLAS
 * threads before fork, and (2) name the right core for OpenBLAS 0.3.21, which
 * mis-detects AVX-512 virtual CPUs as SSE3 parts (~6x slower sgemm): when the CPU
 * has AVX-512 and OPENBLAS_CORETYPE is unset, we set it to SkylakeX first.
 * Without OpenBLAS, a portable blocked loop computes the same product.
 */
#ifndef PG_LLM_BLAS_H
#define PG_LLM_BLAS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * C(m, n) = A(m, k) . B(n, k)^T, all f32 row-major with leading dimensions
 * lda, ldb, ldc (elements). A is activations (tokens x features), B a weight
 * matrix stored row by row, so C is (tokens x output features).
 */
void        kern_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
						  const float *b, int64_t ldb, float *c, int64_t ldc);
/*
 * The same product with the columns of C (rows of B) split over the thread pool,
 * each slice one single-threaded sgemm (OpenBLAS's own threads would compete
 * with the pool's). Call from the computing thread, outside pool tasks.
 */
void        kern_sgemm_nt_mt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
							 const float *b, int64_t ldb, float *c, int64_t ldc);
/* True when OpenBLAS was found (loads it on first call). */
bool        kern_blas_available(void);
/* "OpenBLAS 0.3.21 (core SkylakeX, set by pg_llm)" or "none (portable loop)". */
const char *kern_blas_info(void);
/* Threads OpenBLAS may use (applied at the next sgemm). */
void        kern_blas_set_threads(int n);
/* Force the portable loop (tests compare it with OpenBLAS). */
void        kern_sgemm_nt_ref(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
							  const float *b, int64_t ldb, float *c, int64_t ldc);

#endif
