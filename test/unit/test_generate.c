/*
 * test_generate.c -- stories260K, a real trained llama model, against
 * llama2.c's documented greedy output (models/reference_greedy.txt) and
 * llama.cpp's fixtures (fixtures/stories260K/prompt{0,1}.*), then
 * pllm_generate() end to end: exact greedy text, streaming pieces, stop
 * strings, context overflow, cancellation and seeded sampling.
 * F32 tolerance from fixtures/README.md: logits within 1e-4 (+1e-6*|ref| above 100).
 */
#include <cjson/cJSON.h>
#include <stdint.h>

#include "pg_llm/model.h"
#include "pg_llm/sampler.h"
#include "pg_llm/session.h"
#include "unit.h"

#define NV 512

static pllm_model *model;

static int
argmax(const float *l)
{
	int i, b = 0;

	for (i = 1; i < NV; i++)
		if (l[i] > l[b])
			b = i;
	return b;
}

/* GENERATED_IDS line of reference_greedy.txt (256 ids). */
static int
read_reference_ids(int32_t *ids, int cap)
{
	char *txt = unit_read_file(unit_data("models/reference_greedy.txt"), NULL);
	char *p, *end;
	int   n = 0;

	if (!txt)
		return 0;
	p = strstr(txt, "\nGENERATED_IDS ");
	if (p)
	{
		p += strlen("\nGENERATED_IDS ");
		while (n < cap)
		{
			long v = strtol(p, &end, 10);

			if (end == p || *p == '\n')
				break;
			ids[n++] = (int32_t) v;
			p = end;
			if (*p == '\n')
				break;
		}
	}
	free(txt);
	return n;
}

static void
check_prompt_fixture(const char *name)
{
	char          rel[128];
	char         *js;
	cJSON        *j;
	const cJSON  *pids, *gen;
	float        *ref;
	size_t        len = 0;
	int32_t       ids[16];
	int           n, i, same = 0;
	pllm_session *s = NULL;
	pllm_error    err;
	double        dmax = 0;

	snprintf(rel, sizeof(rel), "fixtures/stories260K/%s.json", name);
	js = unit_read_file(unit_data(rel), NULL);
	snprintf(rel, sizeof(rel), "fixtures/stories260K/%s.last_logits.f32", name);
	ref = (float *) unit_read_file(unit_data(rel), &len);
	CHECK(js && ref && len == NV * sizeof(float), "fixture %s missing", name);
	if (!js || !ref || !model)
	{
		free(js);
		free(ref);
		return;
	}
	j = cJSON_Parse(js);
	pids = cJSON_GetObjectItem(j, "prompt_ids");
	gen = cJSON_GetObjectItem(j, "gen_ids");
	n = cJSON_GetArraySize(pids);
	CHECK(n > 0 && n <= 16 && cJSON_GetArraySize(gen) == 64, "%s: bad json", name);
	for (i = 0; i < n && i < 16; i++)
		ids[i] = (int32_t) cJSON_GetArrayItem(pids, i)->valuedouble;
	CHECK(pllm_session_create(model, NULL, &s, &err) == PLLM_OK, "%s", err.msg);
	if (s && n > 0 && n <= 16)
	{
		CHECK(pllm_session_eval(s, ids, n, false, &err) == PLLM_OK, "%s", err.msg);
		for (i = 0; i < NV; i++)
		{
			double d = fabs((double) pllm_session_logits(s, 0)[i] - ref[i]);
			double lim = 1e-4 + (fabs(ref[i]) > 100 ? 1e-6 * fabs(ref[i]) : 0);

			if (d > dmax)
				dmax = d;
			CHECK(d <= lim, "%s logit %d: %g vs %g", name, i, pllm_session_logits(s, 0)[i], ref[i]);
		}
		for (i = 0; i < 64; i++)
		{
			int32_t id = argmax(pllm_session_logits(s, 0));

			if (id != (int32_t) cJSON_GetArrayItem(gen, i)->valuedouble)
				break;
			same++;
			if (pllm_session_eval(s, &id, 1, false, &err) != PLLM_OK)
				break;
		}
		CHECK(same == 64, "%s: only the first %d of 64 greedy ids equal llama.cpp's", name, same);
		printf("# stories260K %s: last logits max abs %.3g (limit 1e-4), greedy ids %d/64\n", name, dmax, same);
	}
	pllm_session_free(s);
	cJSON_Delete(j);
	free(js);
	free(ref);
}

static void
test_stories_fixtures(void)
{
	check_prompt_fixture("prompt0");
	check_prompt_fixture("prompt1");
}

/* 252 greedy tokens after BOS + "Once upon a time" give llama2.c's 256 ids. */
static void
test_stories_reference_ids(void)
{
	int32_t       ref[300], ids[260];
	int           n_ref = read_reference_ids(ref, 300), i, same = 0;
	pllm_session *s = NULL;
	pllm_error    err;

	CHECK(n_ref == 256, "reference has %d ids", n_ref);
	if (n_ref != 256 || !model)
		return;
	ids[0] = 1;     /* BOS */
	for (i = 0; i < 4; i++)
		ids[i + 1] = ref[i];
	CHECK(pllm_session_create(model, NULL, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
		return;
	CHECK(pllm_session_eval(s, ids, 5, false, &err) == PLLM_OK, "%s", err.msg);
	for (i = 4; i < 256; i++)
	{
		int32_t id = argmax(pllm_session_logits(s, 0));

		if (id != ref[i])
			break;
		same++;
		if (pllm_session_eval(s, &id, 1, false, &err) != PLLM_OK)
			break;
	}
	CHECK(same == 252, "greedy ids diverge from llama2.c at generated token %d", 4 + same);
	pllm_session_free(s);
}

#include "pg_llm/tokenizer.h"

/* The TEXT block of reference_greedy.txt (without the trailing newline before END). */
static char *
read_reference_text(void)
{
	char *txt = unit_read_file(unit_data("models/reference_greedy.txt"), NULL);
	char *b, *e, *out = NULL;

	if (!txt)
		return NULL;
	b = strstr(txt, "## TEXT");
	b = b ? strchr(b, '\n') : NULL;
	e = b ? strstr(b, "\n## END TEXT") : NULL;
	if (b && e)
	{
		b++;
		out = malloc((size_t) (e - b) + 1);
		memcpy(out, b, (size_t) (e - b));
		out[e - b] = '\0';
	}
	free(txt);
	return out;
}


typedef struct pieces
{
	char buf[8192];
	size_t len;
	int    calls;
	int    abort_at;
} pieces;

static bool
on_piece(const char *t, size_t n, void *user)
{
	pieces *p = user;

	if (p->len + n < sizeof(p->buf))
	{
		memcpy(p->buf + p->len, t, n);
		p->len += n;
		p->buf[p->len] = '\0';
	}
	p->calls++;
	return true;
}

static pllm_gen_params
greedy(int max_tokens)
{
	pllm_gen_params gp = pllm_gen_params_default();

	gp.max_tokens = max_tokens;
	gp.sampling.temperature = 0.0f;
	return gp;
}

static void
test_stories_generate_text(void)
{
	const char     *prompt = "Once upon a time";
	char           *ref = read_reference_text();
	pllm_session   *s = NULL;
	pllm_gen_params gp = greedy(252);
	pllm_gen_result res;
	pllm_error      err;
	pieces          pc;
	int32_t         ids[16];
	size_t          n = 0;
	static const int32_t want[] = {1, 403, 407, 261, 378};

	CHECK(ref && strncmp(ref, prompt, strlen(prompt)) == 0, "reference text missing");
	if (!ref || !model)
	{
		free(ref);
		return;
	}
	CHECK(pllm_tok_encode(pllm_model_tokenizer(model), prompt, strlen(prompt), true, false, ids, 16, &n, &err) == PLLM_OK,
		  "%s", err.msg);
	CHECK(n == 5 && memcmp(ids, want, sizeof(want)) == 0, "prompt ids differ (n=%zu)", n);

	memset(&pc, 0, sizeof(pc));
	CHECK(pllm_session_create(model, NULL, &s, &err) == PLLM_OK, "%s", err.msg);
	if (s)
	{
		CHECK(pllm_generate(s, prompt, strlen(prompt), &gp, on_piece, &pc, &res, &err) == PLLM_OK, "%s", err.msg);
		CHECK(res.n_prompt == 5 && res.n_gen == 252 && res.stop == PLLM_STOP_MAX_TOKENS,
			  "prompt %d gen %d stop %d", res.n_prompt, res.n_gen, res.stop);
		CHECK(res.text && strcmp(res.text, ref + strlen(prompt)) == 0, "greedy text differs:\n%s", res.text);
		CHECK(pc.len == res.text_len && memcmp(pc.buf, res.text, pc.len) == 0, "streamed pieces differ from result");
		CHECK(pc.calls > 100, "only %d pieces streamed", pc.calls);
		pllm_gen_result_free(&res);

		/* stop string: text before it, never the string itself */
		gp.stop[0] = "Lily";
		memset(&pc, 0, sizeof(pc));
		CHECK(pllm_generate(s, prompt, strlen(prompt), &gp, on_piece, &pc, &res, &err) == PLLM_OK, "%s", err.msg);
		CHECK(res.stop == PLLM_STOP_STRING && res.text && strcmp(res.text, ", there was a little girl named ") == 0,
			  "stop at Lily: '%s' (stop %d)", res.text, res.stop);
		CHECK(strcmp(pc.buf, ", there was a little girl named ") == 0, "streamed: '%s'", pc.buf);
		pllm_gen_result_free(&res);
	}
	pllm_session_free(s);
	free(ref);
}

static int abort_polls;

static bool
abort_after_some(void *arg)
{
	(void) arg;
	return ++abort_polls > 20;
}

static void
test_generate_limits(void)
{
	pllm_session     *s = NULL;
	pllm_session_opts so = pllm_session_opts_default();
	pllm_gen_params   gp = greedy(100);
	pllm_gen_result   res;
	pllm_error        err;

	if (!model)
		return;
	so.n_ctx = 12;
	CHECK(pllm_session_create(model, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
		return;
	/* 5 prompt tokens + generation until the 12-token context is full */
	CHECK(pllm_generate(s, "Once upon a time", 16, &gp, NULL, NULL, &res, &err) == PLLM_OK, "%s", err.msg);
	CHECK(res.stop == PLLM_STOP_CONTEXT && res.n_gen == 8, "stop %d after %d tokens", res.stop, res.n_gen);
	CHECK(res.text && strncmp(res.text, ", there was a little girl", 25) == 0, "text '%s'", res.text);
	pllm_gen_result_free(&res);
	/* a prompt longer than the context */
	CHECK(pllm_generate(s, "Once upon a time there was a little girl named Lily and her dog", 63, &gp, NULL, NULL,
						&res, &err) == PLLM_ERR_LIMIT, "long prompt: %d %s", err.code, err.msg);
	pllm_gen_result_free(&res);
	pllm_session_free(s);

	/* cancellation during generation */
	s = NULL;
	abort_polls = 0;
	so = pllm_session_opts_default();
	so.should_abort = abort_after_some;
	CHECK(pllm_session_create(model, &so, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
		return;
	CHECK(pllm_generate(s, "Once upon a time", 16, &gp, NULL, NULL, &res, &err) == PLLM_ERR_CANCELLED,
		  "abort: %d %s", err.code, err.msg);
	CHECK(res.n_gen > 0 && res.n_gen < 100, "cancelled after %d tokens", res.n_gen);
	pllm_gen_result_free(&res);
	pllm_session_free(s);
}

static void
test_generate_seeded(void)
{
	pllm_session   *s = NULL;
	pllm_gen_params gp = pllm_gen_params_default();
	pllm_gen_result a, b, c;
	pllm_error      err;

	if (!model)
		return;
	CHECK(pllm_session_create(model, NULL, &s, &err) == PLLM_OK, "%s", err.msg);
	if (!s)
		return;
	gp.max_tokens = 48;
	gp.sampling.temperature = 1.0f;
	gp.sampling.top_k = 0;
	gp.sampling.top_p = 1.0f;
	gp.sampling.min_p = 0.0f;
	gp.sampling.seed = 42;
	pllm_generate(s, "Lily and Ben", 12, &gp, NULL, NULL, &a, &err);
	pllm_generate(s, "Lily and Ben", 12, &gp, NULL, NULL, &b, &err);
	gp.sampling.seed = 43;
	pllm_generate(s, "Lily and Ben", 12, &gp, NULL, NULL, &c, &err);
	CHECK(a.text && b.text && c.text, "generation failed: %s", err.msg);
	if (a.text && b.text && c.text)
	{
		CHECK(strcmp(a.text, b.text) == 0, "same seed, different text:\n%s\n%s", a.text, b.text);
		CHECK(strcmp(a.text, c.text) != 0, "seeds 42 and 43 gave the same 48 tokens");
	}
	pllm_gen_result_free(&a);
	pllm_gen_result_free(&b);
	pllm_gen_result_free(&c);
	pllm_session_free(s);
}

int
main(void)
{
	pllm_error err;

	CHECK(pllm_model_open_file(unit_data("models/stories260K.gguf"), NULL, &model, &err) == PLLM_OK, "%s", err.msg);
	RUN(test_stories_fixtures);
	RUN(test_stories_reference_ids);
	RUN(test_stories_generate_text);
	RUN(test_generate_limits);
	RUN(test_generate_seeded);
	pllm_model_close(model);
	return UNIT_DONE();
}
