/*
 * gguf_get.c -- typed access to GGUF metadata values. Getters convert between
 * integer widths only when the value fits, so a negative or huge count in a
 * corrupt file is reported as missing/invalid instead of wrapping.
 */
#include <string.h>

#include "pg_llm/gguf.h"
#include "gguf_internal.h"

static bool
gguf_is_unsigned(pllm_gguf_vtype t)
{
	return t == PLLM_GGUF_UINT8 || t == PLLM_GGUF_UINT16 || t == PLLM_GGUF_UINT32 || t == PLLM_GGUF_UINT64;
}

static bool
gguf_is_signed(pllm_gguf_vtype t)
{
	return t == PLLM_GGUF_INT8 || t == PLLM_GGUF_INT16 || t == PLLM_GGUF_INT32 || t == PLLM_GGUF_INT64;
}

/* Integer value of a scalar kv as i64 (false for non-integers and u64 > INT64_MAX). */
static bool
gguf_kv_i64(const pllm_gguf_kv *kv, int64_t *out)
{
	if (gguf_is_signed(kv->type))
	{
		*out = kv->v.i;
		return true;
	}
	if (gguf_is_unsigned(kv->type) && kv->v.u <= (uint64_t) INT64_MAX)
	{
		*out = (int64_t) kv->v.u;
		return true;
	}
	return false;
}

bool
pllm_gguf_get_i64(const pllm_gguf *g, const char *key, int64_t *out)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, key);

	return kv && gguf_kv_i64(kv, out);
}

bool
pllm_gguf_get_u32(const pllm_gguf *g, const char *key, uint32_t *out)
{
	int64_t v;

	if (!pllm_gguf_get_i64(g, key, &v) || v < 0 || v > (int64_t) UINT32_MAX)
		return false;
	*out = (uint32_t) v;
	return true;
}

bool
pllm_gguf_get_f32(const pllm_gguf *g, const char *key, float *out)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, key);
	int64_t             v;

	if (!kv)
		return false;
	if (kv->type == PLLM_GGUF_FLOAT32 || kv->type == PLLM_GGUF_FLOAT64)
	{
		*out = (float) kv->v.f;
		return true;
	}
	if (gguf_kv_i64(kv, &v))
	{
		*out = (float) v;
		return true;
	}
	return false;
}

bool
pllm_gguf_get_bool(const pllm_gguf *g, const char *key, bool *out)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, key);

	if (!kv || kv->type != PLLM_GGUF_BOOL)
		return false;
	*out = kv->v.b;
	return true;
}

bool
pllm_gguf_get_str(const pllm_gguf *g, const char *key, pllm_str *out)
{
	const pllm_gguf_kv *kv = pllm_gguf_find(g, key);

	if (!kv || kv->type != PLLM_GGUF_STRING)
		return false;
	*out = kv->v.s;
	return true;
}

/* Read element i of a numeric array into a scratch kv, reusing the scalar decoder. */
static bool
gguf_arr_elem(const pllm_gguf_kv *kv, uint64_t i, pllm_gguf_kv *elem)
{
	size_t size;

	if (kv->type != PLLM_GGUF_ARRAY || i >= kv->v.arr.n)
		return false;
	size = pllm_gguf_vtype_size(kv->v.arr.type);
	if (size == 0)
		return false;
	memset(elem, 0, sizeof(*elem));
	elem->type = kv->v.arr.type;
	gguf_decode_scalar(elem->type, kv->v.arr.data + i * size, elem);
	return true;
}

bool
pllm_gguf_arr_i64(const pllm_gguf_kv *kv, uint64_t i, int64_t *out)
{
	pllm_gguf_kv e;

	return gguf_arr_elem(kv, i, &e) && gguf_kv_i64(&e, out);
}

bool
pllm_gguf_arr_f32(const pllm_gguf_kv *kv, uint64_t i, float *out)
{
	pllm_gguf_kv e;
	int64_t      v;

	if (!gguf_arr_elem(kv, i, &e))
		return false;
	if (e.type == PLLM_GGUF_FLOAT32 || e.type == PLLM_GGUF_FLOAT64)
	{
		*out = (float) e.v.f;
		return true;
	}
	if (!gguf_kv_i64(&e, &v))
		return false;
	*out = (float) v;
	return true;
}
