/*
 * sampler.c -- next-token selection with llama.cpp's semantics and order:
 * repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw.
 * Greedy (temperature <= 0) is the argmax after the penalty, lowest id on ties.
 * The RNG is xoshiro256** seeded by splitmix64, so a seed gives the same tokens
 * on every machine. Candidate buffers are allocated once, at creation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pg_llm/sampler.h"

typedef struct smp_cand
{
	int32_t id;
	float   logit;
	double  p;
} smp_cand;

struct pllm_sampler
{
	pllm_sampler_params params;
	uint32_t            n_vocab;
	smp_cand           *cand;       /* n_vocab */
	int32_t            *history;    /* ring of the last repeat_last_n (or n_vocab-capped) tokens */
	uint32_t            hist_cap;
	uint32_t            hist_len;
	uint32_t            hist_head;
	uint8_t            *seen;       /* n_vocab flags, for counting each token once */
	pllm_rng            rng;
};

/* ---- RNG ------------------------------------------------------------------ */

static uint64_t
rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
pllm_rng_seed(pllm_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	int      i;

	for (i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(&x);
}

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
pllm_rng_next(pllm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t  result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t  t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

double
pllm_rng_uniform(pllm_rng *r)
{
	return (double) (pllm_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- sampler -------------------------------------------------------------- */

pllm_sampler_params
pllm_sampler_params_default(void)
{
	pllm_sampler_params p;

	memset(&p, 0, sizeof(p));
	p.temperature = 0.8f;
	p.top_k = 40;
	p.top_p = 0.95f;
	p.min_p = 0.05f;
	p.repeat_penalty = 1.0f;
	p.repeat_last_n = 64;
	p.seed = 0;
	return p;
}

pllm_status
pllm_sampler_create(const pllm_sampler_params *p, uint32_t n_vocab, pllm_sampler **out,
					pllm_error *err)
{
	pllm_sampler *s;

	*out = NULL;
	if (!p || n_vocab == 0)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "sampler needs parameters and a vocabulary");
	if (!(p->temperature == p->temperature) || !(p->top_p == p->top_p) || !(p->min_p == p->min_p) ||
		!(p->repeat_penalty > 0.0f))
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "invalid sampling parameters (NaN or repeat_penalty <= 0)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a sampler");
	s->params = *p;
	s->n_vocab = n_vocab;
	s->hist_cap = p->repeat_last_n < 0 ? 65536u : (uint32_t) p->repeat_last_n;
	s->cand = malloc(sizeof(smp_cand) * n_vocab);
	s->seen = calloc(n_vocab, 1);
	s->history = malloc(sizeof(int32_t) * (s->hist_cap ? s->hist_cap : 1));
	if (!s->cand || !s->seen || !s->history)
	{
		pllm_sampler_free(s);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory for a sampler");
	}
	pllm_rng_seed(&s->rng, p->seed);
	*out = s;
	return PLLM_OK;
}

void
pllm_sampler_free(pllm_sampler *s)
{
	if (!s)
		return;
	free(s->cand);
	free(s->seen);
	free(s->history);
	free(s);
}

void
pllm_sampler_reset(pllm_sampler *s, uint64_t seed)
{
	s->params.seed = seed;
	pllm_rng_seed(&s->rng, seed);
	s->hist_len = 0;
	s->hist_head = 0;
}

void
pllm_sampler_accept(pllm_sampler *s, int32_t id)
{
	if (s->hist_cap == 0)
		return;
	s->history[s->hist_head] = id;
	s->hist_head = (s->hist_head + 1) % s->hist_cap;
	if (s->hist_len < s->hist_cap)
		s->hist_len++;
}

/* Descending logit, then ascending id: a total order, so ties are deterministic. */
static int
smp_cmp(const void *a, const void *b)
{
	const smp_cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static inline bool
smp_before(const smp_cand *x, const smp_cand *y)
{
	return smp_cmp(x, y) < 0;
}

/* Penalise each distinct token of the history once (llama.cpp's repeat rule). */
static void
smp_penalty(pllm_sampler *s)
{
	float    pen = s->params.repeat_penalty;
	uint32_t i;

	if (pen == 1.0f || s->hist_len == 0)
		return;
	for (i = 0; i < s->hist_len; i++)
	{
		int32_t id = s->history[i];
		float  *l;

		if (id < 0 || (uint32_t) id >= s->n_vocab || s->seen[id])
			continue;
		s->seen[id] = 1;
		l = &s->cand[id].logit;
		*l = *l <= 0.0f ? *l * pen : *l / pen;
	}
	for (i = 0; i < s->hist_len; i++)
	{
		int32_t id = s->history[i];

		if (id >= 0 && (uint32_t) id < s->n_vocab)
			s->seen[id] = 0;
	}
}

/* Sift-down for a min-heap (root = the candidate that sorts last). */
static void
smp_heap_down(smp_cand *h, uint32_t n, uint32_t i)
{
	for (;;)
	{
		uint32_t l = 2 * i + 1, r = l + 1, worst = i;
		smp_cand t;

		if (l < n && smp_before(&h[worst], &h[l]))
			worst = l;
		if (r < n && smp_before(&h[worst], &h[r]))
			worst = r;
		if (worst == i)
			return;
		t = h[i];
		h[i] = h[worst];
		h[worst] = t;
		i = worst;
	}
}

/* Move the k best candidates to the front (sorted); returns k. */
static uint32_t
smp_top_k(smp_cand *c, uint32_t n, uint32_t k)
{
	uint32_t i;

	if (k < n)
	{
		for (i = k / 2; i-- > 0;)
			smp_heap_down(c, k, i);
		for (i = k; i < n; i++)
			if (smp_before(&c[i], &c[0]))
			{
				c[0] = c[i];
				smp_heap_down(c, k, 0);
			}
		n = k;
	}
	qsort(c, n, sizeof(smp_cand), smp_cmp);
	return n;
}

/* Softmax of c[0..n) (sorted, c[0] largest) at temperature 1 into c[].p. */
static void
smp_softmax(smp_cand *c, uint32_t n)
{
	double   sum = 0.0;
	uint32_t i;

	for (i = 0; i < n; i++)
	{
		c[i].p = exp((double) c[i].logit - (double) c[0].logit);
		sum += c[i].p;
	}
	for (i = 0; i < n; i++)
		c[i].p /= sum;
}

int32_t
pllm_sampler_sample(pllm_sampler *s, const float *logits)
{
	const pllm_sampler_params *p = &s->params;
	smp_cand                  *c = s->cand;
	uint32_t                   n = s->n_vocab, i;
	double                     r, cum;

	for (i = 0; i < n; i++)
	{
		c[i].id = (int32_t) i;
		c[i].logit = logits[i];
	}
	smp_penalty(s);

	if (p->temperature <= 0.0f)
	{
		uint32_t best = 0;

		for (i = 1; i < n; i++)
			if (c[i].logit > c[best].logit)
				best = i;
		return c[best].id;
	}

	n = smp_top_k(c, n, p->top_k > 0 ? (uint32_t) p->top_k : n);

	if (p->top_p < 1.0f)
	{
		smp_softmax(c, n);
		cum = 0.0;
		for (i = 0; i < n; i++)
		{
			cum += c[i].p;
			if (cum >= (double) p->top_p)
			{
				n = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0.0f && n > 1)
	{
		/* keep p_i >= min_p * p_max, i.e. logit_i >= logit_max + log(min_p) */
		float floor = c[0].logit + logf(p->min_p);

		for (i = 1; i < n; i++)
			if (c[i].logit < floor)
			{
				n = i;
				break;
			}
	}
	for (i = 0; i < n; i++)
		c[i].logit /= p->temperature;
	smp_softmax(c, n);

	r = pllm_rng_uniform(&s->rng);
	cum = 0.0;
	for (i = 0; i < n; i++)
	{
		cum += c[i].p;
		if (r < cum)
			return c[i].id;
	}
	return c[n - 1].id;
}
