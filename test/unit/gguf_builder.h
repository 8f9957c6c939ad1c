/*
 * gguf_builder.h -- builds small GGUF files in memory for the parser tests,
 * so each malformed case is written out explicitly rather than patched bytes.
 */
#ifndef PG_LLM_TEST_GGUF_BUILDER_H
#define PG_LLM_TEST_GGUF_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gb_buf
{
	uint8_t *p;
	size_t   len, cap;
} gb_buf;

static inline void
gb_put(gb_buf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap)
	{
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static inline void gb_u8(gb_buf *b, uint8_t v) { gb_put(b, &v, 1); }
static inline void gb_u32(gb_buf *b, uint32_t v) { gb_put(b, &v, 4); }
static inline void gb_u64(gb_buf *b, uint64_t v) { gb_put(b, &v, 8); }
static inline void gb_f32(gb_buf *b, float v) { gb_put(b, &v, 4); }

static inline void
gb_str(gb_buf *b, const char *s)
{
	gb_u64(b, strlen(s));
	gb_put(b, s, strlen(s));
}

static inline void
gb_header(gb_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	gb_put(b, "GGUF", 4);
	gb_u32(b, version);
	gb_u64(b, n_tensors);
	gb_u64(b, n_kv);
}

static inline void gb_kv_u32(gb_buf *b, const char *k, uint32_t v) { gb_str(b, k); gb_u32(b, 4); gb_u32(b, v); }
static inline void gb_kv_f32(gb_buf *b, const char *k, float v) { gb_str(b, k); gb_u32(b, 6); gb_f32(b, v); }
static inline void gb_kv_str(gb_buf *b, const char *k, const char *v) { gb_str(b, k); gb_u32(b, 8); gb_str(b, v); }

static inline void
gb_tensor(gb_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type, uint64_t offset)
{
	gb_str(b, name);
	gb_u32(b, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		gb_u64(b, ne[d]);
	gb_u32(b, type);
	gb_u64(b, offset);
}

static inline void
gb_align(gb_buf *b, size_t a)
{
	while (b->len % a)
		gb_u8(b, 0);
}

#endif
