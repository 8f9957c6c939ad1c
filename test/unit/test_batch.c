/*
 * test_batch.c -- batched generation and the prefix cache against the
 * one-at-a-time path: the multi-sequence forward's logits are bit-identical to
 * a session's; pllm_batch_generate() gives every prompt exactly the text, token
 * counts and stop reason pllm_generate() gives it alone (greedy and seeded,
 * prompts of different lengths, sequences leaving at different steps through
 * stop strings, EOG, max_tokens and a full context, slots reused, prompts split
 * over passes); a prefix cache hit gives what a miss gives, stays within its
 * byte bound and evicts; cancellation and argument errors.
 * Comparisons are exact (text, ids, logits bits): kern_matmul and
 * kern_matmul_mt give every (row, token) result independently of how many
 * tokens share the product, so a sequence's numbers never depend on its company.
 */
#include <stdint.h>

#include "arch.h"
#include "kvcache.h"
#include "pg_llm/batch.h"
#include "pg_llm/model.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"
#include "pg_llm/tokenizer.h"
#include "unit.h"

/* a small pass size, so prompts are cut over several passes mixed with decoding */
#define SMALL_PASS 7

static pllm_model *stories, *tllama, *tqwen;

static const char *const story_prompts[] = {
	"Once upon a time",
	"Lily and Ben",
	"The cat",
	"One day, a little boy named Tim went to the park with his mom. He saw",
	"She was",
	"A big red ball",
	"Tom",
	"There was a bird who liked to sing",
};
#define N_STORY ((int) (sizeof(story_prompts) / sizeof(story_prompts[0])))

static pllm_gen_params
greedy(int max_tokens)
{
	pllm_gen_params gp = pllm_gen_params_default();

	gp.max_tokens = max_tokens;
	gp.sampling.temperature = 0.0f;
	return gp;
}

/*
 * Run prompts[0..n) through pllm_batch_generate with (gp, bo) and one by one
 * through pllm_generate on a session with the same context; every result must
 * match. Returns how many sequences stopped for each reason (stops may be NULL).
 */
static void
check_batch_equals_sequential(pllm_model *m, const char *const *prompts, int n, const pllm_gen_params *gp,
							  const uint64_t *seeds, const pllm_batch_opts *bo, uint32_t session_batch,
							  int *stops, const char *label)
{
	pllm_gen_result  *br = calloc((size_t) n, sizeof(pllm_gen_result));
	pllm_session_opts so = pllm_session_opts_default();
	pllm_session     *s = NULL;
	pllm_batch_stats  bs;
	pllm_error        err;
	int               i, same = 0;

	CHECK(pllm_batch_generate(m, prompts, NULL, n, gp, seeds, bo, br, &bs, &err) == PLLM_OK,
		  "%s: batch: %s", label, err.msg);
	so.n_ctx = bo->n_ctx;
	so.n_batch = session_batch;
	so.kv_type = bo->kv_type;
	CHECK(pllm_session_create(m, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	for (i = 0; s && i < n; i++)
	{
		pllm_gen_params one = *gp;
		pllm_gen_result r;

		if (seeds)
			one.sampling.seed = seeds[i];
		CHECK(pllm_generate(s, prompts[i], strlen(prompts[i]), &one, NULL, NULL, &r, &err) == PLLM_OK,
			  "%s: generate %d: %s", label, i, err.msg);
		if (r.text && br[i].text && strcmp(r.text, br[i].text) == 0 && r.n_gen == br[i].n_gen &&
			r.n_prompt == br[i].n_prompt && r.stop == br[i].stop)
			same++;
		else
			CHECK(0, "%s: prompt %d differs:\n  alone (%d tokens, stop %d): '%s'\n  batch (%d tokens, stop %d): '%s'",
				  label, i, r.n_gen, r.stop, r.text ? r.text : "(null)", br[i].n_gen, br[i].stop,
				  br[i].text ? br[i].text : "(null)");
		if (stops && br[i].stop >= 0 && br[i].stop <= PLLM_STOP_CALLBACK)
			stops[br[i].stop]++;
		pllm_gen_result_free(&r);
	}
	printf("# %s: %d/%d equal; %lld passes, %lld prompt + %lld sampled tokens\n", label, same, n,
		   (long long) bs.n_forward, (long long) bs.n_prompt_tokens, (long long) bs.n_gen_tokens);
	for (i = 0; i < n; i++)
		pllm_gen_result_free(&br[i]);
	free(br);
	pllm_session_free(s);
}

/* ---- the multi-sequence forward ------------------------------------------- */

/*
 * Three sequences through sessions, and through pllm_decoder_forward_tokens
 * packed into one prefill pass and one decode pass: identical logits bits.
 */
static void
check_forward_bits(pllm_model *m, const char *label)
{
	static const int32_t p0[] = {1, 17, 33, 90, 4}, p1[] = {1, 200, 7}, p2[] = {1, 5, 6, 7, 8, 9, 300};
	const int32_t       *ps[3] = {p0, p1, p2};
	int                  ns[3] = {5, 3, 7};
	int32_t              nxt[3] = {42, 43, 44};
	uint32_t             nv = m->hp.n_vocab, n_ctx = 32, n_batch = 16;
	float               *ref = malloc(sizeof(float) * nv * 6);
	float               *logits = malloc(sizeof(float) * nv * 3);
	void                *work = aligned_alloc(64, (m->arch->work_bytes(m, n_ctx, n_batch) + 63) & ~(size_t) 63);
	pllm_kvcache         kv[3];
	pllm_kvcache        *kvs[16];
	int32_t              ids[16], rows[3];
	uint32_t             pos[16];
	pllm_session_opts    so = pllm_session_opts_default();
	pllm_fwd_ctx         c;
	pllm_fwd_tokens      tk;
	pllm_error           err;
	int                  i, j, nt = 0;

	so.n_ctx = n_ctx;
	so.n_batch = n_batch;
	for (i = 0; i < 3; i++)
	{
		pllm_session *s = NULL;

		CHECK(pllm_session_create(m, &so, &s, &err) == PLLM_OK, "%s", err.msg);
		if (!s)
			return;
		pllm_session_eval(s, ps[i], ns[i], false, &err);
		memcpy(ref + (size_t) i * nv, pllm_session_logits(s, 0), sizeof(float) * nv);
		pllm_session_eval(s, &nxt[i], 1, false, &err);
		memcpy(ref + (size_t) (3 + i) * nv, pllm_session_logits(s, 0), sizeof(float) * nv);
		pllm_session_free(s);
		CHECK(pllm_kv_init(&kv[i], PLLM_KV_F32, m->hp.n_layer, n_ctx, m->hp.n_head_kv * m->hp.head_dim, &err) ==
			  PLLM_OK, "%s", err.msg);
	}
	memset(&c, 0, sizeof(c));
	c.model = m;
	c.work = work;
	c.n_ctx = n_ctx;
	c.n_batch = n_batch;
	c.logits = logits;
	/* prefill: the three prompts in one pass, logits at each prompt's end */
	for (i = 0; i < 3; i++)
	{
		for (j = 0; j < ns[i]; j++, nt++)
		{
			ids[nt] = ps[i][j];
			pos[nt] = (uint32_t) j;
			kvs[nt] = &kv[i];
		}
		rows[i] = nt - 1;
	}
	tk = (pllm_fwd_tokens) {nt, ids, NULL, 0, kvs, pos};
	CHECK(pllm_decoder_forward_tokens(&c, &tk, rows, 3, &err) == PLLM_OK, "%s", err.msg);
	CHECK(memcmp(logits, ref, sizeof(float) * nv * 3) == 0, "%s: packed prefill logits differ", label);
	/* decode: one token of each, in reverse order */
	for (i = 0; i < 3; i++)
	{
		ids[i] = nxt[2 - i];
		pos[i] = (uint32_t) ns[2 - i];
		kvs[i] = &kv[2 - i];
		rows[i] = i;
	}
	tk = (pllm_fwd_tokens) {3, ids, NULL, 0, kvs, pos};
	CHECK(pllm_decoder_forward_tokens(&c, &tk, rows, 3, &err) == PLLM_OK, "%s", err.msg);
	for (i = 0; i < 3; i++)
		CHECK(memcmp(logits + (size_t) i * nv, ref + (size_t) (3 + 2 - i) * nv, sizeof(float) * nv) == 0,
			  "%s: decode logits of sequence %d differ", label, 2 - i);
	for (i = 0; i < 3; i++)
		pllm_kv_free(&kv[i]);
	free(work);
	free(ref);
	free(logits);
}

static void
test_forward_tokens_bits(void)
{
	if (tqwen)
		check_forward_bits(tqwen, "tiny-qwen2-q8_0");
	if (tllama)
		check_forward_bits(tllama, "tiny-llama-q4_k");
	if (stories)
		check_forward_bits(stories, "stories260K");
}

/* ---- batch == one at a time ------------------------------------------------ */

static void
test_batch_greedy_stories(void)
{
	pllm_gen_params gp = greedy(24);
	pllm_batch_opts bo = pllm_batch_opts_default();
	int             stops[8] = {0};

	if (!stories)
		return;
	bo.n_ctx = 128;
	bo.n_seq = 4;
	bo.n_batch = SMALL_PASS;
	/* 8 prompts through 4 slots, long prompts cut over several passes */
	check_batch_equals_sequential(stories, story_prompts, N_STORY, &gp, NULL, &bo, SMALL_PASS, stops,
								  "stories greedy 24");
	CHECK(stops[PLLM_STOP_MAX_TOKENS] == N_STORY, "max_tokens stops: %d", stops[PLLM_STOP_MAX_TOKENS]);

	/* stop strings end sequences at different steps; max_tokens differs from above */
	memset(stops, 0, sizeof(stops));
	gp = greedy(40);
	gp.stop[0] = ".";
	gp.stop[1] = "Lily";
	check_batch_equals_sequential(stories, story_prompts, N_STORY, &gp, NULL, &bo, SMALL_PASS, stops,
								  "stories stop strings");
	CHECK(stops[PLLM_STOP_STRING] >= 3, "only %d sequences met a stop string", stops[PLLM_STOP_STRING]);

	/* generation until EOG or a full 48-token context */
	memset(stops, 0, sizeof(stops));
	gp = greedy(0);
	bo.n_ctx = 48;
	bo.n_seq = 3;
	check_batch_equals_sequential(stories, story_prompts, N_STORY, &gp, NULL, &bo, SMALL_PASS, stops,
								  "stories until context");
	CHECK(stops[PLLM_STOP_CONTEXT] >= 1, "no sequence filled its context");
}

static void
test_batch_greedy_tiny(void)
{
	static const char *const prompts[] = {
		"hello world", "the quick brown fox", "a", "jumps over the lazy dog again and again", "x y z",
		"one two three four five six", "zz", "tiny models say odd things",
	};
	pllm_gen_params gp = greedy(20);
	pllm_batch_opts bo = pllm_batch_opts_default();
	int             stops[8] = {0}, i;

	/* quantized weights: every pass size takes bit-identical kernels */
	bo.n_ctx = 64;
	bo.n_seq = 8;
	if (tqwen)
		check_batch_equals_sequential(tqwen, prompts, 8, &gp, NULL, &bo, 0, stops, "tiny-qwen2 q8_0 greedy");
	bo.n_seq = 3;
	bo.n_batch = 5;
	if (tllama)
		check_batch_equals_sequential(tllama, prompts, 8, &gp, NULL, &bo, 0, stops, "tiny-llama q4_k greedy");
	/* until EOG or context: the random models rarely emit EOG, the context ends them */
	gp = greedy(0);
	bo.n_seq = 8;
	bo.n_batch = 0;
	bo.n_ctx = 40;
	if (tqwen)
		check_batch_equals_sequential(tqwen, prompts, 8, &gp, NULL, &bo, 0, stops, "tiny-qwen2 until context");
	for (i = 0; i < 8; i++)
		if (stops[i])
			printf("#   stop reason %d: %d sequences\n", i, stops[i]);
}

/*
 * EOG: stories260K never emits its EOS, so open a copy whose
 * tokenizer.ggml.eos_token_id names "." instead: sequences then end with EOG
 * at their first full stop, each at its own step.
 */
static void
test_batch_eog(void)
{
	static const char key[] = "tokenizer.ggml.eos_token_id";
	size_t          len = 0, i;
	char           *buf = unit_read_file(unit_data("models/stories260K.gguf"), &len);
	pllm_model     *m = NULL;
	pllm_gen_params gp = greedy(0);
	pllm_batch_opts bo = pllm_batch_opts_default();
	pllm_error      err;
	int             stops[8] = {0};
	int32_t         dot;
	bool            patched = false;

	if (!buf || !stories)
	{
		free(buf);
		return;
	}
	dot = pllm_tok_find(pllm_model_tokenizer(stories), ".", 1);
	CHECK(dot > 2, "no '.' token");
	/* key bytes, then the value type (u32 = 4) and the u32 value */
	for (i = 0; dot > 2 && i + sizeof(key) - 1 + 8 <= len; i++)
		if (memcmp(buf + i, key, sizeof(key) - 1) == 0)
		{
			uint32_t type, v = (uint32_t) dot;

			memcpy(&type, buf + i + sizeof(key) - 1, 4);
			CHECK(type == 4, "eos_token_id has type %u", type);
			memcpy(buf + i + sizeof(key) - 1 + 4, &v, 4);
			patched = type == 4;
			break;
		}
	CHECK(patched, "eos_token_id not found");
	if (patched && pllm_model_open_buffer(buf, len, NULL, &m, &err) == PLLM_OK)
	{
		bo.n_ctx = 96;
		bo.n_seq = 3;
		bo.n_batch = SMALL_PASS;
		check_batch_equals_sequential(m, story_prompts, N_STORY, &gp, NULL, &bo, SMALL_PASS, stops,
									  "stories until EOG ('.')");
		CHECK(stops[PLLM_STOP_EOG] >= 4, "only %d sequences ended with EOG (context %d)",
			  stops[PLLM_STOP_EOG], stops[PLLM_STOP_CONTEXT]);
		pllm_model_close(m);
	}
	free(buf);
}

static void
test_batch_seeded(void)
{
	static const uint64_t seeds[N_STORY] = {1, 2, 3, 42, 42, 7, 99, 12345};
	pllm_gen_params       gp = pllm_gen_params_default();
	pllm_batch_opts       bo = pllm_batch_opts_default();

	if (!stories)
		return;
	gp.max_tokens = 20;
	gp.sampling.temperature = 0.9f;
	gp.sampling.seed = 5;
	gp.sampling.repeat_penalty = 1.1f;
	bo.n_ctx = 96;
	bo.n_seq = 5;
	bo.n_batch = SMALL_PASS;
	check_batch_equals_sequential(stories, story_prompts, N_STORY, &gp, NULL, &bo, SMALL_PASS, NULL,
								  "stories seeded (one seed)");
	check_batch_equals_sequential(stories, story_prompts, N_STORY, &gp, seeds, &bo, SMALL_PASS, NULL,
								  "stories seeded (per-sequence seeds)");
}

/* ---- prefix cache ------------------------------------------------------------ */

/* Prompts sharing a long beginning, each with its own end. */
static char **
shared_prompts(int n)
{
	static const char *const ends[] = {"Tom", "a dog", "the sun", "Lily", "a red ball", "Ben and Sue",
									   "the park", "a big tree", "mom", "a cat"};
	char **p = malloc(sizeof(char *) * (size_t) n);
	int    i;

	for (i = 0; i < n; i++)
	{
		p[i] = malloc(256);
		snprintf(p[i], 256, "Once upon a time, there was a little girl named Lily. She loved to play "
				 "outside in the sun with her friends. One day she saw %s", ends[i % 10]);
	}
	return p;
}

static void
test_prefix_cache_session(void)
{
	pllm_gen_params         gp = greedy(16);
	pllm_session           *plain = NULL, *cached = NULL;
	pllm_prefix_cache      *pc = NULL;
	pllm_prefix_cache_stats st;
	pllm_session_opts       so = pllm_session_opts_default();
	pllm_error              err;
	char                  **prompts = shared_prompts(10);
	int                     i, same = 0;

	if (!stories)
		return;
	so.n_ctx = 128;
	so.n_batch = SMALL_PASS;
	CHECK(pllm_prefix_cache_create(stories, PLLM_KV_F32, 4 << 20, &pc, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_session_create(stories, &so, &plain, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_session_create(stories, &so, &cached, &err) == PLLM_OK, "%s", err.msg);
	if (!pc || !plain || !cached)
		goto done;
	CHECK(pllm_session_set_prefix_cache(cached, pc, &err) == PLLM_OK, "%s", err.msg);
	for (i = 0; i < 10; i++)
	{
		pllm_gen_result a, b;

		pllm_generate(plain, prompts[i], strlen(prompts[i]), &gp, NULL, NULL, &a, &err);
		pllm_generate(cached, prompts[i], strlen(prompts[i]), &gp, NULL, NULL, &b, &err);
		if (a.text && b.text && strcmp(a.text, b.text) == 0 && a.n_gen == b.n_gen)
			same++;
		else
			CHECK(0, "prompt %d: miss '%s' vs hit '%s'", i, a.text, b.text);
		pllm_gen_result_free(&a);
		pllm_gen_result_free(&b);
	}
	CHECK(same == 10, "%d/10 equal", same);
	pllm_prefix_cache_get_stats(pc, &st);
	printf("# session prefix cache: %llu lookups, %llu hits, %llu positions reused, %llu stored, %u nodes, %zu bytes\n",
		   (unsigned long long) st.lookups, (unsigned long long) st.hits, (unsigned long long) st.tokens_reused,
		   (unsigned long long) st.tokens_stored, st.n_nodes, st.bytes);
	CHECK(st.lookups == 10 && st.hits >= 9, "lookups %llu hits %llu", (unsigned long long) st.lookups,
		  (unsigned long long) st.hits);
	CHECK(st.tokens_reused >= 9 * 30, "only %llu positions reused", (unsigned long long) st.tokens_reused);
	/* the shared beginning is stored once: far fewer positions than 10 prompts */
	CHECK(st.n_tokens < 10 * 30, "%llu positions held", (unsigned long long) st.n_tokens);
	CHECK(st.bytes <= st.max_bytes, "bytes %zu over %zu", st.bytes, st.max_bytes);

	/* the same prompt twice: everything but the last token comes from the cache */
	{
		int32_t  ids[64];
		size_t   n = 0;
		uint32_t reused = 0;

		pllm_tok_encode(pllm_model_tokenizer(stories), prompts[3], strlen(prompts[3]), true, false, ids, 64, &n, &err);
		CHECK(pllm_session_eval_prompt(cached, ids, (int) n, &reused, &err) == PLLM_OK, "%s", err.msg);
		CHECK(reused == n - 1, "reused %u of %zu", reused, n);
		CHECK(pllm_session_n_past(cached) == n, "n_past %u", pllm_session_n_past(cached));
		pllm_session_eval(plain, NULL, 0, false, &err);
		pllm_session_reset(plain);
		pllm_session_eval(plain, ids, (int) n, false, &err);
		CHECK(memcmp(pllm_session_logits(plain, 0), pllm_session_logits(cached, 0), sizeof(float) * 512) == 0,
			  "logits after a full hit differ");
	}
	/* a cache of another kv type is refused */
	{
		pllm_prefix_cache *f16 = NULL;

		CHECK(pllm_prefix_cache_create(stories, PLLM_KV_F16, 1 << 20, &f16, &err) == PLLM_OK, "%s", err.msg);
		CHECK(pllm_session_set_prefix_cache(plain, f16, &err) == PLLM_ERR_INVALID_ARG, "f16 cache accepted");
		pllm_prefix_cache_free(f16);
	}
done:
	for (i = 0; i < 10; i++)
		free(prompts[i]);
	free(prompts);
	pllm_session_free(plain);
	pllm_session_free(cached);
	pllm_prefix_cache_free(pc);
}

static void
test_prefix_cache_eviction(void)
{
	pllm_prefix_cache      *pc = NULL;
	pllm_prefix_cache_stats st;
	pllm_session           *s = NULL;
	pllm_session_opts       so = pllm_session_opts_default();
	pllm_error              err;
	int32_t                 ids[150];
	size_t                  tb, bound;
	uint32_t                reused;
	int                     i, j;

	if (!stories)
		return;
	so.n_ctx = 64;
	so.n_batch = SMALL_PASS;
	CHECK(pllm_session_create(stories, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_prefix_cache_create(stories, PLLM_KV_F32, 1 << 20, &pc, &err) == PLLM_OK, "%s", err.msg);
	if (!s || !pc)
		goto done;
	tb = pllm_prefix_cache_token_bytes(pc);
	pllm_prefix_cache_free(pc);
	pc = NULL;
	/* room for about 100 positions: five distinct 30-token prompts cannot all stay */
	bound = 100 * tb;
	CHECK(pllm_prefix_cache_create(stories, PLLM_KV_F32, bound, &pc, &err) == PLLM_OK, "%s", err.msg);
	pllm_session_set_prefix_cache(s, pc, &err);
	for (i = 0; i < 5; i++)
	{
		ids[0] = 1;
		for (j = 1; j < 30; j++)
			ids[j] = 3 + (i * 37 + j * 11) % 500;
		CHECK(pllm_session_eval_prompt(s, ids, 30, &reused, &err) == PLLM_OK, "%s", err.msg);
		pllm_prefix_cache_get_stats(pc, &st);
		CHECK(st.bytes <= bound, "after prompt %d: %zu bytes over the bound %zu", i, st.bytes, bound);
	}
	pllm_prefix_cache_get_stats(pc, &st);
	CHECK(st.evictions >= 2, "only %llu evictions", (unsigned long long) st.evictions);
	/* the most recent prompt is still there, the first is gone (only BOS may match) */
	CHECK(pllm_session_eval_prompt(s, ids, 30, &reused, &err) == PLLM_OK && reused == 29, "recent: reused %u", reused);
	ids[0] = 1;
	for (j = 1; j < 30; j++)
		ids[j] = 3 + (j * 11) % 500;
	CHECK(pllm_session_eval_prompt(s, ids, 30, &reused, &err) == PLLM_OK && reused <= 1, "evicted: reused %u", reused);
	/* a prompt larger than the whole cache is kept in part */
	pllm_prefix_cache_clear(pc);
	pllm_session_free(s);
	s = NULL;
	so.n_ctx = 160;
	CHECK(pllm_session_create(stories, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
		goto done;
	pllm_session_set_prefix_cache(s, pc, &err);
	for (j = 1; j < 150; j++)
		ids[j] = 3 + (j * 13) % 500;
	CHECK(pllm_session_eval_prompt(s, ids, 150, &reused, &err) == PLLM_OK, "%s", err.msg);
	pllm_prefix_cache_get_stats(pc, &st);
	CHECK(st.n_tokens > 50 && st.n_tokens < 100 && st.bytes <= bound, "partial store: %llu positions, %zu bytes",
		  (unsigned long long) st.n_tokens, st.bytes);
	CHECK(pllm_session_eval_prompt(s, ids, 150, &reused, &err) == PLLM_OK && reused == st.n_tokens,
		  "partial hit: reused %u", reused);
done:
	pllm_session_free(s);
	pllm_prefix_cache_free(pc);
}

static void
test_prefix_cache_batch(void)
{
	pllm_gen_params    gp = greedy(12);
	pllm_batch_opts    bo = pllm_batch_opts_default();
	pllm_prefix_cache *pc = NULL;
	pllm_gen_result    a[10], b[10];
	pllm_batch_stats   sa, sb;
	pllm_error         err;
	char             **prompts = shared_prompts(10);
	int                i, same = 0;

	if (!stories)
		return;
	CHECK(pllm_prefix_cache_create(stories, PLLM_KV_F32, 8 << 20, &pc, &err) == PLLM_OK, "%s", err.msg);
	bo.n_ctx = 128;
	bo.n_seq = 4;
	bo.n_batch = SMALL_PASS;
	CHECK(pllm_batch_generate(stories, (const char *const *) prompts, NULL, 10, &gp, NULL, &bo, a, &sa, &err) ==
		  PLLM_OK, "%s", err.msg);
	bo.prefix_cache = pc;
	CHECK(pllm_batch_generate(stories, (const char *const *) prompts, NULL, 10, &gp, NULL, &bo, b, &sb, &err) ==
		  PLLM_OK, "%s", err.msg);
	for (i = 0; i < 10; i++)
	{
		if (a[i].text && b[i].text && strcmp(a[i].text, b[i].text) == 0 && a[i].n_gen == b[i].n_gen)
			same++;
		else
			CHECK(0, "prompt %d: '%s' vs '%s'", i, a[i].text, b[i].text);
		pllm_gen_result_free(&a[i]);
		pllm_gen_result_free(&b[i]);
	}
	CHECK(same == 10, "%d/10 equal", same);
	printf("# batch prefix cache: prompt positions evaluated %lld without, %lld with (%lld reused)\n",
		   (long long) sa.n_prompt_tokens, (long long) sb.n_prompt_tokens, (long long) sb.n_reused_tokens);
	/* the first prompt is computed, the other nine wait for it and copy the shared part */
	CHECK(sb.n_reused_tokens >= 9 * 30 && sb.n_prompt_tokens + sb.n_reused_tokens == sa.n_prompt_tokens,
		  "reused %lld", (long long) sb.n_reused_tokens);
	/* a cache of another model is refused */
	if (tqwen)
	{
		bo.prefix_cache = pc;
		CHECK(pllm_batch_generate(tqwen, (const char *const *) prompts, NULL, 2, &gp, NULL, &bo, a, NULL, &err) ==
			  PLLM_ERR_INVALID_ARG, "cache of another model accepted");
	}
	for (i = 0; i < 10; i++)
		free(prompts[i]);
	free(prompts);
	pllm_prefix_cache_free(pc);
}

/* ---- cancellation and errors ------------------------------------------------- */

static int polls;

static bool
abort_after(void *arg)
{
	return ++polls > *(int *) arg;
}

static void
test_batch_cancel_and_errors(void)
{
	pllm_gen_params gp = greedy(50);
	pllm_batch_opts bo = pllm_batch_opts_default();
	pllm_gen_result res[N_STORY];
	pllm_error      err;
	int             limit = 60, i, partial = 0;
	const char     *too_long[2] = {"Tom", "Once upon a time there was a little girl named Lily and her dog"};

	if (!stories)
		return;
	bo.n_ctx = 128;
	bo.n_seq = 4;
	bo.should_abort = abort_after;
	bo.abort_arg = &limit;
	polls = 0;
	CHECK(pllm_batch_generate(stories, story_prompts, NULL, N_STORY, &gp, NULL, &bo, res, NULL, &err) ==
		  PLLM_ERR_CANCELLED, "cancel: %d %s", err.code, err.msg);
	for (i = 0; i < N_STORY; i++)
	{
		if (res[i].n_gen > 0)
			partial++;
		pllm_gen_result_free(&res[i]);
	}
	CHECK(partial > 0 && partial < N_STORY, "%d sequences had started", partial);

	bo = pllm_batch_opts_default();
	bo.n_ctx = 12;
	CHECK(pllm_batch_generate(stories, too_long, NULL, 2, &gp, NULL, &bo, res, NULL, &err) == PLLM_ERR_LIMIT &&
		  strstr(err.msg, "prompt 1") != NULL, "too long: %d %s", err.code, err.msg);
	CHECK(res[0].text == NULL && res[1].text == NULL, "results not initialised");
	CHECK(pllm_batch_generate(stories, too_long, NULL, -1, &gp, NULL, &bo, res, NULL, &err) == PLLM_ERR_INVALID_ARG,
		  "negative count accepted");
	CHECK(pllm_batch_generate(stories, too_long, NULL, 0, &gp, NULL, &bo, res, NULL, &err) == PLLM_OK, "empty batch");
	{
		pllm_model *bert = NULL;

		if (pllm_model_open_file(unit_data("regress/tiny-bert-q8_0.gguf"), NULL, &bert, &err) == PLLM_OK)
		{
			CHECK(pllm_batch_generate(bert, too_long, NULL, 1, &gp, NULL, NULL, res, NULL, &err) ==
				  PLLM_ERR_INVALID_ARG, "encoder accepted: %s", err.msg);
			pllm_model_close(bert);
		}
	}
}

int
main(void)
{
	pllm_error err;

	CHECK(pllm_model_open_file(unit_data("models/stories260K.gguf"), NULL, &stories, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_model_open_file(unit_data("models/tiny-llama-q4_k.gguf"), NULL, &tllama, &err) == PLLM_OK, "%s", err.msg);
	CHECK(pllm_model_open_file(unit_data("models/tiny-qwen2-q8_0.gguf"), NULL, &tqwen, &err) == PLLM_OK, "%s", err.msg);
	RUN(test_forward_tokens_bits);
	RUN(test_batch_greedy_stories);
	RUN(test_batch_greedy_tiny);
	RUN(test_batch_eog);
	RUN(test_batch_seeded);
	RUN(test_prefix_cache_session);
	RUN(test_prefix_cache_eviction);
	RUN(test_prefix_cache_batch);
	RUN(test_batch_cancel_and_errors);
	pllm_model_close(stories);
	pllm_model_close(tllama);
	pllm_model_close(tqwen);
	return UNIT_DONE();
}
