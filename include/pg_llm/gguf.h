/*
 * gguf.h -- reader for GGUF v2/v3 model files, working on a (pointer, length)
 * buffer so it can be fuzzed. Nothing is copied: strings and tensor data point
 * into the buffer, which must outlive the pllm_gguf.
 */
#ifndef PG_LLM_GGUF_H
#define PG_LLM_GGUF_H

#include "pg_llm/pllm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum pllm_gguf_vtype
{
	PLLM_GGUF_UINT8 = 0,
	PLLM_GGUF_INT8 = 1,
	PLLM_GGUF_UINT16 = 2,
	PLLM_GGUF_INT16 = 3,
	PLLM_GGUF_UINT32 = 4,
	PLLM_GGUF_INT32 = 5,
	PLLM_GGUF_FLOAT32 = 6,
	PLLM_GGUF_BOOL = 7,
	PLLM_GGUF_STRING = 8,
	PLLM_GGUF_ARRAY = 9,
	PLLM_GGUF_UINT64 = 10,
	PLLM_GGUF_INT64 = 11,
	PLLM_GGUF_FLOAT64 = 12,
	PLLM_GGUF_VTYPE_COUNT
} pllm_gguf_vtype;

/* A length-delimited string inside the file (not NUL-terminated). */
typedef struct pllm_str
{
	const char *ptr;
	uint64_t    len;
} pllm_str;

typedef struct pllm_gguf_kv
{
	pllm_str        key;
	pllm_gguf_vtype type;
	union
	{
		uint64_t u;     /* UINT8..UINT64 */
		int64_t  i;     /* INT8..INT64 */
		double   f;     /* FLOAT32, FLOAT64 */
		bool     b;
		pllm_str s;
		struct
		{
			pllm_gguf_vtype type;  /* element type (never ARRAY here) */
			uint64_t        n;
			const uint8_t  *data;  /* first element, unaligned */
			const pllm_str *strs;  /* STRING arrays: n entries, built by the parser */
		}        arr;
	}               v;
} pllm_gguf_kv;

#define PLLM_GGUF_MAX_DIMS 4

typedef struct pllm_gguf_tensor
{
	pllm_str    name;
	uint32_t    n_dims;
	uint64_t    ne[PLLM_GGUF_MAX_DIMS]; /* ne[0] = row length; unused dims are 1 */
	uint32_t    type;                   /* pllm_type (ggml numbering) */
	uint64_t    offset;                 /* relative to the data section */
	uint64_t    nbytes;
	const void *data;                   /* NULL only when the file has 0 tensors */
} pllm_gguf_tensor;

typedef struct pllm_gguf
{
	const uint8_t    *base;
	size_t            size;
	uint32_t          version;
	uint64_t          n_kv;
	pllm_gguf_kv     *kv;
	uint64_t          n_tensors;
	pllm_gguf_tensor *tensors;
	uint64_t          alignment;
	uint64_t          data_offset;
} pllm_gguf;

/*
 * Parse buf[0..len). On success *out owns the index arrays (free with
 * pllm_gguf_free) and borrows buf. Every count, offset and size is checked.
 */
pllm_status pllm_gguf_parse(const void *buf, size_t len, pllm_gguf **out, pllm_error *err);
void        pllm_gguf_free(pllm_gguf *g);

/* Lookups return NULL when absent. */
const pllm_gguf_kv     *pllm_gguf_find(const pllm_gguf *g, const char *key);
const pllm_gguf_tensor *pllm_gguf_find_tensor(const pllm_gguf *g, const char *name);

/*
 * Typed getters: return true and set *out when the key exists and its value
 * converts without loss (any integer type to u32/i64 in range; f32/f64 to float).
 */
bool pllm_gguf_get_u32(const pllm_gguf *g, const char *key, uint32_t *out);
bool pllm_gguf_get_i64(const pllm_gguf *g, const char *key, int64_t *out);
bool pllm_gguf_get_f32(const pllm_gguf *g, const char *key, float *out);
bool pllm_gguf_get_bool(const pllm_gguf *g, const char *key, bool *out);
bool pllm_gguf_get_str(const pllm_gguf *g, const char *key, pllm_str *out);
/* Array element getters (numeric arrays of any integer/float element type). */
bool pllm_gguf_arr_i64(const pllm_gguf_kv *kv, uint64_t i, int64_t *out);
bool pllm_gguf_arr_f32(const pllm_gguf_kv *kv, uint64_t i, float *out);

/* Compare a pllm_str with a C string. */
bool pllm_str_eq(pllm_str s, const char *c);

/* Size in bytes of one element of a scalar metadata type (0 for STRING/ARRAY). */
size_t pllm_gguf_vtype_size(pllm_gguf_vtype t);

#ifdef __cplusplus
}
#endif
#endif
