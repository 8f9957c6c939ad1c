/*
 * test_kernels.c -- the kernels against hand-computed values and against a
 * double-precision oracle: type table, fp16/bf16 conversion edge cases, hand-built
 * blocks of every quant type, quantize/dequantize error bounds, vec_dot versus
 * dequantized weight . dequantized activation, matmul and get_row on odd shapes,
 * and every SIMD variant the CPU can run versus the scalar reference.
 */
#include <stdint.h>

#include "cpu.h"
#include "kernels.h"
#include "quant.h"
#include "threadpool.h"
#include "unit.h"

/* ---- helpers -------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng_u32(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t) (rng_state >> 16);
}

/* uniform in [-1, 1) */
static float
rng_f(void)
{
	return (float) ((rng_u32() & 0xffffff) / 8388608.0 - 1.0);
}

static void
fill_random(float *x, int64_t n, float scale)
{
	for (int64_t i = 0; i < n; i++)
		x[i] = rng_f() * scale;
}

static float
bits_f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t
f_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/*
 * Random but well-formed blocks for a weight type: random quant bits, scales set
 * to moderate fp16 values (random bytes there would give inf/NaN scales).
 */
static void
random_weight_blocks(uint32_t type, void *dst, int64_t nblocks)
{
	size_t   bb = pllm_type_block_bytes(type);
	uint8_t *p = dst;

	for (size_t i = 0; i < (size_t) nblocks * bb; i++)
		p[i] = (uint8_t) rng_u32();
	for (int64_t b = 0; b < nblocks; b++)
	{
		void *blk = p + (size_t) b * bb;
		uint16_t d = kern_fp32_to_fp16(0.001f + 0.01f * (rng_f() + 1.0f));
		uint16_t m = kern_fp32_to_fp16(0.02f * rng_f());

		switch (type)
		{
			case PLLM_TYPE_Q4_0: ((block_q4_0 *) blk)->d = d; break;
			case PLLM_TYPE_Q5_0: ((block_q5_0 *) blk)->d = d; break;
			case PLLM_TYPE_Q8_0: ((block_q8_0 *) blk)->d = d; break;
			case PLLM_TYPE_Q4_1: ((block_q4_1 *) blk)->d = d; ((block_q4_1 *) blk)->m = m; break;
			case PLLM_TYPE_Q5_1: ((block_q5_1 *) blk)->d = d; ((block_q5_1 *) blk)->m = m; break;
			case PLLM_TYPE_Q4_K: ((block_q4_K *) blk)->d = d; ((block_q4_K *) blk)->dmin = m; break;
			case PLLM_TYPE_Q5_K: ((block_q5_K *) blk)->d = d; ((block_q5_K *) blk)->dmin = m; break;
			case PLLM_TYPE_Q6_K: ((block_q6_K *) blk)->d = d; break;
			default: break;
		}
	}
	if (type == PLLM_TYPE_F32)
		for (int64_t i = 0; i < nblocks; i++)
			((float *) dst)[i] = rng_f();
	else if (type == PLLM_TYPE_F16)
		for (int64_t i = 0; i < nblocks; i++)
			((uint16_t *) dst)[i] = kern_fp32_to_fp16(rng_f());
	else if (type == PLLM_TYPE_BF16)
		for (int64_t i = 0; i < nblocks; i++)
			((uint16_t *) dst)[i] = kern_fp32_to_bf16(rng_f());
}

static const uint32_t weight_types[] = {
	PLLM_TYPE_F32, PLLM_TYPE_F16, PLLM_TYPE_BF16, PLLM_TYPE_Q8_0, PLLM_TYPE_Q4_0,
	PLLM_TYPE_Q4_1, PLLM_TYPE_Q5_0, PLLM_TYPE_Q5_1, PLLM_TYPE_Q4_K, PLLM_TYPE_Q5_K,
	PLLM_TYPE_Q6_K,
};
#define N_WEIGHT_TYPES ((int) (sizeof(weight_types) / sizeof(weight_types[0])))

/*
 * Oracle: sum over double of dequant(w) * dequant(quant(x)), and the sum of
 * |products| to scale tolerances. Activation conversion uses the reference table.
 */
static double
oracle_dot(uint32_t wtype, const void *w, const float *x, int64_t n, double *sum_abs)
{
	const kern_type_traits *wt = kern_type_info(wtype);
	const kern_type_traits *at = kern_type_info(wt->vec_dot_type);
	float  *wd = malloc((size_t) n * sizeof(float));
	float  *ad = malloc((size_t) n * sizeof(float));
	void   *aq = malloc(pllm_type_row_bytes(wt->vec_dot_type, n));
	double  s = 0.0, sa = 0.0;

	wt->dequant_row(w, wd, n);
	at->quant_row(x, aq, n);
	at->dequant_row(aq, ad, n);
	for (int64_t i = 0; i < n; i++)
	{
		s += (double) wd[i] * ad[i];
		sa += fabs((double) wd[i] * ad[i]);
	}
	free(wd);
	free(ad);
	free(aq);
	*sum_abs = sa;
	return s;
}

/* ---- type table ---------------------------------------------------------- */

static void
test_type_table(void)
{
	CHECK(strcmp(pllm_type_name(PLLM_TYPE_Q4_K), "q4_K") == 0, "%s", pllm_type_name(PLLM_TYPE_Q4_K));
	CHECK(strcmp(pllm_type_name(PLLM_TYPE_BF16), "bf16") == 0, "%s", pllm_type_name(PLLM_TYPE_BF16));
	CHECK(strcmp(pllm_type_name(16), "iq2_xxs") == 0, "%s", pllm_type_name(16));
	CHECK(strcmp(pllm_type_name(4), "type 4") == 0, "%s", pllm_type_name(4));
	CHECK(strcmp(pllm_type_name(1000), "type 1000") == 0, "%s", pllm_type_name(1000));

	CHECK(pllm_type_block_size(PLLM_TYPE_F32) == 1, "f32 block");
	CHECK(pllm_type_block_bytes(PLLM_TYPE_BF16) == 2, "bf16 bytes");
	CHECK(pllm_type_block_size(PLLM_TYPE_Q5_1) == 32 && pllm_type_block_bytes(PLLM_TYPE_Q5_1) == 24, "q5_1");
	CHECK(pllm_type_block_size(PLLM_TYPE_Q6_K) == 256 && pllm_type_block_bytes(PLLM_TYPE_Q6_K) == 210, "q6_K");
	CHECK(pllm_type_block_bytes(PLLM_TYPE_Q2_K) == 84, "q2_K bytes %zu", pllm_type_block_bytes(PLLM_TYPE_Q2_K));
	CHECK(pllm_type_block_size(4) == 0 && pllm_type_block_bytes(4) == 0, "retired type 4");
	CHECK(pllm_type_block_size(PLLM_TYPE_COUNT) == 0, "past the table");
	CHECK(pllm_type_block_size(UINT32_MAX) == 0, "huge type");

	CHECK(pllm_type_row_bytes(PLLM_TYPE_F32, 3) == 12, "f32 row");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_F16, 7) == 14, "f16 row");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_Q4_0, 64) == 36, "q4_0 row");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_Q4_0, 33) == 0, "q4_0 partial block");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_Q4_K, 128) == 0, "q4_K partial block");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_Q6_K, 512) == 420, "q6_K row");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_Q8_K, 256) == 292, "q8_K row");
	CHECK(pllm_type_row_bytes(5, 32) == 0, "unknown type row");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_F32, -4) == 0, "negative n");
	CHECK(pllm_type_row_bytes(PLLM_TYPE_F32, INT64_MAX) == 0, "overflowing n");

	for (int i = 0; i < N_WEIGHT_TYPES; i++)
	{
		const kern_type_traits *t = kern_traits(weight_types[i]);

		CHECK(pllm_type_supported(weight_types[i]), "%s supported", pllm_type_name(weight_types[i]));
		CHECK(t && t->vec_dot && t->dequant_row, "%s traits", pllm_type_name(weight_types[i]));
		if (t)
		{
			CHECK(strcmp(t->name, pllm_type_name(weight_types[i])) == 0, "name %s", t->name);
			CHECK(t->block_size == pllm_type_block_size(weight_types[i]), "%s block size", t->name);
			CHECK(t->block_bytes == pllm_type_block_bytes(weight_types[i]), "%s block bytes", t->name);
		}
	}
	/* activation-only and unimplemented types */
	CHECK(!pllm_type_supported(PLLM_TYPE_Q8_1) && kern_traits(PLLM_TYPE_Q8_1) == NULL, "q8_1 is not a weight");
	CHECK(!pllm_type_supported(PLLM_TYPE_Q8_K) && kern_traits(PLLM_TYPE_Q8_K) == NULL, "q8_K is not a weight");
	CHECK(!pllm_type_supported(PLLM_TYPE_Q2_K) && kern_traits(PLLM_TYPE_Q2_K) == NULL, "q2_K unsupported");
	CHECK(!pllm_type_supported(PLLM_TYPE_Q3_K), "q3_K unsupported");
	CHECK(!pllm_type_supported(23) && !pllm_type_supported(4) && !pllm_type_supported(99), "iq4_xs/unknown");
	CHECK(kern_type_info(PLLM_TYPE_Q8_K) && kern_type_info(PLLM_TYPE_Q8_K)->quant_row &&
		  kern_type_info(PLLM_TYPE_Q8_K)->vec_dot == NULL, "q8_K info");
	CHECK(kern_type_info(PLLM_TYPE_Q2_K) == NULL, "no q2_K info");

	/* ggml's vec_dot_type mapping */
	{
		static const uint32_t pairs[][2] = {
			{PLLM_TYPE_F32, PLLM_TYPE_F32}, {PLLM_TYPE_F16, PLLM_TYPE_F16}, {PLLM_TYPE_BF16, PLLM_TYPE_BF16},
			{PLLM_TYPE_Q8_0, PLLM_TYPE_Q8_0}, {PLLM_TYPE_Q4_0, PLLM_TYPE_Q8_0}, {PLLM_TYPE_Q5_0, PLLM_TYPE_Q8_0},
			{PLLM_TYPE_Q4_1, PLLM_TYPE_Q8_1}, {PLLM_TYPE_Q5_1, PLLM_TYPE_Q8_1}, {PLLM_TYPE_Q4_K, PLLM_TYPE_Q8_K},
			{PLLM_TYPE_Q5_K, PLLM_TYPE_Q8_K}, {PLLM_TYPE_Q6_K, PLLM_TYPE_Q8_K},
		};

		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		{
			const kern_type_traits *t = kern_traits(pairs[i][0]);

			CHECK(t && (uint32_t) t->vec_dot_type == pairs[i][1], "vec_dot_type of %s",
				  pllm_type_name(pairs[i][0]));
		}
	}
}

/* ---- fp16 / bf16 ----------------------------------------------------------- */

static void
test_fp16_to_half(void)
{
	static const struct { float f; uint16_t h; } cases[] = {
		{0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3C00}, {-2.0f, 0xC000}, {0.5f, 0x3800},
		{65504.0f, 0x7BFF},                 /* largest half */
		{65519.99f, 0x7BFF},                /* below the midpoint to 65536 */
		{65520.0f, 0x7C00},                 /* the midpoint: tie to even is infinity */
		{1e10f, 0x7C00}, {-1e10f, 0xFC00},
		{0x1p-14f, 0x0400},                 /* smallest normal */
		{0x1p-24f, 0x0001},                 /* smallest subnormal */
		{0x1p-25f, 0x0000},                 /* half of it: tie to even -> 0 */
		{0x1.000002p-25f, 0x0001},          /* just above the tie */
		{0x1.8p-24f, 0x0002},               /* 1.5 ulp: tie to even -> 2 */
		{0x1.4p-24f, 0x0001},               /* 1.25 ulp */
		{0x1.ffcp-15f, 0x0400},             /* largest subnormal + half ulp: tie, rounds up into the normals */
		{0x1.ff8p-15f, 0x03FF},             /* largest subnormal, exact */
		{0x1.ff0p-15f, 0x03FE},             /* 1022 ulp (exact) */
		{0x1.002p+0f, 0x3C00},              /* 1 + 2^-11: tie, even is 1 */
		{0x1.006p+0f, 0x3C02},              /* 1 + 3*2^-11: tie, even is 0x3C02 */
		{0x1.00201p+0f, 0x3C01},            /* just above the first tie */
		{-0x1.006p+0f, 0xBC02},
		{0x1p-149f, 0x0000},                /* f32 subnormal */
		{-0x1p-130f, 0x8000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint16_t h = kern_fp32_to_fp16(cases[i].f);

		CHECK(h == cases[i].h, "fp16(%a) = 0x%04x, want 0x%04x", cases[i].f, h, cases[i].h);
	}
	CHECK(kern_fp32_to_fp16(INFINITY) == 0x7C00, "inf");
	CHECK(kern_fp32_to_fp16(-INFINITY) == 0xFC00, "-inf");
	CHECK(kern_fp32_to_fp16(NAN) == 0x7E00, "qnan -> 0x%04x", kern_fp32_to_fp16(NAN));
	{
		uint16_t h = kern_fp32_to_fp16(bits_f(0xFF800001u));   /* signalling NaN, tiny payload */

		CHECK((h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0 && (h & 0x8000), "snan -> 0x%04x", h);
	}
}

static void
test_fp16_to_float(void)
{
	int bad = 0;

	CHECK(kern_fp16_to_fp32(0x0001) == 0x1p-24f, "smallest subnormal");
	CHECK(kern_fp16_to_fp32(0x03FF) == 0x1.ff8p-15f, "largest subnormal");
	CHECK(kern_fp16_to_fp32(0x0400) == 0x1p-14f, "smallest normal");
	CHECK(kern_fp16_to_fp32(0x7BFF) == 65504.0f, "largest");
	CHECK(kern_fp16_to_fp32(0x3555) == 0x1.554p-2f, "0x3555");
	CHECK(kern_fp16_to_fp32(0xC000) == -2.0f, "-2");
	CHECK(isinf(kern_fp16_to_fp32(0x7C00)) && kern_fp16_to_fp32(0x7C00) > 0, "inf");
	CHECK(isinf(kern_fp16_to_fp32(0xFC00)) && kern_fp16_to_fp32(0xFC00) < 0, "-inf");
	CHECK(isnan(kern_fp16_to_fp32(0x7E00)) && isnan(kern_fp16_to_fp32(0xFC01)), "nan");
	CHECK(signbit(kern_fp16_to_fp32(0x8000)) && kern_fp16_to_fp32(0x8000) == 0.0f, "-0");

	/* every non-NaN half survives a round trip through f32 */
	for (uint32_t h = 0; h < 65536; h++)
	{
		if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF))
			continue;
		if (kern_fp32_to_fp16(kern_fp16_to_fp32((uint16_t) h)) != h)
			bad++;
	}
	CHECK(bad == 0, "%d halves do not round-trip", bad);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("f16c"))) static uint16_t
hw_fp32_to_fp16(float f)
{
	return (uint16_t) _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0);
}
#endif

/* Random bit patterns against the CPU's own conversion (F16C, what ggml uses). */
static void
test_fp16_vs_f16c(void)
{
#if defined(__x86_64__) || defined(__i386__)
	int bad = 0;

	if (!kern_cpu()->f16c)
	{
		printf("# skip: no f16c\n");
		return;
	}
	for (int i = 0; i < 2000000; i++)
	{
		/* bias towards the half range so most cases are interesting */
		uint32_t u = rng_u32();
		float    f;

		if (i & 1)
			u = (u & 0x80000000u) | ((0x30000000u + (u & 0x1fffffffu)) & 0x7fffffffu);
		f = bits_f(u);
		if (hw_fp32_to_fp16(f) != kern_fp32_to_fp16(f))
		{
			if (bad++ < 5)
				printf("#   %08x: hw %04x sw %04x\n", u, hw_fp32_to_fp16(f), kern_fp32_to_fp16(f));
		}
	}
	CHECK(bad == 0, "%d mismatches with f16c", bad);
#else
	printf("# skip: not x86\n");
#endif
}

/* The row conversions (F16C in the SIMD families) equal the scalar ones, odd lengths included. */
static void
test_fp16_rows(void)
{
	enum { N = 1003 };
	static float    f[N], back[N];
	static uint16_t h[N], hr[N];
	int             bad = 0;

	for (int i = 0; i < N; i++)
	{
		uint32_t u = rng_u32();

		if (i % 3)
			u = (u & 0x80000000u) | ((0x30000000u + (u & 0x1fffffffu)) & 0x7fffffffu);
		f[i] = bits_f(u);
		h[i] = (uint16_t) rng_u32();
	}
	for (int n = 0; n <= N; n += n < 20 ? 1 : 197)
	{
		kern_fp32_to_fp16_row(f, hr, n);
		kern_fp16_to_fp32_row(h, back, n);
		for (int i = 0; i < n; i++)
		{
			float    want = kern_fp16_to_fp32(h[i]);

			bad += hr[i] != kern_fp32_to_fp16(f[i]);
			bad += memcmp(&back[i], &want, sizeof(float)) != 0;
		}
	}
	CHECK(bad == 0, "%d row conversions differ from the scalar ones", bad);
}

static void
test_bf16(void)
{
	static const struct { uint32_t f; uint16_t h; } cases[] = {
		{0x3F800000u, 0x3F80},  /* 1.0 */
		{0x3F808000u, 0x3F80},  /* 1 + 2^-8: tie, even is 1 */
		{0x3F818000u, 0x3F82},  /* 1 + 3*2^-8: tie, even is 0x3F82 */
		{0x3F808001u, 0x3F81},  /* just above the tie */
		{0x3F807FFFu, 0x3F80},  /* just below */
		{0xBF818000u, 0xBF82},
		{0x7F7FFFFFu, 0x7F80},  /* largest float rounds to infinity */
		{0x7F800000u, 0x7F80},  /* inf */
		{0xFF800000u, 0xFF80},  /* -inf */
		{0x7F800001u, 0x7FC0},  /* signalling NaN with the payload below bf16: quieted */
		{0xFF812345u, 0xFFC1},  /* payload top kept, quiet bit set */
		{0x7FC00000u, 0x7FC0},
		{0x00000001u, 0x0000},  /* f32 subnormal rounds to zero */
		{0x00018000u, 0x0002},  /* subnormal tie, odd -> up */
		{0x00008000u, 0x0000},  /* subnormal tie, even -> down */
		{0x80000000u, 0x8000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint16_t h = kern_fp32_to_bf16(bits_f(cases[i].f));

		CHECK(h == cases[i].h, "bf16(%08x) = 0x%04x, want 0x%04x", cases[i].f, h, cases[i].h);
	}
	CHECK(kern_bf16_to_fp32(0x4049) == 3.140625f, "3.140625");
	CHECK(kern_bf16_to_fp32(0xC000) == -2.0f, "-2");
	CHECK(f_bits(kern_bf16_to_fp32(0x0001)) == 0x00010000u, "subnormal bf16");
	CHECK(isnan(kern_bf16_to_fp32(0x7FC1)), "nan");
}

/* ---- hand-built blocks ----------------------------------------------------- */

static void
check_row(const char *what, const float *got, const float *want, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++)
		if (got[i] != want[i] && bad++ < 4)
			printf("#   %s[%d] = %.9g, want %.9g\n", what, i, got[i], want[i]);
	CHECK(bad == 0, "%s: %d elements differ", what, bad);
}

static void
test_q8_0_hand(void)
{
	block_q8_0 b;
	float      x[32] = {0}, y[32], want[32];

	/* dequantize: d = 0.5 */
	b.d = 0x3800;
	for (int j = 0; j < 32; j++)
	{
		b.qs[j] = (int8_t) (j * 8 - 127);
		want[j] = (j * 8 - 127) * 0.5f;
	}
	b.qs[31] = -128;
	want[31] = -64.0f;
	kern_dequant_q8_0(&b, y, 32);
	check_row("q8_0 dequant", y, want, 32);

	/* quantize: amax 127 -> d = 1; roundf ties go away from zero */
	x[0] = 127.0f;
	x[1] = -63.5f;
	x[2] = 2.5f;
	x[3] = -0.4f;
	x[4] = 0.5f;
	kern_quant_q8_0(x, &b, 32);
	CHECK(b.d == 0x3C00, "d = 0x%04x", b.d);
	CHECK(b.qs[0] == 127 && b.qs[1] == -64 && b.qs[2] == 3 && b.qs[3] == 0 && b.qs[4] == 1 && b.qs[5] == 0,
		  "qs %d %d %d %d %d %d", b.qs[0], b.qs[1], b.qs[2], b.qs[3], b.qs[4], b.qs[5]);

	/* an all-zero block has d = 0 and zero quants */
	memset(x, 0, sizeof(x));
	kern_quant_q8_0(x, &b, 32);
	CHECK(b.d == 0 && b.qs[7] == 0, "zero block");
}

static void
test_q8_1_hand(void)
{
	block_q8_1 b;
	float      x[32] = {0}, y[32];

	x[0] = 127.0f;
	x[1] = -63.5f;
	x[2] = 2.5f;
	x[31] = -1.0f;
	kern_quant_q8_1(x, &b, 32);
	CHECK(b.d == 0x3C00, "d = 0x%04x", b.d);
	CHECK(b.qs[0] == 127 && b.qs[1] == -64 && b.qs[2] == 3 && b.qs[31] == -1, "qs");
	/* s = d * sum(q) = 127 - 64 + 3 - 1 = 65 -> fp16 0x5410 */
	CHECK(b.s == 0x5410, "s = 0x%04x", b.s);
	kern_dequant_q8_1(&b, y, 32);
	CHECK(y[0] == 127.0f && y[1] == -64.0f && y[31] == -1.0f && y[5] == 0.0f, "dequant");
}

static void
test_q8_K_hand(void)
{
	block_q8_K b[2];
	float      x[512] = {0}, y[512];

	/* block 0: signed max -127 -> iscale 1; ties to even */
	x[0] = -127.0f;
	x[1] = 2.5f;     /* -> 2 (roundf would give 3) */
	x[2] = 3.5f;     /* -> 4 */
	x[3] = -0.5f;    /* -> 0 */
	x[4] = 127.0f;
	x[5] = 126.6f;
	x[16] = 7.0f;
	/* block 1: signed max +127 -> iscale -1, the quants come out negated, d = -1 */
	x[256] = 127.0f;
	x[257] = 2.5f;   /* -2.5 -> -2 */
	x[258] = -127.0f;
	x[300] = 1.0f;
	kern_quant_q8_K(x, b, 512);
	CHECK(b[0].d == 1.0f, "d0 = %g", b[0].d);
	CHECK(b[0].qs[0] == -127 && b[0].qs[1] == 2 && b[0].qs[2] == 4 && b[0].qs[3] == 0 &&
		  b[0].qs[4] == 127 && b[0].qs[5] == 127 && b[0].qs[16] == 7,
		  "qs0 %d %d %d %d %d %d", b[0].qs[0], b[0].qs[1], b[0].qs[2], b[0].qs[3], b[0].qs[4], b[0].qs[5]);
	CHECK(b[0].bsums[0] == -127 + 2 + 4 + 127 + 127 && b[0].bsums[1] == 7 && b[0].bsums[15] == 0,
		  "bsums0 %d %d", b[0].bsums[0], b[0].bsums[1]);
	CHECK(b[1].d == -1.0f, "d1 = %g", b[1].d);
	CHECK(b[1].qs[0] == -127 && b[1].qs[1] == -2 && b[1].qs[2] == 127 && b[1].qs[44] == -1, "qs1");
	CHECK(b[1].bsums[0] == -2 && b[1].bsums[2] == -1, "bsums1 %d %d", b[1].bsums[0], b[1].bsums[2]);
	kern_dequant_q8_K(b, y, 512);
	CHECK(y[0] == -127.0f && y[1] == 2.0f && y[256] == 127.0f && y[257] == 2.0f && y[300] == 1.0f,
		  "dequant %g %g %g %g", y[0], y[1], y[256], y[257]);

	/* zero block: d = 0, no garbage in bsums */
	memset(x, 0, sizeof(x));
	memset(b, 0x55, sizeof(b));
	kern_quant_q8_K(x, b, 256);
	CHECK(b[0].d == 0.0f && b[0].qs[9] == 0 && b[0].bsums[3] == 0, "zero block");
}

static void
test_q4_hand(void)
{
	block_q4_0 a;
	block_q4_1 b;
	float      y[32], want[32];

	/* q4_0, d = 0.25: element j low nibble of qs[j], j+16 high nibble */
	a.d = 0x3400;
	memset(a.qs, 0x88, sizeof(a.qs));
	a.qs[0] = 0x5F;
	a.qs[1] = 0x80;
	a.qs[15] = 0x0C;
	for (int j = 0; j < 32; j++)
		want[j] = 0.0f;
	want[0] = 1.75f;    /* (15-8)/4 */
	want[16] = -0.75f;  /* (5-8)/4 */
	want[1] = -2.0f;    /* (0-8)/4 */
	want[15] = 1.0f;    /* (12-8)/4 */
	want[31] = -2.0f;
	kern_dequant_q4_0(&a, y, 32);
	check_row("q4_0", y, want, 32);

	/* q4_1, d = 0.5, m = -1 */
	b.d = 0x3800;
	b.m = 0xBC00;
	memset(b.qs, 0, sizeof(b.qs));
	b.qs[0] = 0x2F;
	b.qs[3] = 0xA0;
	for (int j = 0; j < 32; j++)
		want[j] = -1.0f;
	want[0] = 6.5f;   /* 15*0.5 - 1 */
	want[16] = 0.0f;  /* 2*0.5 - 1 */
	want[19] = 4.0f;  /* 10*0.5 - 1 */
	kern_dequant_q4_1(&b, y, 32);
	check_row("q4_1", y, want, 32);

	/* q4_0 quantizer: the largest-magnitude value maps to q = 0 and d = max/-8 */
	{
		float x[32] = {0};

		x[0] = -8.0f;
		x[1] = 3.0f;
		x[17] = 7.4f;
		x[18] = 7.9f;     /* 16.4 after the offset: clamps to 15 */
		kern_quant_q4_0(x, &a, 32);
		CHECK(a.d == 0x3C00, "d 0x%04x", a.d);   /* -8 / -8 = 1 */
		CHECK((a.qs[0] & 0xF) == 0 && (a.qs[1] & 0xF) == 11 && (a.qs[1] >> 4) == 15 && (a.qs[2] >> 4) == 15 &&
			  (a.qs[5] & 0xF) == 8, "qs %02x %02x %02x", a.qs[0], a.qs[1], a.qs[2]);
	}
}

static void
test_q5_hand(void)
{
	block_q5_0 a;
	block_q5_1 b;
	float      y[32], want[32];

	/* q5_0, d = 1: bits 0, 16 and 31 of qh set */
	a.d = 0x3C00;
	memset(a.qs, 0, sizeof(a.qs));
	a.qh[0] = 0x01;
	a.qh[1] = 0x00;
	a.qh[2] = 0x01;
	a.qh[3] = 0x80;
	a.qs[0] = 0x21;
	a.qs[15] = 0xF0;
	for (int j = 0; j < 32; j++)
		want[j] = -16.0f;
	want[0] = 1.0f;    /* (1|16) - 16 */
	want[16] = 2.0f;   /* (2|16) - 16 */
	want[31] = 15.0f;  /* (15|16) - 16 */
	kern_dequant_q5_0(&a, y, 32);
	check_row("q5_0", y, want, 32);

	/* q5_1, d = 0.5, m = 1 */
	b.d = 0x3800;
	b.m = 0x3C00;
	memset(b.qs, 0, sizeof(b.qs));
	memset(b.qh, 0, sizeof(b.qh));
	b.qs[0] = 0xFF;
	b.qh[0] = 0x01;
	b.qh[2] = 0x01;
	b.qs[9] = 0x30;
	b.qh[3] = 0x02;    /* bit 25 -> element 25 */
	for (int j = 0; j < 32; j++)
		want[j] = 1.0f;
	want[0] = 16.5f;   /* 31*0.5 + 1 */
	want[16] = 16.5f;
	want[25] = 10.5f;  /* (3|16)*0.5 + 1 */
	kern_dequant_q5_1(&b, y, 32);
	check_row("q5_1", y, want, 32);
}

/* q4_K/q5_K scales: sub-block 0 sc 3 m 5, sub-block 4 sc 17 m 34, others 0 */
static void
k4_hand_scales(uint8_t s[12])
{
	memset(s, 0, 12);
	s[0] = 0x40 | 3;   /* sc0 = 3; top bits 01 -> bits 4-5 of sc4 */
	s[4] = 0x80 | 5;   /* m0 = 5; top bits 10 -> bits 4-5 of m4 */
	s[8] = 0x21;       /* sc4 low = 1, m4 low = 2 */
}

static void
test_q4_K_hand(void)
{
	block_q4_K b;
	float      y[256], want[256];

	b.d = 0x3C00;      /* 1 */
	b.dmin = 0x3800;   /* 0.5 */
	k4_hand_scales(b.scales);
	memset(b.qs, 0, sizeof(b.qs));
	b.qs[0] = 0x7A;    /* element 0 = 10 (sub-block 0), element 32 = 7 (sub-block 1) */
	b.qs[64] = 0x0C;   /* element 128 = 12 (sub-block 4), element 160 = 0 */
	for (int j = 0; j < 256; j++)
		want[j] = 0.0f;
	for (int j = 0; j < 32; j++)
		want[j] = -2.5f;          /* 3*0 - 0.5*5 */
	want[0] = 27.5f;              /* 3*10 - 2.5 */
	for (int j = 128; j < 160; j++)
		want[j] = -17.0f;         /* 17*0 - 0.5*34 */
	want[128] = 187.0f;           /* 17*12 - 17 */
	kern_dequant_q4_K(&b, y, 256);
	check_row("q4_K", y, want, 256);
}

static void
test_q5_K_hand(void)
{
	block_q5_K b;
	float      y[256], want[256];

	b.d = 0x3C00;
	b.dmin = 0x3800;
	k4_hand_scales(b.scales);
	memset(b.qs, 0, sizeof(b.qs));
	memset(b.qh, 0, sizeof(b.qh));
	b.qs[0] = 0x7A;
	b.qs[64] = 0x0C;
	b.qh[0] = 0x13;    /* bit 0: element 0 +16; bit 1: element 32 +16; bit 4: element 128 +16 */
	b.qh[5] = 0x20;    /* bit 5: element 160 + 5 gets +16, but sub-block 5 has sc 0, m 0 */
	for (int j = 0; j < 256; j++)
		want[j] = 0.0f;
	for (int j = 0; j < 32; j++)
		want[j] = -2.5f;
	want[0] = 75.5f;              /* 3*26 - 2.5 */
	for (int j = 128; j < 160; j++)
		want[j] = -17.0f;
	want[128] = 459.0f;           /* 17*28 - 17 */
	kern_dequant_q5_K(&b, y, 256);
	check_row("q5_K", y, want, 256);
}

static void
test_q6_K_hand(void)
{
	block_q6_K b;
	float      y[256], want[256];

	memset(&b, 0, sizeof(b));
	b.d = 0x3800;      /* 0.5 */
	b.scales[0] = 2;
	b.scales[2] = -1;
	b.scales[4] = 3;
	b.scales[8] = 4;
	b.ql[0] = 0x3F;    /* element 0 low = 15, element 64 low = 3 */
	b.qh[0] = 0x09;    /* element 0 high = 1, element 32 high = 2 */
	b.ql[64] = 0x05;   /* element 128 low = 5 */
	b.qh[32] = 0x03;   /* element 128 high = 3 */
	for (int j = 0; j < 256; j++)
		want[j] = 0.0f;
	for (int j = 0; j < 16; j++)
	{
		want[j] = -32.0f;         /* 0.5*2*(0-32) */
		want[32 + j] = 16.0f;     /* 0.5*-1*(0-32) */
		want[64 + j] = -48.0f;    /* 0.5*3*(0-32) */
		want[128 + j] = -64.0f;   /* 0.5*4*(0-32) */
	}
	want[0] = -1.0f;              /* 0.5*2*(31-32) */
	want[32] = -0.0f;             /* 0.5*-1*(32-32) */
	want[64] = -43.5f;            /* 0.5*3*(3-32) */
	want[128] = 42.0f;            /* 0.5*4*(53-32) */
	kern_dequant_q6_K(&b, y, 256);
	check_row("q6_K", y, want, 256);
}

/* ---- round trips ------------------------------------------------------------ */

/* max |x - dequant(quant(x))| over each block, against a per-block bound */
static void
roundtrip(uint32_t type, float scale)
{
	const kern_type_traits *t = kern_type_info(type);
	int64_t bs = t->block_size, n = bs == 1 ? 1001 : bs * 5;
	float  *x = malloc((size_t) n * sizeof(float)), *y = malloc((size_t) n * sizeof(float));
	void   *q = malloc(pllm_type_row_bytes(type, n));
	int     bad = 0;
	double  worst = 0.0;

	fill_random(x, n, scale);
	if (bs > 1)
		x[bs + 3] = 0.0f, x[2 * bs] = -scale * 1.5f;   /* a block with a negative extreme */
	t->quant_row(x, q, n);
	t->dequant_row(q, y, n);
	for (int64_t b0 = 0; b0 < n; b0 += (bs == 1 ? n : bs))
	{
		int64_t len = bs == 1 ? n : bs;
		float   amax = 0.0f, mn = INFINITY, mx = -INFINITY;
		double  bound;

		for (int64_t j = b0; j < b0 + len; j++)
		{
			amax = fmaxf(amax, fabsf(x[j]));
			mn = fminf(mn, x[j]);
			mx = fmaxf(mx, x[j]);
		}
		switch (type)
		{
			case PLLM_TYPE_Q8_0:
			case PLLM_TYPE_Q8_1: bound = amax / 127.0 * (0.5 + 127.0 / 2048.0) + 1e-7; break;
			case PLLM_TYPE_Q8_K: bound = amax / 127.0 * 0.5001 + 1e-7; break;
			case PLLM_TYPE_Q4_0: bound = amax / 8.0 * (1.0 + 15.0 / 2048.0) + 1e-7; break;
			case PLLM_TYPE_Q5_0: bound = amax / 16.0 * (1.0 + 31.0 / 2048.0) + 1e-7; break;
			case PLLM_TYPE_Q4_1: bound = (mx - mn) / 15.0 * (0.5 + 15.0 / 2048.0) + fabs(mn) / 2048.0 + 1e-7; break;
			case PLLM_TYPE_Q5_1: bound = (mx - mn) / 31.0 * (0.5 + 31.0 / 2048.0) + fabs(mn) / 2048.0 + 1e-7; break;
			default: bound = 0.0; break;
		}
		for (int64_t j = b0; j < b0 + len; j++)
		{
			double err = fabs((double) x[j] - y[j]);

			if (type == PLLM_TYPE_F16)
				bound = fabs(x[j]) * 0x1p-11 + 0x1p-25;
			else if (type == PLLM_TYPE_BF16)
				bound = fabs(x[j]) * 0x1p-8;
			if (err > bound)
				bad++;
			if (bound > 0 && err / bound > worst)
				worst = err / bound;
		}
	}
	CHECK(bad == 0, "%s: %d elements over the bound (worst %.3f of it)", t->name, bad, worst);
	/* the bound must not be slack by orders of magnitude either: quantizing does lose something */
	CHECK(worst > 0.2, "%s: suspiciously exact (worst %.3f of the bound)", t->name, worst);
	free(x);
	free(y);
	free(q);
}

static void
test_roundtrip(void)
{
	static const uint32_t types[] = {
		PLLM_TYPE_F16, PLLM_TYPE_BF16, PLLM_TYPE_Q8_0, PLLM_TYPE_Q8_1, PLLM_TYPE_Q8_K,
		PLLM_TYPE_Q4_0, PLLM_TYPE_Q4_1, PLLM_TYPE_Q5_0, PLLM_TYPE_Q5_1,
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
	{
		roundtrip(types[i], 1.0f);
		roundtrip(types[i], 37.0f);
	}
	/* q8_1's s field is d * sum(q) */
	{
		float      x[64];
		block_q8_1 b[2];

		fill_random(x, 64, 3.0f);
		kern_quant_q8_1(x, b, 64);
		for (int i = 0; i < 2; i++)
		{
			int sum = 0;

			for (int j = 0; j < 32; j++)
				sum += b[i].qs[j];
			CHECK_NEAR(kern_fp16_to_fp32(b[i].s), sum * kern_fp16_to_fp32(b[i].d),
					   fabs(sum * kern_fp16_to_fp32(b[i].d)) * 2e-3 + 1e-4);
		}
	}
	/* q8_K bsums are the sums of each 16 quants */
	{
		float      x[512];
		block_q8_K b[2];
		int        bad = 0;

		fill_random(x, 512, 2.0f);
		kern_quant_q8_K(x, b, 512);
		for (int i = 0; i < 2; i++)
			for (int g = 0; g < 16; g++)
			{
				int sum = 0;

				for (int j = 0; j < 16; j++)
					sum += b[i].qs[16 * g + j];
				bad += sum != b[i].bsums[g];
			}
		CHECK(bad == 0, "%d bsums wrong", bad);
	}
}

/* ---- vec_dot and matmul -------------------------------------------------------- */

static void
test_vec_dot(void)
{
	for (int i = 0; i < N_WEIGHT_TYPES; i++)
	{
		uint32_t                type = weight_types[i];
		const kern_type_traits *t = kern_type_info(type);
		const kern_type_traits *at = kern_type_info(t->vec_dot_type);
		int64_t                 n = t->block_size == 1 ? 37 : t->block_size * 3;
		void                   *w = malloc(pllm_type_row_bytes(type, n));
		void                   *aq = malloc(pllm_type_row_bytes(t->vec_dot_type, n));
		float                  *x = malloc((size_t) n * sizeof(float));
		double                  sa, want;
		float                   got;

		random_weight_blocks(type, w, n / t->block_size);
		fill_random(x, n, 2.0f);
		want = oracle_dot(type, w, x, n, &sa);
		at->quant_row(x, aq, n);
		got = t->vec_dot(n, w, aq);
		/* q4_1/q5_1 take the min term from q8_1's f16-rounded s: up to 2^-11 of it */
		CHECK_NEAR(got, want, sa * (t->vec_dot_type == PLLM_TYPE_Q8_1 ? 2e-3 : 2e-5) + 1e-6);
		CHECK(sa > 0.1, "%s: degenerate test data (sum |w a| = %g)", t->name, sa);
		if (fabs(got - want) > sa * 2e-3)
			printf("#   %s: vec_dot %.9g, oracle %.9g\n", t->name, got, want);
		free(w);
		free(aq);
		free(x);
	}
}

static void
matmul_case(uint32_t type, int64_t rows, int64_t cols, int64_t n_tok)
{
	const kern_type_traits *t = kern_type_info(type);
	size_t  wrow = pllm_type_row_bytes(type, cols);
	char   *w = malloc(wrow * (size_t) rows);
	float  *x = malloc((size_t) (cols * n_tok) * sizeof(float));
	float  *out = malloc((size_t) (rows * n_tok) * sizeof(float));
	size_t  sb = kern_matmul_scratch_bytes(type, cols, n_tok);
	void   *scratch = malloc(sb ? sb : 1);
	int     bad = 0;

	random_weight_blocks(type, w, (int64_t) (wrow * (size_t) rows / t->block_bytes));
	fill_random(x, cols * n_tok, 1.5f);
	kern_matmul(type, w, rows, cols, x, n_tok, out, scratch);
	for (int64_t tk = 0; tk < n_tok; tk++)
		for (int64_t r = 0; r < rows; r++)
		{
			double sa, want = oracle_dot(type, w + (size_t) r * wrow, x + tk * cols, cols, &sa);
			double tol = sa * (t->vec_dot_type == PLLM_TYPE_Q8_1 ? 2e-3 : 2e-5) + 1e-6;

			if (!(fabs(out[tk * rows + r] - want) <= tol) && bad++ < 3)
				printf("#   %s %lldx%lld n_tok %lld: out[%lld][%lld] = %.9g, want %.9g\n", t->name,
					   (long long) rows, (long long) cols, (long long) n_tok, (long long) tk,
					   (long long) r, out[tk * rows + r], want);
		}
	CHECK(bad == 0, "%s matmul %lldx%lld n_tok %lld: %d wrong", t->name, (long long) rows,
		  (long long) cols, (long long) n_tok, bad);
	free(w);
	free(x);
	free(out);
	free(scratch);
}

static void
test_matmul(void)
{
	for (int i = 0; i < N_WEIGHT_TYPES; i++)
	{
		uint32_t type = weight_types[i];
		int64_t  bs = pllm_type_block_size(type);
		int64_t  c1 = bs == 1 ? 13 : bs, c2 = bs == 1 ? 70 : bs * 3;

		matmul_case(type, 1, c1, 1);
		matmul_case(type, 1, c2, 4);
		matmul_case(type, 7, c1, 1);
		matmul_case(type, 5, c2, 3);
	}
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_F32, 100, 3) == 0, "f32 needs no scratch");
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_F16, 7, 3) == 42, "f16 scratch");
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_Q4_0, 64, 3) == 3 * 68, "q4_0 scratch");
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_Q5_1, 64, 2) == 2 * 72, "q5_1 scratch");
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_Q6_K, 512, 2) == 2 * 584, "q6_K scratch");
	CHECK(kern_matmul_scratch_bytes(PLLM_TYPE_Q2_K, 256, 1) == 0, "unsupported type");

	/* unsupported type or partial blocks: NaN, not garbage or a crash */
	{
		float    x[256] = {0}, out[2] = {1, 1};
		uint8_t  w[2 * 84] = {0};

		kern_matmul(PLLM_TYPE_Q2_K, w, 2, 256, x, 1, out, NULL);
		CHECK(isnan(out[0]) && isnan(out[1]), "q2_K matmul gives NaN");
		out[0] = out[1] = 1;
		kern_matmul(PLLM_TYPE_Q8_0, w, 1, 40, x, 2, out, NULL);
		CHECK(isnan(out[0]) && isnan(out[1]), "partial block gives NaN");
	}
	/* an exact case by hand: F32 W (2,3) . x (2 tokens, 3) */
	{
		float w[6] = {1, 2, 3, -1, 0, 0.5f}, x[6] = {1, 1, 1, 2, 0, -2}, out[4];

		kern_matmul(PLLM_TYPE_F32, w, 2, 3, x, 2, out, NULL);
		CHECK(out[0] == 6.0f && out[1] == -0.5f && out[2] == -4.0f && out[3] == -3.0f,
			  "%g %g %g %g", out[0], out[1], out[2], out[3]);
	}
	/* Q8_0 by hand: W row = 1.0 * (1, 2, 0...), x = (4, 8, 0...) -> x quantized exactly */
	{
		block_q8_0 w[1];
		float      x[32] = {0}, out[1];
		char       scratch[34];

		memset(w, 0, sizeof(w));
		w[0].d = 0x3C00;
		w[0].qs[0] = 1;
		w[0].qs[1] = 2;
		x[0] = 4.0f;
		x[1] = 127.0f;   /* d = 1: both exact */
		kern_matmul(PLLM_TYPE_Q8_0, w, 1, 32, x, 1, out, scratch);
		CHECK(out[0] == 258.0f, "q8_0 exact %g", out[0]);
		x[1] = 127.4f;   /* rounds to 127 with d = 127.4/127 */
		kern_matmul(PLLM_TYPE_Q8_0, w, 1, 32, x, 1, out, scratch);
		CHECK_NEAR(out[0], (4.0 * 1 + 127.0 * 2) * kern_fp16_to_fp32(kern_fp32_to_fp16(127.4f / 127.0f)), 1e-3);
	}
}

/* Rows computed in slices (as a threaded caller would) equal the one-call product bit for bit. */
static void
test_matmul_rows(void)
{
	static const uint32_t types[] = {PLLM_TYPE_F32, PLLM_TYPE_Q4_0, PLLM_TYPE_Q6_K};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
	{
		uint32_t    type = types[i];
		int64_t     rows = 11, cols = 512, n_tok = 3;
		size_t      wrow = pllm_type_row_bytes(type, cols);
		char       *w = malloc(wrow * (size_t) rows);
		float       x[3 * 512], whole[33], parts[33];
		void       *scratch = malloc(kern_matmul_scratch_bytes(type, cols, n_tok) + 1);
		const void *act;

		random_weight_blocks(type, w, (int64_t) (wrow * (size_t) rows / pllm_type_block_bytes(type)));
		fill_random(x, cols * n_tok, 1.0f);
		kern_matmul(type, w, rows, cols, x, n_tok, whole, scratch);
		memset(parts, 0xff, sizeof(parts));
		act = kern_matmul_prepare(type, cols, x, n_tok, scratch);
		CHECK(act != NULL, "%s prepare", pllm_type_name(type));
		CHECK((type == PLLM_TYPE_F32) == (act == (const void *) x), "f32 uses x in place");
		kern_matmul_rows(type, w, rows, cols, 0, 4, act, n_tok, parts);
		kern_matmul_rows(type, w, rows, cols, 4, 5, act, n_tok, parts);
		kern_matmul_rows(type, w, rows, cols, 5, rows, act, n_tok, parts);
		CHECK(memcmp(whole, parts, sizeof(whole)) == 0, "%s: sliced rows differ", pllm_type_name(type));
		free(w);
		free(scratch);
	}
	CHECK(kern_matmul_prepare(PLLM_TYPE_Q2_K, 256, NULL, 1, NULL) == NULL, "unsupported prepare");
	CHECK(kern_matmul_prepare(PLLM_TYPE_Q4_K, 255, NULL, 1, NULL) == NULL, "partial block prepare");
}

static void
test_get_row(void)
{
	float      m[15], dst[5];
	block_q8_0 q[3];
	float      x[96], want[32], got[32];
	uint16_t   h[6];

	for (int i = 0; i < 15; i++)
		m[i] = (float) i * 0.5f;
	kern_get_row(PLLM_TYPE_F32, m, 5, 2, dst);
	CHECK(dst[0] == 5.0f && dst[4] == 7.0f, "f32 row 2: %g %g", dst[0], dst[4]);

	for (int i = 0; i < 6; i++)
		h[i] = kern_fp32_to_fp16((float) i - 2.5f);
	kern_get_row(PLLM_TYPE_F16, h, 3, 1, dst);
	CHECK(dst[0] == 0.5f && dst[1] == 1.5f && dst[2] == 2.5f, "f16 row 1");

	fill_random(x, 96, 4.0f);
	kern_quant_q8_0(x, q, 96);
	kern_dequant_q8_0(&q[1], want, 32);
	kern_get_row(PLLM_TYPE_Q8_0, q, 32, 1, got);
	check_row("q8_0 get_row", got, want, 32);
	CHECK(fabsf(got[5] - x[37]) < 4.0f / 127.0f, "q8_0 row 1 is x[32..63]");

	{
		float wide[33];

		wide[0] = 1.0f;
		kern_get_row(PLLM_TYPE_Q4_0, q, 33, 0, wide);
		CHECK(isnan(wide[0]) && isnan(wide[32]), "partial block gives NaN");
	}
}

/* ---- SIMD variants -------------------------------------------------------------- */

static void
simd_case(int isa, uint32_t type, int64_t n)
{
	const kern_type_traits *ref = kern_traits_for_isa(type, KERN_ISA_SCALAR);
	const kern_type_traits *fast = kern_traits_for_isa(type, isa);
	const kern_type_traits *at = kern_type_info(ref->vec_dot_type);
	void   *w = malloc(pllm_type_row_bytes(type, n) + 1);
	void   *aq = malloc(pllm_type_row_bytes(ref->vec_dot_type, n) + 1);
	float  *x = malloc((size_t) n * sizeof(float));
	double  sa;
	float   r, f;

	random_weight_blocks(type, w, n / ref->block_size);
	fill_random(x, n, 3.0f);
	at->quant_row(x, aq, n);
	oracle_dot(type, w, x, n, &sa);
	r = ref->vec_dot(n, w, aq);
	f = fast->vec_dot(n, w, aq);
	CHECK(fabs((double) r - f) <= sa * 1e-5 + 1e-6, "%s %s n=%lld: scalar %.9g simd %.9g",
		  kern_isa_name((kern_isa) isa), ref->name, (long long) n, r, f);
	/* Q6_K: exact integer sums, then the reference's own float expression */
	if (type == PLLM_TYPE_Q6_K && fast->vec_dot != ref->vec_dot)
		CHECK(memcmp(&r, &f, sizeof(float)) == 0, "%s q6_K n=%lld: scalar %.9g simd %.9g differ",
			  kern_isa_name((kern_isa) isa), (long long) n, r, f);
	free(w);
	free(aq);
	free(x);
}

static void
test_simd_variants(void)
{
	static const int64_t float_n[] = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1023};
	static const int64_t blk_n[] = {1, 2, 3, 4, 5, 7, 8, 9, 17};
	static const uint32_t qtypes[] = {PLLM_TYPE_Q8_0, PLLM_TYPE_Q4_0, PLLM_TYPE_Q4_K, PLLM_TYPE_Q6_K};
	int ran = 0;

	printf("# cpu: %s; active kernels: %s\n", kern_cpu_feature_string(), kern_isa_name(kern_isa_active()));
	for (int isa = KERN_ISA_AVX2; isa <= KERN_ISA_AVX512; isa++)
	{
		if (!kern_traits_for_isa(PLLM_TYPE_F32, isa))
		{
			printf("# skip: %s not available\n", kern_isa_name((kern_isa) isa));
			continue;
		}
		/* the SIMD variant really is different code */
		CHECK(kern_traits_for_isa(PLLM_TYPE_Q4_0, isa)->vec_dot != kern_vec_dot_q4_0, "%s q4_0 variant",
			  kern_isa_name((kern_isa) isa));
		for (size_t i = 0; i < sizeof(float_n) / sizeof(float_n[0]); i++)
		{
			simd_case(isa, PLLM_TYPE_F32, float_n[i]);
			simd_case(isa, PLLM_TYPE_F16, float_n[i]);
		}
		for (size_t q = 0; q < sizeof(qtypes) / sizeof(qtypes[0]); q++)
			for (size_t i = 0; i < sizeof(blk_n) / sizeof(blk_n[0]); i++)
				simd_case(isa, qtypes[q], blk_n[i] * pllm_type_block_size(qtypes[q]));
		ran++;
	}
	/* the active table is the one cpu.c chose */
	CHECK(kern_traits(PLLM_TYPE_Q8_0) == kern_traits_for_isa(PLLM_TYPE_Q8_0, kern_isa_active()), "active table");
	CHECK(kern_traits_for_isa(PLLM_TYPE_Q8_0, 7) == NULL && kern_traits_for_isa(PLLM_TYPE_Q8_0, -1) == NULL,
		  "bad isa");
	if (!ran)
		printf("# note: no SIMD family available, only the scalar path was tested\n");
}

/* ---- tiled products, threaded products, SIMD activation quantization ---------- */

/* A family's quant_row for Q8_0 activations equals the reference byte for byte. */
static void
test_quant_q8_0_simd(void)
{
	for (int isa = KERN_ISA_AVX2; isa <= KERN_ISA_AVX512; isa++)
	{
		const kern_type_traits *t = kern_traits_for_isa(PLLM_TYPE_Q8_0, isa);
		enum { N = 32 * 40 };
		float      x[N];
		block_q8_0 want[N / 32], got[N / 32];

		if (!t)
			continue;
		fill_random(x, N, 3.0f);
		for (int j = 0; j < 32; j++)
			x[32 + j] = 0.0f;                           /* all-zero block */
		for (int j = 0; j < 32; j++)
			x[64 + j] = (float) (j - 16) * 0.5f + 0.25f; /* amax 7.75: many near-ties */
		for (int j = 0; j < 32; j++)
			x[96 + j] = (float) (j % 5) - 2.0f + (j == 7 ? 125.0f : 0.0f);
		x[130] = -x[130] * 40.0f;
		kern_quant_q8_0(x, want, N);
		t->quant_row(x, got, N);
		CHECK(memcmp(want, got, sizeof(want)) == 0, "%s q8_0 quantization differs", kern_isa_name((kern_isa) isa));
	}
}

/* A family's gemm against the scalar vec_dot on odd shapes. */
static void
gemm_case(int isa, uint32_t type, int64_t rows, int64_t nblk, int64_t n_tok)
{
	const kern_type_traits *ref = kern_traits_for_isa(type, KERN_ISA_SCALAR);
	const kern_type_traits *fast = kern_traits_for_isa(type, isa);
	const kern_type_traits *at = kern_type_info(ref->vec_dot_type);
	int64_t cols = nblk * ref->block_size;
	size_t  wrow = pllm_type_row_bytes(type, cols), arow = pllm_type_row_bytes(ref->vec_dot_type, cols);
	char   *w = malloc(wrow * (size_t) rows), *a = malloc(arow * (size_t) n_tok);
	float  *x = malloc(sizeof(float) * (size_t) (cols * n_tok));
	float  *out = malloc(sizeof(float) * (size_t) (rows * n_tok));
	int     bad = 0;

	random_weight_blocks(type, w, rows * nblk);
	fill_random(x, cols * n_tok, 2.0f);
	for (int64_t t = 0; t < n_tok; t++)
		at->quant_row(x + t * cols, a + (size_t) t * arow, cols);
	fast->gemm(cols, w, wrow, rows, a, arow, n_tok, out, rows);
	for (int64_t t = 0; t < n_tok; t++)
		for (int64_t r = 0; r < rows; r++)
		{
			double sa;
			float  want = ref->vec_dot(cols, w + (size_t) r * wrow, a + (size_t) t * arow);
			float  got = out[t * rows + r];

			oracle_dot(type, w + (size_t) r * wrow, x + t * cols, cols, &sa);
			if (!(fabs((double) got - want) <= sa * 1e-5 + 1e-6) && bad++ < 3)
				printf("#   %s %s %lldx%lld n_tok %lld [%lld][%lld]: %.9g, scalar %.9g\n",
					   kern_isa_name((kern_isa) isa), ref->name, (long long) rows, (long long) cols,
					   (long long) n_tok, (long long) t, (long long) r, got, want);
		}
	CHECK(bad == 0, "%s %s gemm %lldx%lld n_tok %lld: %d wrong", kern_isa_name((kern_isa) isa), ref->name,
		  (long long) rows, (long long) cols, (long long) n_tok, bad);
	/* each token alone (decode) and rows [1, rows) alone give the same bits (batches, threads) */
	bad = 0;
	for (int64_t t = 0; t < n_tok; t++)
	{
		float one[31];

		fast->gemm(cols, w, wrow, rows, a + (size_t) t * arow, arow, 1, one, 1);
		for (int64_t r = 0; r < rows; r++)
			bad += memcmp(&one[r], &out[t * rows + r], sizeof(float)) != 0;
		if (rows > 1)
		{
			fast->gemm(cols, w + wrow, wrow, rows - 1, a + (size_t) t * arow, arow, 1, one, 1);
			for (int64_t r = 1; r < rows; r++)
				bad += memcmp(&one[r - 1], &out[t * rows + r], sizeof(float)) != 0;
		}
	}
	/* batched generation equals one-by-one only if this holds for every token count */
	CHECK(bad == 0, "%s %s gemm %lldx%lld n_tok %lld: %d results depend on the tile",
		  kern_isa_name((kern_isa) isa), ref->name, (long long) rows, (long long) cols, (long long) n_tok, bad);
	free(w);
	free(a);
	free(x);
	free(out);
}

static void
test_gemm(void)
{
	static const uint32_t types[] = {PLLM_TYPE_Q8_0, PLLM_TYPE_Q4_0, PLLM_TYPE_Q5_0, PLLM_TYPE_Q4_K};
	static const int64_t  rows[] = {1, 3, 4, 5, 15, 16, 31};
	static const int64_t  toks[] = {1, 2, 3, 4, 5, 7, 8, 9, 17};
	int ran = 0;

	for (int isa = KERN_ISA_SCALAR; isa <= KERN_ISA_AVX512; isa++)
		for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
		{
			const kern_type_traits *t = kern_traits_for_isa(types[ti], isa);
			int64_t blks[] = {1, 2, 3, types[ti] == PLLM_TYPE_Q4_K ? 5 : 33};

			if (!t || !t->gemm)
				continue;
			ran++;
			for (size_t ri = 0; ri < sizeof(rows) / sizeof(rows[0]); ri++)
				for (size_t ki = 0; ki < sizeof(toks) / sizeof(toks[0]); ki++)
					for (size_t bi = 0; bi < 4; bi++)
						if (bi == 3 ? (ri == 4 && (ki == 0 || ki == 8)) : (ri % 2 == bi % 2 || ki >= 6))
							gemm_case(isa, types[ti], rows[ri], blks[bi], toks[ki]);
		}
	if (!ran)
		printf("# note: no tiled product on this CPU\n");
}

/* kern_matmul_mt_multi equals kern_matmul per part, bit for bit (same and mixed activation types). */
static void
test_matmul_mt_multi(void)
{
	static const uint32_t sets[][3] = {
		{PLLM_TYPE_Q8_0, PLLM_TYPE_Q5_0, PLLM_TYPE_Q4_0}, {PLLM_TYPE_Q4_K, PLLM_TYPE_Q6_K, PLLM_TYPE_Q4_K},
		{PLLM_TYPE_Q4_K, PLLM_TYPE_Q8_0, PLLM_TYPE_Q5_0}, {PLLM_TYPE_F32, PLLM_TYPE_F32, PLLM_TYPE_F32},
		{PLLM_TYPE_F16, PLLM_TYPE_F16, PLLM_TYPE_F16}};
	static const int64_t  rows[3] = {77, 33, 130}, toks[] = {1, 3, 9};
	const int64_t         cols = 512;

	kern_pool_set_threads(3);
	for (size_t si = 0; si < sizeof(sets) / sizeof(sets[0]); si++)
		for (size_t ki = 0; ki < sizeof(toks) / sizeof(toks[0]); ki++)
		{
			int64_t      n_tok = toks[ki];
			kern_mm_part parts[3];
			char        *w[3];
			float       *want[3];
			float       *x = malloc(sizeof(float) * (size_t) (cols * n_tok));
			size_t       sb = 0;
			void        *sc;
			int          bad = 0;

			fill_random(x, cols * n_tok, 1.0f);
			for (int i = 0; i < 3; i++)
			{
				size_t wrow = pllm_type_row_bytes(sets[si][i], cols);
				size_t b = kern_matmul_scratch_bytes(sets[si][i], cols, n_tok);

				w[i] = malloc(wrow * (size_t) rows[i]);
				random_weight_blocks(sets[si][i], w[i], (int64_t) (wrow * (size_t) rows[i] / pllm_type_block_bytes(sets[si][i])));
				want[i] = malloc(sizeof(float) * (size_t) (rows[i] * n_tok));
				parts[i] = (kern_mm_part) {sets[si][i], w[i], rows[i], malloc(sizeof(float) * (size_t) (rows[i] * n_tok))};
				sb = b > sb ? b : sb;
			}
			sc = malloc(sb + 1);
			for (int i = 0; i < 3; i++)
				kern_matmul(sets[si][i], w[i], rows[i], cols, x, n_tok, want[i], sc);
			kern_matmul_mt_multi(parts, 3, cols, x, n_tok, sc);
			for (int i = 0; i < 3; i++)
			{
				for (int64_t j = 0; j < rows[i] * n_tok; j++)
					bad += sets[si][i] == PLLM_TYPE_F32 ? !(fabsf(want[i][j] - parts[i].out[j]) <= 1e-5f * (1.0f + fabsf(want[i][j])))
						: memcmp(&want[i][j], &parts[i].out[j], sizeof(float)) != 0;
				free(w[i]);
				free(want[i]);
				free(parts[i].out);
			}
			CHECK(bad == 0, "set %zu n_tok %lld: %d results differ", si, (long long) n_tok, bad);
			free(x);
			free(sc);
		}
	kern_pool_set_threads(0);
}

/* Attention row primitives against the scalar references: dot to rounding, axpy bit for bit. */
static void
test_attn_rows(void)
{
	enum { N = 131 };
	float    k[N], q[N], o1[N], o2[N];
	uint16_t kh[N];
	int      bad = 0;

	fill_random(k, N, 2.0f);
	fill_random(q, N, 2.0f);
	kern_fp32_to_fp16_row(k, kh, N);
	for (int n = 1; n <= N; n += n < 40 ? 1 : 13)
	{
		double mag = 0.0;
		float  d32 = kern_attn_dot_f32(n, k, q), d16 = kern_attn_dot_f16(n, kh, q);

		for (int i = 0; i < n; i++)
			mag += fabs((double) k[i] * q[i]);
		bad += !(fabs((double) d32 - kern_attn_dot_f32_ref(n, k, q)) <= mag * 1e-6);
		bad += !(fabs((double) d16 - kern_attn_dot_f16_ref(n, kh, q)) <= mag * 1e-6);
		memcpy(o1, q, sizeof(q));
		memcpy(o2, q, sizeof(q));
		kern_attn_axpy_f32(n, 0.37f, k, o1);
		kern_attn_axpy_f32_ref(n, 0.37f, k, o2);
		bad += memcmp(o1, o2, sizeof(o1)) != 0;
		kern_attn_axpy_f16(n, -1.7f, kh, o1);
		kern_attn_axpy_f16_ref(n, -1.7f, kh, o2);
		bad += memcmp(o1, o2, sizeof(o1)) != 0;
	}
	CHECK(bad == 0, "%d attention row results differ from the references", bad);
}

/* kern_matmul_mt equals kern_matmul (quantized: bit for bit; F32 through sgemm: to 1e-5). */
static void
test_matmul_mt(void)
{
	static const uint32_t types[] = {PLLM_TYPE_F32, PLLM_TYPE_F16, PLLM_TYPE_Q8_0, PLLM_TYPE_Q4_0,
									 PLLM_TYPE_Q5_0, PLLM_TYPE_Q4_K, PLLM_TYPE_Q6_K};
	static const int64_t  shapes[][3] = {{37, 256, 1}, {200, 512, 1}, {129, 256, 3}, {70, 768, 9},
										 {300, 256, 16}, {1, 256, 20}};

	kern_pool_set_threads(3);
	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++)
		for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++)
		{
			uint32_t type = types[ti];
			int64_t  rows = shapes[si][0], cols = shapes[si][1], n_tok = shapes[si][2];
			size_t   wrow = pllm_type_row_bytes(type, cols);
			char    *w = malloc(wrow * (size_t) rows);
			float   *x = malloc(sizeof(float) * (size_t) (cols * n_tok));
			float   *o1 = malloc(sizeof(float) * (size_t) (rows * n_tok));
			float   *o2 = malloc(sizeof(float) * (size_t) (rows * n_tok));
			void    *sc = malloc(kern_matmul_scratch_bytes(type, cols, n_tok) + 1);
			int      bad = 0;

			random_weight_blocks(type, w, (int64_t) (wrow * (size_t) rows / pllm_type_block_bytes(type)));
			fill_random(x, cols * n_tok, 1.0f);
			kern_matmul(type, w, rows, cols, x, n_tok, o1, sc);
			kern_matmul_mt(type, w, rows, cols, x, n_tok, o2, sc);
			for (int64_t i = 0; i < rows * n_tok; i++)
				if (type == PLLM_TYPE_F32 ? !(fabsf(o1[i] - o2[i]) <= 1e-5f * (1.0f + fabsf(o1[i]))) : o1[i] != o2[i])
					bad++;
			CHECK(bad == 0, "%s mt %lldx%lld n_tok %lld: %d differ", pllm_type_name(type), (long long) rows,
				  (long long) cols, (long long) n_tok, bad);
			free(w);
			free(x);
			free(o1);
			free(o2);
			free(sc);
		}
	kern_pool_set_threads(0);
}

int
main(void)
{
	RUN(test_type_table);
	RUN(test_fp16_to_half);
	RUN(test_fp16_to_float);
	RUN(test_fp16_vs_f16c);
	RUN(test_fp16_rows);
	RUN(test_bf16);
	RUN(test_q8_0_hand);
	RUN(test_q8_1_hand);
	RUN(test_q8_K_hand);
	RUN(test_q4_hand);
	RUN(test_q5_hand);
	RUN(test_q4_K_hand);
	RUN(test_q5_K_hand);
	RUN(test_q6_K_hand);
	RUN(test_roundtrip);
	RUN(test_vec_dot);
	RUN(test_matmul);
	RUN(test_matmul_rows);
	RUN(test_get_row);
	RUN(test_simd_variants);
	RUN(test_quant_q8_0_simd);
	RUN(test_gemm);
	RUN(test_matmul_mt);
	RUN(test_attn_rows);
	RUN(test_matmul_mt_multi);
	return UNIT_DONE();
}
