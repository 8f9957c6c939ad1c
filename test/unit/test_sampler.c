/*
 * test_sampler.c -- the sampler on hand-made logits (greedy, temperature,
 * top-k, top-p, min-p, repetition penalty, seeded determinism), the RNG's
 * fixed output, and the UTF-8-safe text streamer with stop strings.
 */
#include <stdint.h>

#include "pg_llm/sampler.h"
#include "unit.h"
#include "utf8.h"

#define NV 8

static pllm_sampler *
make_sampler(pllm_sampler_params p)
{
	pllm_sampler *s = NULL;
	pllm_error    err;

	CHECK(pllm_sampler_create(&p, NV, &s, &err) == PLLM_OK, "create: %s", err.msg);
	return s;
}

static pllm_sampler_params
plain(float temp, uint64_t seed)
{
	pllm_sampler_params p = pllm_sampler_params_default();

	p.temperature = temp;
	p.top_k = 0;
	p.top_p = 1.0f;
	p.min_p = 0.0f;
	p.repeat_penalty = 1.0f;
	p.seed = seed;
	return p;
}

/* Count how often each id is drawn in n draws. */
static void
histogram(pllm_sampler *s, const float *logits, int n, int *counts)
{
	int i;

	memset(counts, 0, sizeof(int) * NV);
	for (i = 0; i < n; i++)
	{
		int32_t id = pllm_sampler_sample(s, logits);

		if (id >= 0 && id < NV)
			counts[id]++;
	}
}

static void
test_rng_fixed(void)
{
	pllm_rng r1, r2;
	uint64_t a, b;
	int      i, same = 1;
	double   u, lo = 1, hi = 0;

	pllm_rng_seed(&r1, 42);
	pllm_rng_seed(&r2, 42);
	for (i = 0; i < 1000; i++)
	{
		a = pllm_rng_next(&r1);
		b = pllm_rng_next(&r2);
		same &= a == b;
	}
	CHECK(same, "same seed, different stream");
	pllm_rng_seed(&r2, 43);
	CHECK(pllm_rng_next(&r1) != pllm_rng_next(&r2), "seeds 42 and 43 collide");
	/* Reference value: splitmix64(0) seeding then xoshiro256** -- any change breaks reproducibility. */
	pllm_rng_seed(&r1, 0);
	a = pllm_rng_next(&r1);
	pllm_rng_seed(&r2, 0);
	CHECK(a == pllm_rng_next(&r2), "seed 0 not reproducible");
	CHECK(a == UINT64_C(0x99ec5f36cb75f2b4), "first output for seed 0 is %#llx", (unsigned long long) a);
	for (i = 0; i < 10000; i++)
	{
		u = pllm_rng_uniform(&r1);
		if (u < lo)
			lo = u;
		if (u > hi)
			hi = u;
	}
	CHECK(lo >= 0.0 && hi < 1.0 && lo < 0.01 && hi > 0.99, "uniform range [%g, %g]", lo, hi);
}

static void
test_greedy(void)
{
	float         l[NV] = {0.1f, 2.0f, -1.0f, 3.5f, 3.5f, 0.0f, 1.0f, -5.0f};
	pllm_sampler *s = make_sampler(plain(0.0f, 1));
	int           i;

	if (!s)
		return;
	for (i = 0; i < 5; i++)
		CHECK(pllm_sampler_sample(s, l) == 3, "greedy tie must pick the lowest id (3)");
	pllm_sampler_free(s);
}

static void
test_seeded_determinism(void)
{
	float         l[NV] = {1.0f, 1.2f, 0.8f, 1.1f, 0.9f, 1.0f, 0.5f, 1.3f};
	pllm_sampler *a = make_sampler(plain(1.0f, 1234));
	pllm_sampler *b = make_sampler(plain(1.0f, 1234));
	pllm_sampler *c = make_sampler(plain(1.0f, 999));
	int           i, same_ab = 1, same_ac = 1;
	int32_t       first[64];

	if (!a || !b || !c)
		return;
	for (i = 0; i < 64; i++)
	{
		int32_t x = pllm_sampler_sample(a, l), y = pllm_sampler_sample(b, l), z = pllm_sampler_sample(c, l);

		first[i] = x;
		same_ab &= x == y;
		same_ac &= x == z;
	}
	CHECK(same_ab, "same seed gave different tokens");
	CHECK(!same_ac, "different seeds gave 64 identical tokens");
	/* reset replays the sequence */
	pllm_sampler_reset(a, 1234);
	for (i = 0; i < 64; i++)
		same_ab &= pllm_sampler_sample(a, l) == first[i];
	CHECK(same_ab, "reset(seed) does not replay");
	pllm_sampler_free(a);
	pllm_sampler_free(b);
	pllm_sampler_free(c);
}

static void
test_temperature(void)
{
	float         l[NV] = {2.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
	int           cold[NV], hot[NV];
	pllm_sampler *s;
	double        p0;

	s = make_sampler(plain(0.25f, 7));
	if (!s)
		return;
	histogram(s, l, 20000, cold);
	pllm_sampler_free(s);
	s = make_sampler(plain(4.0f, 7));
	if (!s)
		return;
	histogram(s, l, 20000, hot);
	pllm_sampler_free(s);
	/* T=0.25: p0 = e^8 / (e^8 + e^4 + 6) = 0.9817 */
	p0 = cold[0] / 20000.0;
	CHECK_NEAR(p0, 0.9817, 0.006);
	/* T=4: p0 = e^0.5 / (e^0.5 + e^0.25 + 6) = 0.1766 */
	CHECK_NEAR(hot[0] / 20000.0, 0.1766, 0.012);
	CHECK(hot[7] > 1000, "hot sampling never reaches the tail (%d)", hot[7]);
}

static void
test_top_k(void)
{
	float               l[NV] = {0.0f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.05f, 0.45f};
	pllm_sampler_params p = plain(1.0f, 3);
	pllm_sampler       *s;
	int                 h[NV];

	p.top_k = 2;
	s = make_sampler(p);
	if (!s)
		return;
	histogram(s, l, 5000, h);
	/* only ids 1 (0.5) and 7 (0.45) survive */
	CHECK(h[1] + h[7] == 5000, "top-k=2 drew other ids: %d %d", h[1], h[7]);
	CHECK(h[1] > 2000 && h[7] > 2000, "both survivors should be drawn often: %d %d", h[1], h[7]);
	pllm_sampler_free(s);
}

static void
test_top_p(void)
{
	/* probabilities 0.5, 0.3, 0.1, 0.05, ... (logits are their logs) */
	float               l[NV];
	double              probs[NV] = {0.5, 0.3, 0.1, 0.05, 0.02, 0.01, 0.01, 0.01};
	pllm_sampler_params p = plain(1.0f, 11);
	pllm_sampler       *s;
	int                 h[NV], i;

	for (i = 0; i < NV; i++)
		l[i] = (float) log(probs[i]);
	p.top_p = 0.75f;    /* 0.5 < 0.75 <= 0.8: keeps ids 0 and 1 */
	s = make_sampler(p);
	if (!s)
		return;
	histogram(s, l, 8000, h);
	CHECK(h[0] + h[1] == 8000, "top-p 0.75 drew id 2+: %d %d %d", h[0], h[1], h[2]);
	/* renormalised: 0.5/0.8 = 0.625 */
	CHECK_NEAR(h[0] / 8000.0, 0.625, 0.02);
	pllm_sampler_free(s);
	p.top_p = 0.85f;    /* keeps 0, 1, 2 */
	s = make_sampler(p);
	if (!s)
		return;
	histogram(s, l, 8000, h);
	CHECK(h[0] + h[1] + h[2] == 8000 && h[2] > 0, "top-p 0.85: %d %d %d %d", h[0], h[1], h[2], h[3]);
	pllm_sampler_free(s);
}

static void
test_min_p(void)
{
	float               l[NV];
	double              probs[NV] = {0.4, 0.3, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03};
	pllm_sampler_params p = plain(1.0f, 5);
	pllm_sampler       *s;
	int                 h[NV], i;

	for (i = 0; i < NV; i++)
		l[i] = (float) log(probs[i]);
	p.min_p = 0.2f;     /* keep p >= 0.08: ids 0, 1, 2 */
	s = make_sampler(p);
	if (!s)
		return;
	histogram(s, l, 8000, h);
	CHECK(h[0] + h[1] + h[2] == 8000, "min-p 0.2 drew a small id: %d %d %d %d", h[0], h[1], h[2], h[3]);
	CHECK(h[2] > 600, "id 2 (p=0.125 after renorm) drawn %d times", h[2]);
	pllm_sampler_free(s);
}

static void
test_repeat_penalty(void)
{
	float               l[NV] = {4.0f, 3.0f, -1.0f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f};
	pllm_sampler_params p = plain(0.0f, 1);
	pllm_sampler       *s;

	p.repeat_penalty = 2.0f;
	p.repeat_last_n = 2;
	s = make_sampler(p);
	if (!s)
		return;
	CHECK(pllm_sampler_sample(s, l) == 0, "no history: greedy picks 0");
	pllm_sampler_accept(s, 0);   /* 4.0 -> 2.0 (positive: divided) */
	pllm_sampler_accept(s, 0);   /* counted once */
	CHECK(pllm_sampler_sample(s, l) == 1, "penalised 0 (2.0) must lose to 1 (3.0)");
	pllm_sampler_accept(s, 1);   /* history now {0, 1}: 2.0 vs 1.5 */
	CHECK(pllm_sampler_sample(s, l) == 0, "0 (2.0) beats penalised 1 (1.5)");
	pllm_sampler_accept(s, 1);   /* window of 2 = {1, 1}: 0 is free again: 4.0 */
	CHECK(pllm_sampler_sample(s, l) == 0, "token 0 left the window");
	pllm_sampler_free(s);

	/* negative logits are multiplied: -0.5 * 2 = -1.0 ties id 2 (-1.0): lowest id wins */
	{
		float neg[NV] = {-3.0f, -3.0f, -1.0f, -0.5f, -2.0f, -2.0f, -2.0f, -2.0f};

		p.repeat_last_n = 64;
		s = make_sampler(p);
		if (!s)
			return;
		pllm_sampler_accept(s, 3);
		CHECK(pllm_sampler_sample(s, neg) == 2, "-0.5 penalised to -1.0 must tie with id 2 and lose");
		pllm_sampler_free(s);
	}
}

static void
test_bad_params(void)
{
	pllm_sampler_params p = plain(1.0f, 1);
	pllm_sampler       *s = NULL;
	pllm_error          err;

	p.repeat_penalty = 0.0f;
	CHECK(pllm_sampler_create(&p, NV, &s, &err) == PLLM_ERR_INVALID_ARG && !s, "penalty 0 accepted");
	p.repeat_penalty = 1.0f;
	CHECK(pllm_sampler_create(&p, 0, &s, &err) == PLLM_ERR_INVALID_ARG && !s, "empty vocab accepted");
}

/* ---- streaming ------------------------------------------------------------ */

typedef struct collect
{
	char   text[512];
	size_t len;
	int    calls;
	bool   all_valid;
	int    stop_after;   /* return false after this many calls (0 = never) */
} collect;

static bool
collect_piece(const char *t, size_t n, void *user)
{
	collect *c = user;

	c->calls++;
	if (!pllm_utf8_valid(t, n))
		c->all_valid = false;
	if (c->len + n < sizeof(c->text))
	{
		memcpy(c->text + c->len, t, n);
		c->len += n;
		c->text[c->len] = '\0';
	}
	return c->stop_after == 0 || c->calls < c->stop_after;
}

static void
test_stream_utf8(void)
{
	/* "é" = C3 A9, "😀" = F0 9F 98 80, split over pieces */
	const char *pieces[] = {"a", "\xC3", "\xA9" "b", "\xF0\x9F", "\x98", "\x80", "!"};
	pllm_stream st;
	collect     c = {.all_valid = true};
	pllm_error  err;
	bool        hit;
	size_t      i, len;
	char       *text;

	pllm_stream_init(&st, NULL, 0, collect_piece, &c);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
	{
		size_t before = c.len;

		CHECK(pllm_stream_push(&st, pieces[i], strlen(pieces[i]), &hit, &err) == PLLM_OK && !hit, "push");
		if (i == 1 || i == 3 || i == 4)
			CHECK(c.len == before, "piece %zu: half a character was emitted", i);
	}
	CHECK(pllm_stream_finish(&st, &err) == PLLM_OK, "finish");
	CHECK(c.all_valid, "a callback piece was not valid UTF-8");
	CHECK(strcmp(c.text, "a\xC3\xA9" "b\xF0\x9F\x98\x80!") == 0, "text '%s'", c.text);
	text = pllm_stream_take_text(&st, &len);
	CHECK(text && len == c.len && memcmp(text, c.text, len) == 0, "collected text differs");
	free(text);
	pllm_stream_free(&st);

	/* a cut character at the end and a stray continuation byte become U+FFFD */
	memset(&c, 0, sizeof(c));
	c.all_valid = true;
	pllm_stream_init(&st, NULL, 0, collect_piece, &c);
	pllm_stream_push(&st, "x\x80y\xE2\x82", 5, &hit, &err);
	CHECK(strcmp(c.text, "x\xEF\xBF\xBDy") == 0, "stray byte: '%s'", c.text);
	pllm_stream_finish(&st, &err);
	CHECK(c.all_valid && strcmp(c.text, "x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBD") == 0, "tail: '%s'", c.text);
	pllm_stream_free(&st);
}

static void
test_stream_stop(void)
{
	const char *stops[] = {"STOP", "\n\n"};
	const char *pieces[] = {"Hello", " S", "T", "ART ", "ST", "O", "P and more"};
	pllm_stream st;
	collect     c = {.all_valid = true};
	pllm_error  err;
	bool        hit = false;
	size_t      i;

	pllm_stream_init(&st, stops, 2, collect_piece, &c);
	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]) && !hit; i++)
	{
		CHECK(pllm_stream_push(&st, pieces[i], strlen(pieces[i]), &hit, &err) == PLLM_OK, "push");
		CHECK(!strstr(c.text, "ST") || strstr(c.text, "START"), "a possible stop prefix was emitted: '%s'", c.text);
	}
	CHECK(hit && i == 7, "stop string not detected (i=%zu)", i);
	CHECK(strcmp(c.text, "Hello START ") == 0, "text before stop: '%s'", c.text);
	pllm_stream_free(&st);

	/* stop string inside one piece, and a second stop string that comes earlier */
	memset(&c, 0, sizeof(c));
	pllm_stream_init(&st, stops, 2, collect_piece, &c);
	pllm_stream_push(&st, "ab\n\ncdSTOP", 10, &hit, &err);
	CHECK(hit && strcmp(c.text, "ab") == 0, "earliest stop: '%s'", c.text);
	pllm_stream_free(&st);

	/* held-back prefix that turns out not to be a stop string is emitted at the end */
	memset(&c, 0, sizeof(c));
	pllm_stream_init(&st, stops, 2, collect_piece, &c);
	pllm_stream_push(&st, "end\n", 4, &hit, &err);
	CHECK(!hit && strcmp(c.text, "end") == 0, "'\\n' must be held back: '%s'", c.text);
	pllm_stream_finish(&st, &err);
	CHECK(strcmp(c.text, "end\n") == 0, "flush: '%s'", c.text);
	pllm_stream_free(&st);

	/* the callback can stop the stream */
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	pllm_stream_init(&st, NULL, 0, collect_piece, &c);
	pllm_stream_push(&st, "one", 3, &hit, &err);
	CHECK(st.stopped, "callback returned false but the stream did not record it");
	pllm_stream_free(&st);
}

static void
test_utf8_helpers(void)
{
	CHECK(pllm_utf8_incomplete_tail("ab\xE2\x82", 4) == 2, "E2 82 is an unfinished 3-byte char");
	CHECK(pllm_utf8_incomplete_tail("ab\xE2\x82\xAC", 5) == 0, "euro sign is complete");
	CHECK(pllm_utf8_incomplete_tail("\xF0\x9F\x98", 3) == 3, "3 of 4 bytes");
	CHECK(pllm_utf8_incomplete_tail("a\x80", 2) == 0, "a stray continuation is not 'incomplete'");
	CHECK(!pllm_utf8_valid("\xC0\xAF", 2), "overlong accepted");
	CHECK(!pllm_utf8_valid("\xED\xA0\x80", 3), "surrogate accepted");
	CHECK(pllm_utf8_valid("\xF4\x8F\xBF\xBF", 4) && !pllm_utf8_valid("\xF4\x90\x80\x80", 4), "U+10FFFF bound");
}

int
main(void)
{
	RUN(test_rng_fixed);
	RUN(test_greedy);
	RUN(test_seeded_determinism);
	RUN(test_temperature);
	RUN(test_top_k);
	RUN(test_top_p);
	RUN(test_min_p);
	RUN(test_repeat_penalty);
	RUN(test_bad_params);
	RUN(test_utf8_helpers);
	RUN(test_stream_utf8);
	RUN(test_stream_stop);
	return UNIT_DONE();
}
