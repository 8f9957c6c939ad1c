/*
 * utf8_stream.c -- turning generated token bytes into streamed text: hold back
 * an unfinished UTF-8 character and any suffix that could begin a stop string,
 * cut the text at the first stop string, replace invalid bytes by U+FFFD.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool
sbuf_reserve(pllm_stream_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	char  *p;

	if (need <= b->cap)
		return true;
	if (need < 2 * b->cap)
		need = 2 * b->cap;
	if (need < 256)
		need = 256;
	p = realloc(b->data, need);
	if (!p)
		return false;
	b->data = p;
	b->cap = need;
	return true;
}

static bool
sbuf_append(pllm_stream_buf *b, const char *s, size_t n)
{
	if (!sbuf_reserve(b, n))
		return false;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

void
pllm_stream_init(pllm_stream *st, const char *const *stop, int n_stop, pllm_piece_fn callback,
				 void *user)
{
	memset(st, 0, sizeof(*st));
	st->stop = stop;
	st->n_stop = stop ? n_stop : 0;
	st->callback = callback;
	st->user = user;
}

void
pllm_stream_free(pllm_stream *st)
{
	free(st->pending.data);
	free(st->out.data);
	free(st->clean.data);
	memset(st, 0, sizeof(*st));
}

/* Emit pending[0..n) (sanitized) and drop it from pending. */
static pllm_status
stream_emit(pllm_stream *st, size_t n, pllm_error *err)
{
	size_t w;

	if (n == 0)
		return PLLM_OK;
	st->clean.len = 0;
	if (!sbuf_reserve(&st->clean, 3 * n))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for generated text");
	w = pllm_utf8_sanitize(st->pending.data, n, st->clean.data);
	st->clean.data[w] = '\0';
	if (!sbuf_append(&st->out, st->clean.data, w))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for generated text");
	memmove(st->pending.data, st->pending.data + n, st->pending.len - n);
	st->pending.len -= n;
	if (st->callback && !st->stopped && !st->callback(st->clean.data, w, st->user))
		st->stopped = true;
	return PLLM_OK;
}

/* Offset of the earliest stop string in pending, or -1. */
static long
stream_find_stop(const pllm_stream *st)
{
	long best = -1;
	int  i;

	for (i = 0; i < st->n_stop; i++)
	{
		const char *s = st->stop[i];
		const char *hit;

		if (!s || !*s || st->pending.len == 0)
			continue;
		hit = memmem(st->pending.data, st->pending.len, s, strlen(s));
		if (hit && (best < 0 || hit - st->pending.data < best))
			best = hit - st->pending.data;
	}
	return best;
}

/* Longest suffix of pending that is a proper prefix of some stop string. */
static size_t
stream_stop_holdback(const pllm_stream *st)
{
	size_t best = 0;
	int    i;

	for (i = 0; i < st->n_stop; i++)
	{
		const char *s = st->stop[i];
		size_t      k;

		if (!s || !*s)
			continue;
		k = strlen(s) - 1;
		if (k > st->pending.len)
			k = st->pending.len;
		for (; k > best; k--)
			if (memcmp(st->pending.data + st->pending.len - k, s, k) == 0)
			{
				best = k;
				break;
			}
	}
	return best;
}

pllm_status
pllm_stream_push(pllm_stream *st, const char *bytes, size_t n, bool *hit_stop, pllm_error *err)
{
	long   at;
	size_t hold, tail;

	*hit_stop = false;
	if (!sbuf_append(&st->pending, bytes, n))
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for generated text");
	at = stream_find_stop(st);
	if (at >= 0)
	{
		*hit_stop = true;
		st->pending.len = (size_t) at;
		return stream_emit(st, (size_t) at, err);
	}
	hold = stream_stop_holdback(st);
	tail = pllm_utf8_incomplete_tail(st->pending.data, st->pending.len);
	if (tail > hold)
		hold = tail;
	return stream_emit(st, st->pending.len - hold, err);
}

pllm_status
pllm_stream_finish(pllm_stream *st, pllm_error *err)
{
	return stream_emit(st, st->pending.len, err);
}

char *
pllm_stream_take_text(pllm_stream *st, size_t *len)
{
	char *t;

	if (!sbuf_reserve(&st->out, 0))
		return NULL;
	st->out.data[st->out.len] = '\0';
	t = st->out.data;
	if (len)
		*len = st->out.len;
	st->out.data = NULL;
	st->out.len = st->out.cap = 0;
	return t;
}
