/*
 * gemm_avx512.c -- AVX-512 VNNI matrix products for Q8_0, Q4_0, Q5_0 and Q4_K
 * weights: out[t * ldo + r] = W row r . activation row t, for a range of rows and
 * tokens. Register tiles of up to 4 rows x 4 tokens (4 x 2 for Q4_K) reuse each
 * weight block across tokens and each activation block across rows; one token
 * (decode) is the same code with a 1-token tile.
 *
 * Arithmetic: integer dot products per block are exact (vpdpbusd / vpdpwssd),
 * then scaled as the scalar references do, so only the order of the float
 * additions differs. Every (row, token) pair runs the same instruction sequence
 * whatever tile it falls in, so results do not depend on how rows or tokens are
 * split (threads, batches).
 *
 * Decode is bound by memory: the tiles prefetch the next tile's rows into L2
 * (rows lie one after another), which lifted one-token products from ~8 to
 * ~15-18 GB/s per thread on the Zen 4 VMs; prefetching into L1 stalls on its
 * few miss buffers.
 */
#include <immintrin.h>
#include <string.h>

#include "quant.h"

#define GEMM_TARGET \
	__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))
#define GEMM_INLINE GEMM_TARGET static inline __attribute__((always_inline))

/* ---- helpers -------------------------------------------------------------- */

GEMM_INLINE __m512i
join256(__m256i lo, __m256i hi)
{
	return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* 32 signed weights of one block, as bytes */
GEMM_INLINE __m256i
w8_q8_0(const block_q8_0 *b)
{
	return _mm256_loadu_si256((const __m256i *) b->qs);
}

GEMM_INLINE __m256i
w8_q4_0(const block_q4_0 *b)
{
	__m128i q = _mm_loadu_si128((const __m128i *) b->qs);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);

	return _mm256_sub_epi8(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

GEMM_INLINE __m256i
w8_q5_0(const block_q5_0 *b)
{
	__m128i  q = _mm_loadu_si128((const __m128i *) b->qs);
	__m256i  v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
	uint32_t qh;

	memcpy(&qh, b->qh, 4);
	/* q - 16 where bit 4 (from qh) is clear, q otherwise */
	return _mm256_mask_sub_epi8(v, (__mmask32) ~qh, v, _mm256_set1_epi8(16));
}

enum { KIND_Q8_0, KIND_Q4_0, KIND_Q5_0 };

#define KIND_BYTES(kind) \
	((kind) == KIND_Q8_0 ? sizeof(block_q8_0) : (kind) == KIND_Q4_0 ? sizeof(block_q4_0) : sizeof(block_q5_0))

/*
 * f32 scales of a block pair: lanes 0-7 = d0, 8-15 = d1 (order 0), or, for the
 * nibble layout, lanes 0-3 and 8-11 = d0, 4-7 and 12-15 = d1 (order 1).
 */
GEMM_INLINE __m512
pair_scales(uint16_t d0, uint16_t d1, int order)
{
	__m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128((int) ((uint32_t) d0 | ((uint32_t) d1 << 16))));

	if (order == 0)
		return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
									 _mm512_castps128_ps512(f));
	return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0),
								 _mm512_castps128_ps512(f));
}

/*
 * Blocks i and i+1 of a Q8_0 row (activations or Q8_0 weights), or block i
 * alone (two = 0: the upper half and its scale are 0): the signed quants of
 * both blocks one after the other, and the scales (order 0).
 */
GEMM_INLINE void
q8_pair(const char *blk, int two, __m512i *q, __m512 *d)
{
	const block_q8_0 *x = (const block_q8_0 *) blk;
	__m256i           hi = _mm256_setzero_si256();
	uint16_t          d1 = 0;

	if (two)
		hi = _mm256_loadu_si256((const __m256i *) x[1].qs), d1 = x[1].d;
	*q = join256(_mm256_loadu_si256((const __m256i *) x->qs), hi);
	*d = pair_scales(x->d, d1, 0);
}

/*
 * Blocks i, i+1 (or i alone) of a weight row of `kind` at blk as unsigned
 * quants u = w + off (off = 128, 8, 16; for Q4_0/Q5_0 that is the stored q)
 * and their scales. Q8_0 keeps the activation order; Q4_0/Q5_0 come in the
 * nibble layout, 16 elements per 128-bit lane: i[0:16], i+1[0:16], i[16:32],
 * i+1[16:32] (low nibbles of both qs, then high ones), which the activations
 * are shuffled to match.
 */
GEMM_INLINE void
w_pair(int kind, const char *blk, int two, __m512i *q, __m512 *d)
{
	if (kind == KIND_Q8_0)
	{
		q8_pair(blk, two, q, d);
		*q = _mm512_xor_si512(*q, _mm512_set1_epi8((char) 0x80));
	}
	else if (kind == KIND_Q4_0)
	{
		const block_q4_0 *x = (const block_q4_0 *) blk;
		__m128i           hi = _mm_setzero_si128();
		uint16_t          d1 = 0;
		__m256i           y;

		if (two)
			hi = _mm_loadu_si128((const __m128i *) x[1].qs), d1 = x[1].d;
		y = _mm256_set_m128i(hi, _mm_loadu_si128((const __m128i *) x->qs));
		*q = _mm512_and_si512(join256(y, _mm256_srli_epi16(y, 4)), _mm512_set1_epi8(0x0F));
		*d = pair_scales(x->d, d1, 1);
	}
	else
	{
		const block_q5_0 *x = (const block_q5_0 *) blk;
		__m128i           hi = _mm_setzero_si128();
		uint16_t          d1 = 0;
		uint32_t          h0, h1 = 0;
		uint64_t          hm;
		__m256i           y;

		memcpy(&h0, x->qh, 4);
		if (two)
		{
			hi = _mm_loadu_si128((const __m128i *) x[1].qs), d1 = x[1].d;
			memcpy(&h1, x[1].qh, 4);
		}
		y = _mm256_set_m128i(hi, _mm_loadu_si128((const __m128i *) x->qs));
		*q = _mm512_and_si512(join256(y, _mm256_srli_epi16(y, 4)), _mm512_set1_epi8(0x0F));
		/* bit 4 of element j is bit j of qh, laid out as the nibbles are */
		hm = (uint64_t) (h0 & 0xFFFFu) | (uint64_t) (h1 & 0xFFFFu) << 16 |
			(uint64_t) (h0 >> 16) << 32 | (uint64_t) (h1 >> 16) << 48;
		*q = _mm512_mask_add_epi8(*q, (__mmask64) hm, *q, _mm512_set1_epi8(16));
		*d = pair_scales(x->d, d1, 1);
	}
}

/* ---- 32-element blocks: Q8_0, Q4_0, Q5_0 weights, Q8_0 activations -------- */

/*
 * One step over blocks i, i+1 for an R x T tile. With u = w + off unsigned and
 * a signed, dpbusd(-off*sum(a), u, a) = sum(w*a) exactly per 4-byte lane (the
 * correction depends on the token only, so each row costs one dpbusd); the 16
 * int32 lanes (8 per block) times d_w*d_a are added to each pair's accumulator.
 */
GEMM_INLINE void
b32_step(int kind, int R, int T, const char *w, size_t ws, const char *a, size_t as, int64_t i,
		 int two, __m512 acc[4][4])
{
	const int     off = kind == KIND_Q8_0 ? 128 : kind == KIND_Q4_0 ? 8 : 16;
	__m512i       av[4], ca[4];
	__m512        ad[4];

#pragma GCC unroll 4
	for (int t = 0; t < T; t++)
	{
		q8_pair(a + (size_t) t * as + (size_t) i * sizeof(block_q8_0), two, &av[t], &ad[t]);
		if (kind != KIND_Q8_0)
		{
			/* to the nibble layout of the weights */
			av[t] = _mm512_shuffle_i64x2(av[t], av[t], _MM_SHUFFLE(3, 1, 2, 0));
			ad[t] = _mm512_shuffle_f32x4(ad[t], ad[t], _MM_SHUFFLE(3, 1, 2, 0));
		}
		ca[t] = _mm512_sub_epi32(_mm512_setzero_si512(),
								 _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8((char) off), av[t]));
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
	{
		__m512i wq;
		__m512  wd;

		w_pair(kind, w + (size_t) r * ws + (size_t) i * KIND_BYTES(kind), two, &wq, &wd);
#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
		{
			__m512i dp = _mm512_dpbusd_epi32(ca[t], wq, av[t]);

			acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dp), _mm512_mul_ps(wd, ad[t]), acc[r][t]);
		}
	}
}

/*
 * Weight rows lie one after another, so while a tile works through its rows
 * it prefetches the same columns of the next tile's rows: a tile (R rows)
 * ahead in the stream, whatever the row length.
 */
GEMM_INLINE void
b32_tile(int kind, int R, int T, int64_t nb, const char *w, size_t ws, const char *a, size_t as,
		 float *out, int64_t ldo)
{
	__m512  acc[4][4];
	int64_t i = 0;

#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
			acc[r][t] = _mm512_setzero_ps();
	for (; i + 2 <= nb; i += 2)
	{
#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			_mm_prefetch(w + (size_t) (R + r) * ws + (size_t) i * KIND_BYTES(kind), _MM_HINT_T1);
		b32_step(kind, R, T, w, ws, a, as, i, 1, acc);
	}
	if (i < nb)
		b32_step(kind, R, T, w, ws, a, as, i, 0, acc);
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
			out[t * ldo + r] = _mm512_reduce_add_ps(acc[r][t]);
}

#define B32_TILE_FN(name, kind, R, T) \
	GEMM_TARGET static void name(int64_t nb, const char *w, size_t ws, const char *a, size_t as, \
								 float *out, int64_t ldo) \
	{ b32_tile(kind, R, T, nb, w, ws, a, as, out, ldo); }

typedef void (*tile_fn)(int64_t nb, const char *w, size_t ws, const char *a, size_t as, float *out,
						int64_t ldo);

#define B32_TILES(k, KIND) \
	B32_TILE_FN(k##_4x4, KIND, 4, 4) B32_TILE_FN(k##_4x3, KIND, 4, 3) \
	B32_TILE_FN(k##_4x2, KIND, 4, 2) B32_TILE_FN(k##_4x1, KIND, 4, 1) \
	B32_TILE_FN(k##_1x4, KIND, 1, 4) B32_TILE_FN(k##_1x3, KIND, 1, 3) \
	B32_TILE_FN(k##_1x2, KIND, 1, 2) B32_TILE_FN(k##_1x1, KIND, 1, 1) \
	static const tile_fn k##_tiles[2][4] = { \
		{k##_1x1, k##_1x2, k##_1x3, k##_1x4}, {k##_4x1, k##_4x2, k##_4x3, k##_4x4}};

B32_TILES(q8_0, KIND_Q8_0)
B32_TILES(q4_0, KIND_Q4_0)
B32_TILES(q5_0, KIND_Q5_0)

/*
 * Rows in tiles of 4 (then single rows), tokens in tiles of up to tmax. Row
 * tiles outermost: a tile's weights stay in L1 while the tokens stream past.
 */
static void
run_tiles(const tile_fn tiles[2][4], int tmax, int64_t nb, const void *w, size_t ws, int64_t nr,
		  const void *act, size_t as, int64_t nt, float *out, int64_t ldo)
{
	for (int64_t r = 0; r < nr;)
	{
		int big = nr - r >= 4;

		for (int64_t t = 0; t < nt; t += tmax)
		{
			int64_t tn = nt - t < tmax ? nt - t : tmax;

			tiles[big][tn - 1](nb, (const char *) w + (size_t) r * ws, ws,
							   (const char *) act + (size_t) t * as, as, out + t * ldo + r, ldo);
		}
		r += big ? 4 : 1;
	}
}

/*
 * Many tokens: lanes are weight rows. 15 rows of a block are repacked (once per
 * call per 1024 columns) into 8 x 64 bytes, 4 bytes of each row per lane, as
 * unsigned u = w + off (off = 128 for Q8_0, 8 for Q4_0, 16 for Q5_0: the stored
 * q itself for the latter two); lane 15 holds the constant off. One vpdpbusd
 * with 4 activation bytes broadcast from memory then advances 15 rows of one
 * token, and lane 15 ends as off * sum(a), the correction: I_r = lane r - lane 15
 * = sum(w * a) exactly. Per block: acc_r += (float) I_r * (d_w * d_a), a
 * multiply then an add, in block order -- the scalar reference's arithmetic,
 * so these results equal kern_vec_dot_<type> bit for bit.
 */
#define X15_ROWS  15
#define X15_KC    32          /* blocks per repacked chunk: 16 KiB of weights */
#define X15_TOK   8           /* tokens per register tile */
#define X15_RN    (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

typedef struct x15_chunk
{
	uint8_t q[X15_KC][8][64];   /* [block][4-byte group][lane] */
	float   d[X15_KC][16];      /* weight scales per lane (0 for unused lanes) */
} x15_chunk;

/* Unsigned quants (w + off) of one 32-block of `kind`, as 32 bytes. */
GEMM_INLINE __m256i
u8_block(int kind, const void *row, int64_t i, uint16_t *d)
{
	if (kind == KIND_Q8_0)
	{
		const block_q8_0 *x = (const block_q8_0 *) row + i;

		*d = x->d;
		return _mm256_xor_si256(w8_q8_0(x), _mm256_set1_epi8((char) 0x80));
	}
	if (kind == KIND_Q4_0)
	{
		const block_q4_0 *x = (const block_q4_0 *) row + i;

		*d = x->d;
		return _mm256_add_epi8(w8_q4_0(x), _mm256_set1_epi8(8));
	}
	{
		const block_q5_0 *x = (const block_q5_0 *) row + i;

		*d = x->d;
		return _mm256_add_epi8(w8_q5_0(x), _mm256_set1_epi8(16));
	}
}

/*
 * Rows r (0..15, row 15 = the constant off, rows past nrr zero) of one block as
 * 8 dwords each form a 16 x 8 matrix; its transpose is the 8 lines of the
 * chunk. Rows j and j+8 share a register, so one 8 x 8 dword transpose (unpack
 * 32, unpack 64, then 128-bit lanes) handles both halves at once.
 */
GEMM_INLINE void
x15_repack(int kind, const char *w, size_t ws, int nrr, int64_t b0, int nbk, x15_chunk *c)
{
	const uint32_t off = kind == KIND_Q8_0 ? 0x80808080u : kind == KIND_Q4_0 ? 0x08080808u : 0x10101010u;
	const __m512i  lo_idx = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
	const __m512i  hi_idx = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);

	for (int b = 0; b < nbk; b++)
	{
		uint16_t dh[16] = {0};
		__m256i  u[16];
		__m512i  z[8], t[8], q[8];

		for (int r = 0; r < X15_ROWS; r++)
			u[r] = r < nrr ? u8_block(kind, w + (size_t) r * ws, b0 + b, &dh[r]) : _mm256_setzero_si256();
		u[X15_ROWS] = _mm256_set1_epi32((int) off);
		for (int j = 0; j < 8; j++)
			z[j] = join256(u[j], u[j + 8]);
		for (int j = 0; j < 8; j += 2)
		{
			t[j] = _mm512_unpacklo_epi32(z[j], z[j + 1]);
			t[j + 1] = _mm512_unpackhi_epi32(z[j], z[j + 1]);
		}
		/* q[4h + c] holds column c (and c + 4 in its odd 128-bit lanes) of rows 4h..4h+3, 8+4h.. */
		for (int h = 0; h < 2; h++)
		{
			q[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
			q[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
			q[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
			q[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
		}
		for (int k = 0; k < 4; k++)
		{
			_mm512_storeu_si512((void *) c->q[b][k], _mm512_permutex2var_epi64(q[k], lo_idx, q[k + 4]));
			_mm512_storeu_si512((void *) c->q[b][k + 4], _mm512_permutex2var_epi64(q[k], hi_idx, q[k + 4]));
		}
		_mm512_storeu_ps(c->d[b], _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) dh)));
	}
}

/* T tokens x 15 rows over the blocks of one chunk; acc in/out through out. */
GEMM_INLINE void
x15_tile(int kind, int T, const x15_chunk *c, int nbk, int64_t b0, const char *a, size_t as, int first,
		 __mmask16 lanes, float *out, int64_t ldo)
{
	__m512        acc[X15_TOK];
	const __m512i idx15 = _mm512_set1_epi32(15);

#pragma GCC unroll 8
	for (int t = 0; t < T; t++)
		acc[t] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(lanes, out + t * ldo);
	for (int b = 0; b < nbk; b++)
	{
		__m512i isum[X15_TOK];
		__m512  dw = _mm512_loadu_ps(c->d[b]);

#pragma GCC unroll 8
		for (int t = 0; t < T; t++)
			isum[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
		for (int k = 0; k < 8; k++)
		{
			__m512i wv = _mm512_loadu_si512((const void *) c->q[b][k]);

#pragma GCC unroll 8
			for (int t = 0; t < T; t++)
			{
				const block_q8_0 *y = (const block_q8_0 *) (a + (size_t) t * as) + b0 + b;
				int32_t           av;

				memcpy(&av, y->qs + 4 * k, 4);
				isum[t] = _mm512_dpbusd_epi32(isum[t], wv, _mm512_set1_epi32(av));
			}
		}
#pragma GCC unroll 8
		for (int t = 0; t < T; t++)
		{
			const block_q8_0 *y = (const block_q8_0 *) (a + (size_t) t * as) + b0 + b;
			__m512i           is = _mm512_sub_epi32(isum[t], _mm512_permutexvar_epi32(idx15, isum[t]));
			__m512            da = _mm512_set1_ps(_cvtsh_ss(y->d)), p;

			/*
			 * The reference's association: (I * d_w) * d_a for Q4_0, I * (d_w * d_a)
			 * otherwise. Explicit rounding keeps the compiler from fusing into an FMA.
			 */
			if (kind == KIND_Q4_0)
				p = _mm512_mul_round_ps(_mm512_mul_round_ps(_mm512_cvtepi32_ps(is), dw, X15_RN), da, X15_RN);
			else
				p = _mm512_mul_round_ps(_mm512_cvtepi32_ps(is), _mm512_mul_ps(dw, da), X15_RN);
			acc[t] = _mm512_add_ps(acc[t], p);
		}
	}
#pragma GCC unroll 8
	for (int t = 0; t < T; t++)
		_mm512_mask_storeu_ps(out + t * ldo, lanes, acc[t]);
}

#define X15_TILE_FN(k, KIND, T) \
	GEMM_TARGET static void k##_x15_##T(const x15_chunk *c, int nbk, int64_t b0, const char *a, size_t as, \
										int first, __mmask16 lanes, float *out, int64_t ldo) \
	{ x15_tile(KIND, T, c, nbk, b0, a, as, first, lanes, out, ldo); }

typedef void (*x15_fn)(const x15_chunk *c, int nbk, int64_t b0, const char *a, size_t as, int first,
					   __mmask16 lanes, float *out, int64_t ldo);

#define X15_TILES(k, KIND) \
	X15_TILE_FN(k, KIND, 1) X15_TILE_FN(k, KIND, 2) X15_TILE_FN(k, KIND, 3) X15_TILE_FN(k, KIND, 4) \
	X15_TILE_FN(k, KIND, 5) X15_TILE_FN(k, KIND, 6) X15_TILE_FN(k, KIND, 7) X15_TILE_FN(k, KIND, 8) \
	static const x15_fn k##_x15[X15_TOK + 1] = { \
		NULL, k##_x15_1, k##_x15_2, k##_x15_3, k##_x15_4, k##_x15_5, k##_x15_6, k##_x15_7, k##_x15_8};

/* Q8_0 and Q5_0 share the association d_w * d_a; Q4_0 has its own. */
X15_TILES(q8, KIND_Q8_0)
X15_TILES(q4, KIND_Q4_0)

#define X15_REPACK_FN(k, KIND) \
	GEMM_TARGET static void k##_repack(const char *w, size_t ws, int nrr, int64_t b0, int nbk, x15_chunk *c) \
	{ x15_repack(KIND, w, ws, nrr, b0, nbk, c); }

X15_REPACK_FN(q8_0, KIND_Q8_0)
X15_REPACK_FN(q4_0, KIND_Q4_0)
X15_REPACK_FN(q5_0, KIND_Q5_0)

typedef void (*x15_repack_fn)(const char *w, size_t ws, int nrr, int64_t b0, int nbk, x15_chunk *c);

static void
run_x15(x15_repack_fn repack, const x15_fn *x15_by_t, int64_t nb, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
		int64_t nt, float *out, int64_t ldo)
{
	x15_chunk chunk __attribute__((aligned(64)));

	for (int64_t r = 0; r < nr; r += X15_ROWS)
	{
		int       nrr = nr - r < X15_ROWS ? (int) (nr - r) : X15_ROWS;
		__mmask16 lanes = (__mmask16) ((1u << nrr) - 1);

		for (int64_t b0 = 0; b0 < nb; b0 += X15_KC)
		{
			int nbk = nb - b0 < X15_KC ? (int) (nb - b0) : X15_KC;

			repack((const char *) w + (size_t) r * ws, ws, nrr, b0, nbk, &chunk);
			for (int64_t t = 0; t < nt; t += X15_TOK)
			{
				int64_t tn = nt - t < X15_TOK ? nt - t : X15_TOK;

				x15_by_t[tn](&chunk, nbk, b0, (const char *) act + (size_t) t * as, as, b0 == 0, lanes,
							 out + t * ldo + r, ldo);
			}
		}
	}
}

/*
 * From this many tokens on, the row-lane kernel (its repacking pays off). It is
 * bit-exact with the scalar dot and the tiles are not, so mixing the two made a
 * row's result depend on how many tokens shared the pass: batched generation
 * then differed from one-by-one (10 of 16 greedy outputs on a Qwen2.5-0.5B-shaped
 * Q8_0 model). Until the tiles are bit-exact too, every token count uses the
 * tiles (prefill-128 Q8_0: 252 instead of 399 tok/s). 8 re-enables it.
 */
#define X15_MIN_TOK INT64_MAX

void
kern_gemm_q8_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
					  int64_t nt, float *out, int64_t ldo)
{
	if (nt >= X15_MIN_TOK)
		run_x15(q8_0_repack, q8_x15, cols / QK8_0, w, ws, nr, act, as, nt, out, ldo);
	else
		run_tiles(q8_0_tiles, 4, cols / QK8_0, w, ws, nr, act, as, nt, out, ldo);
}

void
kern_gemm_q4_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
					  int64_t nt, float *out, int64_t ldo)
{
	if (nt >= X15_MIN_TOK)
		run_x15(q4_0_repack, q4_x15, cols / QK4_0, w, ws, nr, act, as, nt, out, ldo);
	else
		run_tiles(q4_0_tiles, 4, cols / QK4_0, w, ws, nr, act, as, nt, out, ldo);
}

void
kern_gemm_q5_0_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
					  int64_t nt, float *out, int64_t ldo)
{
	if (nt >= X15_MIN_TOK)
		run_x15(q5_0_repack, q8_x15, cols / QK5_0, w, ws, nr, act, as, nt, out, ldo);
	else
		run_tiles(q5_0_tiles, 4, cols / QK5_0, w, ws, nr, act, as, nt, out, ldo);
}

/* ---- Q4_K weights, Q8_K activations ---------------------------------------- */

/*
 * Scales and mins of a super-block, 8 of each (6 bits), unpacked with 32-bit
 * word operations: sc holds sc0..sc7 as int16, mn holds m0..m7 as int16.
 */
GEMM_INLINE void
k4_scales(const uint8_t *s, __m128i *sc, __m128i *mn)
{
	uint32_t u0, u1, u2, lo, hi;

	memcpy(&u0, s, 4);
	memcpy(&u1, s + 4, 4);
	memcpy(&u2, s + 8, 4);
	lo = u0 & 0x3f3f3f3fu;
	hi = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
	*sc = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int) hi, (int) lo));
	lo = u1 & 0x3f3f3f3fu;
	hi = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
	*mn = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int) hi, (int) lo));
}

/*
 * One super-block for an R x T tile. Per 64 elements (sub-blocks 2k, 2k+1):
 * maddubs (q unsigned 0..15, a signed; pairs fit int16) then vpdpwssd with the
 * sub-block scales; mins against the activation's 16-element sums. Then
 * acc += d_w*d_a * isum - dmin_w*d_a * msum, per lane.
 */
GEMM_INLINE void
k4_step(int R, int T, const char *w, size_t ws, const char *a, size_t as, int64_t i, __m512 acc[4][2])
{
	__m512i isum[4][2];
	__m128i sc8[4];
	__m256i mn16[4];
	const __m256i low4 = _mm256_set1_epi8(0x0F);

#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
	{
		const block_q4_K *x = (const block_q4_K *) (w + (size_t) r * ws) + i;
		__m128i           mn;

		k4_scales(x->scales, &sc8[r], &mn);
		/* lane g (16-element group) gets m[g / 2] */
		mn16[r] = _mm256_permutexvar_epi16(_mm256_set_epi16(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0),
										   _mm256_castsi128_si256(mn));
#pragma GCC unroll 2
		for (int t = 0; t < T; t++)
			isum[r][t] = _mm512_setzero_si512();
	}
#pragma GCC unroll 4
	for (int k = 0; k < QK_K / 64; k++)
	{
		__m512i av[2];
		/* int16 lanes 0-15 pick sc[2k], lanes 16-31 sc[2k+1] */
		const __m512i idx = join256(_mm256_set1_epi16((short) (2 * k)), _mm256_set1_epi16((short) (2 * k + 1)));

#pragma GCC unroll 2
		for (int t = 0; t < T; t++)
			av[t] = _mm512_loadu_si512((const void *) (((const block_q8_K *) (a + (size_t) t * as) + i)->qs + 64 * k));
#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
		{
			const block_q4_K *x = (const block_q4_K *) (w + (size_t) r * ws) + i;
			__m256i           q = _mm256_loadu_si256((const __m256i *) (x->qs + 32 * k));
			__m512i           qv = join256(_mm256_and_si256(q, low4), _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
			__m512i           sc = _mm512_permutexvar_epi16(idx, _mm512_castsi128_si512(sc8[r]));

#pragma GCC unroll 2
			for (int t = 0; t < T; t++)
				isum[r][t] = _mm512_dpwssd_epi32(isum[r][t], _mm512_maddubs_epi16(qv, av[t]), sc);
		}
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
	{
		const block_q4_K *x = (const block_q4_K *) (w + (size_t) r * ws) + i;
		float             d = _cvtsh_ss(x->d), dmin = _cvtsh_ss(x->dmin);

#pragma GCC unroll 2
		for (int t = 0; t < T; t++)
		{
			const block_q8_K *y = (const block_q8_K *) (a + (size_t) t * as) + i;
			__m256i           bs = _mm256_loadu_si256((const __m256i *) y->bsums);
			__m256            msum = _mm256_cvtepi32_ps(_mm256_madd_epi16(mn16[r], bs));

			acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r][t]), _mm512_set1_ps(d * y->d), acc[r][t]);
			acc[r][t] = _mm512_fmadd_ps(_mm512_zextps256_ps512(msum), _mm512_set1_ps(-(dmin * y->d)), acc[r][t]);
		}
	}
}

GEMM_INLINE void
k4_tile(int R, int T, int64_t nb, const char *w, size_t ws, const char *a, size_t as, float *out, int64_t ldo)
{
	__m512 acc[4][2];

#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 2
		for (int t = 0; t < T; t++)
			acc[r][t] = _mm512_setzero_ps();
	for (int64_t i = 0; i < nb; i++)
	{
		/* the next tile's rows, as b32_tile does (a super-block spans 3 lines) */
#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
		{
			const char *p = w + (size_t) (R + r) * ws + (size_t) i * sizeof(block_q4_K);

			_mm_prefetch(p, _MM_HINT_T1);
			_mm_prefetch(p + 64, _MM_HINT_T1);
			_mm_prefetch(p + 128, _MM_HINT_T1);
		}
		k4_step(R, T, w, ws, a, as, i, acc);
	}
#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
#pragma GCC unroll 2
		for (int t = 0; t < T; t++)
			out[t * ldo + r] = _mm512_reduce_add_ps(acc[r][t]);
}

#define K4_TILE_FN(name, R, T) \
	GEMM_TARGET static void name(int64_t nb, const char *w, size_t ws, const char *a, size_t as, \
								 float *out, int64_t ldo) \
	{ k4_tile(R, T, nb, w, ws, a, as, out, ldo); }

K4_TILE_FN(q4_K_4x2, 4, 2)
K4_TILE_FN(q4_K_4x1, 4, 1)
K4_TILE_FN(q4_K_1x2, 1, 2)
K4_TILE_FN(q4_K_1x1, 1, 1)
static const tile_fn q4_K_tiles[2][4] = {{q4_K_1x1, q4_K_1x2}, {q4_K_4x1, q4_K_4x2}};

void
kern_gemm_q4_K_avx512(int64_t cols, const void *w, size_t ws, int64_t nr, const void *act, size_t as,
					  int64_t nt, float *out, int64_t ldo)
{
	run_tiles(q4_K_tiles, 2, cols / QK_K, w, ws, nr, act, as, nt, out, ldo);
}

/* ---- activation quantization ------------------------------------------------ */

/*
 * f32 -> q8_0 exactly as kern_quant_q8_0: d = amax / 127, q = roundf(x * (1 / d))
 * (halves away from zero), d stored as fp16 rounded to nearest even (F16C).
 */
GEMM_TARGET void
kern_quant_q8_0_avx512(const float *src, void *dst, int64_t n)
{
	block_q8_0   *b = dst;
	const __m512  absm = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
	const __m512  half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);

	for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0)
	{
		__m512 x0 = _mm512_loadu_ps(src), x1 = _mm512_loadu_ps(src + 16);
		float  amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(x0, absm), _mm512_and_ps(x1, absm)));
		float  d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
		__m512 vid = _mm512_set1_ps(id);
		__m512 v[2] = {_mm512_mul_ps(x0, vid), _mm512_mul_ps(x1, vid)};
		__m128i q[2];

		for (int h = 0; h < 2; h++)
		{
			__m512    t = _mm512_roundscale_ps(v[h], _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
			__mmask16 up = _mm512_cmp_ps_mask(_mm512_and_ps(_mm512_sub_ps(v[h], t), absm), half, _CMP_GE_OQ);
			/* t +/- 1 away from zero where the dropped fraction is >= 1/2 */
			__m512    r = _mm512_mask_add_ps(t, up, t, _mm512_or_ps(one, _mm512_andnot_ps(absm, v[h])));

			q[h] = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(r));
		}
		_mm256_storeu_si256((__m256i *) b[i].qs, _mm256_set_m128i(q[1], q[0]));
		b[i].d = (uint16_t) _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(d), _MM_FROUND_TO_NEAREST_INT), 0);
	}
}
