/*
 * utf8.h -- the UTF-8 checks streaming output needs: where a buffer stops being
 * complete characters, and copying bytes with invalid sequences replaced by
 * U+FFFD so every emitted piece is valid UTF-8 (PostgreSQL text demands it).
 */
#ifndef PG_LLM_UTF8_H
#define PG_LLM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "pg_llm/sampler.h"

/* Length of the valid sequence starting at s[0..n): 1..4, 0 if invalid, -1 if truncated. */
int    pllm_utf8_seq_len(const unsigned char *s, size_t n);
/*
 * Number of trailing bytes of s[0..n) that start a character not yet complete
 * (0..3): bytes to hold back until more arrive.
 */
size_t pllm_utf8_incomplete_tail(const char *s, size_t n);
/* True when s[0..n) is entirely valid UTF-8. */
bool   pllm_utf8_valid(const char *s, size_t n);
/*
 * Copy s[0..n) to out, replacing each invalid or truncated sequence by U+FFFD.
 * out must hold 3*n bytes; returns the bytes written.
 */
size_t pllm_utf8_sanitize(const char *s, size_t n, char *out);

/*
 * Streaming of generated text (utf8_stream.c): bytes are pushed token by token;
 * the callback receives only complete, valid UTF-8 and never text of (or the
 * possible start of) a stop string. Everything emitted is also collected.
 */
typedef struct pllm_stream_buf
{
	char  *data;
	size_t len;
	size_t cap;
} pllm_stream_buf;

typedef struct pllm_stream
{
	const char *const *stop;     /* n_stop strings; NULL/empty entries ignored */
	int                n_stop;
	pllm_piece_fn      callback;
	void              *user;
	pllm_stream_buf    pending;  /* produced, not yet emitted */
	pllm_stream_buf    out;      /* everything emitted */
	pllm_stream_buf    clean;    /* sanitize scratch */
	bool               stopped;  /* the callback returned false */
} pllm_stream;

void        pllm_stream_init(pllm_stream *st, const char *const *stop, int n_stop,
							 pllm_piece_fn callback, void *user);
/* Add bytes; *hit_stop is set when a stop string appeared (text before it is emitted). */
pllm_status pllm_stream_push(pllm_stream *st, const char *bytes, size_t n, bool *hit_stop,
							 pllm_error *err);
/* End of generation: emit what was held back (a cut character becomes U+FFFD). */
pllm_status pllm_stream_finish(pllm_stream *st, pllm_error *err);
/* Hand over the collected text (malloc'd, NUL-terminated, never NULL unless out of memory). */
char       *pllm_stream_take_text(pllm_stream *st, size_t *len);
void        pllm_stream_free(pllm_stream *st);

#endif
