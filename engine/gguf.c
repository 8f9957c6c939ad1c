/*
 * gguf.c -- GGUF v2/v3 parser over a (pointer, length) buffer.
 *
 * Layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, then n_kv
 * key/value pairs, n_tensors tensor infos, padding to general.alignment, and
 * the tensor data. All integers are little-endian. Every count is checked
 * against the bytes that remain before anything is allocated, so a corrupt
 * header cannot make us allocate or read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_llm/gguf.h"
#include "pg_llm/types.h"
#include "gguf_internal.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32

typedef struct gguf_reader
{
	const uint8_t *p;
	size_t         len;
	size_t         pos;
	pllm_error    *err;
} gguf_reader;

static pllm_status
gguf_truncated(gguf_reader *r, const char *what)
{
	return pllm_error_set(r->err, PLLM_ERR_FORMAT,
						  "file truncated while reading %s at offset %zu of %zu",
						  what, r->pos, r->len);
}

static pllm_status
gguf_read_bytes(gguf_reader *r, void *dst, size_t n, const char *what)
{
	if (r->len - r->pos < n)
		return gguf_truncated(r, what);
	memcpy(dst, r->p + r->pos, n);
	r->pos += n;
	return PLLM_OK;
}

static pllm_status
gguf_read_u32(gguf_reader *r, uint32_t *v, const char *what)
{
	return gguf_read_bytes(r, v, 4, what);
}

static pllm_status
gguf_read_u64(gguf_reader *r, uint64_t *v, const char *what)
{
	return gguf_read_bytes(r, v, 8, what);
}

static pllm_status
gguf_read_str(gguf_reader *r, pllm_str *s, const char *what)
{
	uint64_t n = 0;

	if (gguf_read_u64(r, &n, what) != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (n > r->len - r->pos)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT,
							  "%s: string length %llu at offset %zu runs past the end of the file",
							  what, (unsigned long long) n, r->pos);
	s->ptr = (const char *) r->p + r->pos;
	s->len = n;
	r->pos += n;
	return PLLM_OK;
}

size_t
pllm_gguf_vtype_size(pllm_gguf_vtype t)
{
	static const uint8_t sizes[PLLM_GGUF_VTYPE_COUNT] = {
		[PLLM_GGUF_UINT8] = 1, [PLLM_GGUF_INT8] = 1,
		[PLLM_GGUF_UINT16] = 2, [PLLM_GGUF_INT16] = 2,
		[PLLM_GGUF_UINT32] = 4, [PLLM_GGUF_INT32] = 4, [PLLM_GGUF_FLOAT32] = 4,
		[PLLM_GGUF_BOOL] = 1,
		[PLLM_GGUF_UINT64] = 8, [PLLM_GGUF_INT64] = 8, [PLLM_GGUF_FLOAT64] = 8,
	};

	return (unsigned) t < PLLM_GGUF_VTYPE_COUNT ? sizes[t] : 0;
}

/* Decode one little-endian scalar of type t at p into the kv union. */
void
gguf_decode_scalar(pllm_gguf_vtype t, const uint8_t *p, pllm_gguf_kv *kv)
{
	uint8_t  u8; int8_t i8; uint16_t u16; int16_t i16;
	uint32_t u32; int32_t i32; float f32; double f64;

	switch (t)
	{
		case PLLM_GGUF_UINT8: memcpy(&u8, p, 1); kv->v.u = u8; break;
		case PLLM_GGUF_INT8: memcpy(&i8, p, 1); kv->v.i = i8; break;
		case PLLM_GGUF_UINT16: memcpy(&u16, p, 2); kv->v.u = u16; break;
		case PLLM_GGUF_INT16: memcpy(&i16, p, 2); kv->v.i = i16; break;
		case PLLM_GGUF_UINT32: memcpy(&u32, p, 4); kv->v.u = u32; break;
		case PLLM_GGUF_INT32: memcpy(&i32, p, 4); kv->v.i = i32; break;
		case PLLM_GGUF_FLOAT32: memcpy(&f32, p, 4); kv->v.f = f32; break;
		case PLLM_GGUF_BOOL: kv->v.b = p[0] != 0; break;
		case PLLM_GGUF_UINT64: memcpy(&kv->v.u, p, 8); break;
		case PLLM_GGUF_INT64: memcpy(&kv->v.i, p, 8); break;
		case PLLM_GGUF_FLOAT64: memcpy(&f64, p, 8); kv->v.f = f64; break;
		default: break;
	}
}

static pllm_status
gguf_read_array(gguf_reader *r, pllm_gguf_kv *kv)
{
	uint32_t etype;
	uint64_t n;
	size_t   esize;

	if (gguf_read_u32(r, &etype, "array type") != PLLM_OK ||
		gguf_read_u64(r, &n, "array length") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (etype >= PLLM_GGUF_VTYPE_COUNT || etype == PLLM_GGUF_ARRAY)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "key \"%.*s\": invalid array element type %u",
							  (int) kv->key.len, kv->key.ptr, etype);
	kv->v.arr.type = (pllm_gguf_vtype) etype;
	kv->v.arr.n = n;
	kv->v.arr.data = r->p + r->pos;
	kv->v.arr.strs = NULL;
	if (etype != PLLM_GGUF_STRING)
	{
		esize = pllm_gguf_vtype_size((pllm_gguf_vtype) etype);
		if (n > (r->len - r->pos) / esize)
			return pllm_error_set(r->err, PLLM_ERR_FORMAT,
								  "key \"%.*s\": array of %llu elements runs past the end of the file",
								  (int) kv->key.len, kv->key.ptr, (unsigned long long) n);
		r->pos += (size_t) n * esize;
		return PLLM_OK;
	}
	/* each string takes at least its 8-byte length */
	if (n > (r->len - r->pos) / 8)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT,
							  "key \"%.*s\": array of %llu strings runs past the end of the file",
							  (int) kv->key.len, kv->key.ptr, (unsigned long long) n);
	{
		pllm_str *strs = malloc(n ? (size_t) n * sizeof(pllm_str) : 1);

		if (!strs)
			return pllm_error_set(r->err, PLLM_ERR_NOMEM, "out of memory reading string array");
		kv->v.arr.strs = strs;
		for (uint64_t i = 0; i < n; i++)
			if (gguf_read_str(r, &strs[i], "string array element") != PLLM_OK)
				return PLLM_ERR_FORMAT;
	}
	return PLLM_OK;
}

static pllm_status
gguf_read_kv(gguf_reader *r, pllm_gguf_kv *kv)
{
	uint32_t type;
	size_t   size;

	if (gguf_read_str(r, &kv->key, "metadata key") != PLLM_OK ||
		gguf_read_u32(r, &type, "metadata value type") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (type >= PLLM_GGUF_VTYPE_COUNT)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "key \"%.*s\": invalid value type %u",
							  (int) kv->key.len, kv->key.ptr, type);
	kv->type = (pllm_gguf_vtype) type;
	if (type == PLLM_GGUF_STRING)
		return gguf_read_str(r, &kv->v.s, "metadata string");
	if (type == PLLM_GGUF_ARRAY)
		return gguf_read_array(r, kv);
	size = pllm_gguf_vtype_size(kv->type);
	if (r->len - r->pos < size)
		return gguf_truncated(r, "metadata value");
	gguf_decode_scalar(kv->type, r->p + r->pos, kv);
	r->pos += size;
	return PLLM_OK;
}

static bool
pllm_str_eq_str(pllm_str a, pllm_str b)
{
	return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static pllm_status
gguf_read_tensor_info(gguf_reader *r, pllm_gguf_tensor *t)
{
	if (gguf_read_str(r, &t->name, "tensor name") != PLLM_OK ||
		gguf_read_u32(r, &t->n_dims, "tensor dimensions") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (t->n_dims == 0 || t->n_dims > PLLM_GGUF_MAX_DIMS)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "tensor \"%.*s\": %u dimensions (1 to %d allowed)",
							  (int) t->name.len, t->name.ptr, t->n_dims, PLLM_GGUF_MAX_DIMS);
	for (int d = 0; d < PLLM_GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (uint32_t d = 0; d < t->n_dims; d++)
		if (gguf_read_u64(r, &t->ne[d], "tensor shape") != PLLM_OK)
			return PLLM_ERR_FORMAT;
	if (gguf_read_u32(r, &t->type, "tensor type") != PLLM_OK ||
		gguf_read_u64(r, &t->offset, "tensor offset") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	return PLLM_OK;
}

/* Byte size of a tensor, with overflow and block-size checks. */
static pllm_status
gguf_tensor_nbytes(gguf_reader *r, pllm_gguf_tensor *t)
{
	uint64_t rows = 1;
	size_t   row_bytes;

	for (int d = 0; d < PLLM_GGUF_MAX_DIMS; d++)
		if (t->ne[d] == 0 || t->ne[d] > ((uint64_t) 1 << 40))
			return pllm_error_set(r->err, PLLM_ERR_FORMAT, "tensor \"%.*s\": invalid dimension %llu",
								  (int) t->name.len, t->name.ptr, (unsigned long long) t->ne[d]);
	if (pllm_type_block_size(t->type) == 0)
		return pllm_error_set(r->err, PLLM_ERR_UNSUPPORTED, "tensor \"%.*s\" has unknown tensor type %u",
							  (int) t->name.len, t->name.ptr, t->type);
	row_bytes = pllm_type_row_bytes(t->type, (int64_t) t->ne[0]);
	if (row_bytes == 0)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT,
							  "tensor \"%.*s\": row length %llu is not a multiple of the %s block size",
							  (int) t->name.len, t->name.ptr, (unsigned long long) t->ne[0],
							  pllm_type_name(t->type));
	for (int d = 1; d < PLLM_GGUF_MAX_DIMS; d++)
	{
		if (rows > UINT64_MAX / t->ne[d])
			return pllm_error_set(r->err, PLLM_ERR_FORMAT, "tensor \"%.*s\": size overflows",
								  (int) t->name.len, t->name.ptr);
		rows *= t->ne[d];
	}
	if (rows > UINT64_MAX / row_bytes)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "tensor \"%.*s\": size overflows",
							  (int) t->name.len, t->name.ptr);
	t->nbytes = rows * row_bytes;
	return PLLM_OK;
}

static pllm_status
gguf_read_header(gguf_reader *r, pllm_gguf *g)
{
	char magic[4];

	if (gguf_read_bytes(r, magic, 4, "magic") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (memcmp(magic, GGUF_MAGIC, 4) != 0)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "not a GGUF file (bad magic)");
	if (gguf_read_u32(r, &g->version, "version") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	if (g->version == 1)
		return pllm_error_set(r->err, PLLM_ERR_UNSUPPORTED,
							  "GGUF version 1 is not supported (re-convert the model with a current llama.cpp)");
	if (g->version != 2 && g->version != 3)
		return pllm_error_set(r->err, PLLM_ERR_UNSUPPORTED, "unknown GGUF version %u", g->version);
	if (gguf_read_u64(r, &g->n_tensors, "tensor count") != PLLM_OK ||
		gguf_read_u64(r, &g->n_kv, "metadata count") != PLLM_OK)
		return PLLM_ERR_FORMAT;
	/* a key/value takes at least 12 bytes, a tensor info at least 28 */
	if (g->n_kv > (r->len - r->pos) / 12)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "file is truncated or corrupt: metadata count %llu exceeds the file size",
							  (unsigned long long) g->n_kv);
	if (g->n_tensors > (r->len - r->pos) / 28)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "file is truncated or corrupt: tensor count %llu exceeds the file size",
							  (unsigned long long) g->n_tensors);
	return PLLM_OK;
}

static pllm_status
gguf_read_all_kv(gguf_reader *r, pllm_gguf *g)
{
	g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof(pllm_gguf_kv));
	if (!g->kv)
		return pllm_error_set(r->err, PLLM_ERR_NOMEM, "out of memory reading metadata");
	for (uint64_t i = 0; i < g->n_kv; i++)
	{
		if (gguf_read_kv(r, &g->kv[i]) != PLLM_OK)
		{
			g->n_kv = i + 1;   /* so free() sees the partly-read entry */
			return PLLM_ERR_FORMAT;
		}
		for (uint64_t j = 0; j < i; j++)
			if (pllm_str_eq_str(g->kv[j].key, g->kv[i].key))
			{
				g->n_kv = i + 1;
				return pllm_error_set(r->err, PLLM_ERR_FORMAT, "duplicate metadata key \"%.*s\"",
									  (int) g->kv[i].key.len, g->kv[i].key.ptr);
			}
	}
	return PLLM_OK;
}

static pllm_status
gguf_read_alignment(gguf_reader *r, pllm_gguf *g)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, "general.alignment");

	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (!kv)
		return PLLM_OK;
	if (kv->type != PLLM_GGUF_UINT32 || kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) != 0)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "general.alignment must be a power of two (uint32)");
	g->alignment = kv->v.u;
	return PLLM_OK;
}

static pllm_status
gguf_read_all_tensors(gguf_reader *r, pllm_gguf *g)
{
	uint64_t data_size;

	g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof(pllm_gguf_tensor));
	if (!g->tensors)
		return pllm_error_set(r->err, PLLM_ERR_NOMEM, "out of memory reading tensor infos");
	for (uint64_t i = 0; i < g->n_tensors; i++)
	{
		pllm_gguf_tensor *t = &g->tensors[i];
		pllm_status       st = gguf_read_tensor_info(r, t);

		if (st == PLLM_OK)
			st = gguf_tensor_nbytes(r, t);
		if (st != PLLM_OK)
			return st;
		for (uint64_t j = 0; j < i; j++)
			if (pllm_str_eq_str(g->tensors[j].name, t->name))
				return pllm_error_set(r->err, PLLM_ERR_FORMAT, "duplicate tensor \"%.*s\"",
									  (int) t->name.len, t->name.ptr);
	}
	g->data_offset = (r->pos + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors == 0)
		return PLLM_OK;        /* vocab-only files may end before the data offset */
	if (g->data_offset > r->len)
		return pllm_error_set(r->err, PLLM_ERR_FORMAT, "file truncated before the tensor data");
	data_size = r->len - g->data_offset;
	for (uint64_t i = 0; i < g->n_tensors; i++)
	{
		pllm_gguf_tensor *t = &g->tensors[i];

		if (t->offset % g->alignment != 0)
			return pllm_error_set(r->err, PLLM_ERR_FORMAT, "tensor \"%.*s\": offset %llu is not aligned to %llu",
								  (int) t->name.len, t->name.ptr, (unsigned long long) t->offset,
								  (unsigned long long) g->alignment);
		if (t->offset > data_size || t->nbytes > data_size - t->offset)
			return pllm_error_set(r->err, PLLM_ERR_FORMAT,
								  "tensor \"%.*s\": data (offset %llu, %llu bytes) runs past the end of the file",
								  (int) t->name.len, t->name.ptr, (unsigned long long) t->offset,
								  (unsigned long long) t->nbytes);
		t->data = r->p + g->data_offset + t->offset;
	}
	return PLLM_OK;
}

pllm_status
pllm_gguf_parse(const void *buf, size_t len, pllm_gguf **out, pllm_error *err)
{
	gguf_reader r = {.p = buf, .len = buf ? len : 0, .pos = 0, .err = err};
	pllm_gguf  *g;
	pllm_status st;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory");
	g->base = buf;
	g->size = r.len;
	st = gguf_read_header(&r, g);
	if (st == PLLM_OK)
		st = gguf_read_all_kv(&r, g);
	if (st == PLLM_OK)
		st = gguf_read_alignment(&r, g);
	if (st == PLLM_OK)
		st = gguf_read_all_tensors(&r, g);
	if (st != PLLM_OK)
	{
		if (!g->tensors)
			g->n_tensors = 0;
		pllm_gguf_free(g);
		return st;
	}
	*out = g;
	return PLLM_OK;
}

void
pllm_gguf_free(pllm_gguf *g)
{
	if (!g)
		return;
	if (g->kv)
		for (uint64_t i = 0; i < g->n_kv; i++)
			if (g->kv[i].type == PLLM_GGUF_ARRAY)
				free((void *) g->kv[i].v.arr.strs);
	free(g->kv);
	free(g->tensors);
	free(g);
}

bool
pllm_str_eq(pllm_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len == n && memcmp(s.ptr, c, n) == 0;
}

const pllm_gguf_kv *
pllm_gguf_find(const pllm_gguf *g, const char *key)
{
	for (uint64_t i = 0; i < g->n_kv; i++)
		if (pllm_str_eq(g->kv[i].key, key))
			return &g->kv[i];
	return NULL;
}

const pllm_gguf_tensor *
pllm_gguf_find_tensor(const pllm_gguf *g, const char *name)
{
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (pllm_str_eq(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}
