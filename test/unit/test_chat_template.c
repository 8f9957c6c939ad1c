/*
 * test_chat_template.c -- chat templates (engine/chat_template.c): detection
 * from tokenizer.chat_template texts, the exact prompt each layout renders,
 * and dropping a reasoning model's <think> part.
 */
#include "unit.h"

#include "pg_llm/chat.h"

static const pllm_chat_msg conv[] = {
	{"system", "Be brief."},
	{"user", "Hi"},
	{"assistant", "Hello."},
	{"user", "Why?"},
};

static void
expect_render(pllm_chat_template t, const char *want)
{
	char       *out = NULL;
	size_t      len = 0;
	pllm_error  err;

	CHECK(pllm_chat_apply(t, conv, 4, true, &out, &len, &err) == PLLM_OK, "%s: %s", pllm_chat_name(t), err.msg);
	CHECK(out && strcmp(out, want) == 0, "%s rendered [%s]\n#   want [%s]", pllm_chat_name(t), out ? out : "", want);
	CHECK(out && len == strlen(out), "length");
	free(out);
}

static void
test_detect(void)
{
	struct { const char *tmpl; pllm_chat_template want; } cases[] = {
		{"{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}", PLLM_CHAT_CHATML},
		{"{{ bos_token }}[INST] <<SYS>>\n{{ sys }}\n<</SYS>>", PLLM_CHAT_LLAMA2},
		{"<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>", PLLM_CHAT_LLAMA3},
		{"{{'<\xef\xbd\x9cUser\xef\xbd\x9c>' + content}}{{'<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>'}}", PLLM_CHAT_DEEPSEEK3},
		{"<start_of_turn>user\n{{ content }}<end_of_turn>", PLLM_CHAT_GEMMA},
		{"<|user|>\n{{ content }}<|end|>\n<|assistant|>\n", PLLM_CHAT_PHI3},
		{"{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]", PLLM_CHAT_MISTRAL},
		{"{{ messages }}", PLLM_CHAT_NONE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(pllm_chat_detect(cases[i].tmpl, strlen(cases[i].tmpl)) == cases[i].want,
			  "case %zu: got %s", i, pllm_chat_name(pllm_chat_detect(cases[i].tmpl, strlen(cases[i].tmpl))));
	CHECK(pllm_chat_detect(NULL, 0) == PLLM_CHAT_NONE, "NULL");
	CHECK(pllm_chat_by_name("llama3") == PLLM_CHAT_LLAMA3, "by name");
	CHECK(pllm_chat_by_name("deepseek-r1") == PLLM_CHAT_DEEPSEEK3, "alias");
	CHECK(pllm_chat_by_name("jinja") == PLLM_CHAT_NONE, "unknown name");
	CHECK(pllm_chat_by_name("none") == PLLM_CHAT_NONE, "none is not a template");
}

static void
test_render(void)
{
	expect_render(PLLM_CHAT_CHATML,
				  "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
				  "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n"
				  "<|im_start|>assistant\n");
	expect_render(PLLM_CHAT_LLAMA2,
				  "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]Hello.</s>[INST] Why? [/INST]");
	expect_render(PLLM_CHAT_LLAMA3,
				  "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
				  "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
				  "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
				  "<|start_header_id|>user<|end_header_id|>\n\nWhy?<|eot_id|>"
				  "<|start_header_id|>assistant<|end_header_id|>\n\n");
	expect_render(PLLM_CHAT_DEEPSEEK3,
				  "Be brief.\n\n<\xef\xbd\x9cUser\xef\xbd\x9c>Hi<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>Hello."
				  "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"
				  "<\xef\xbd\x9cUser\xef\xbd\x9c>Why?<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>");
	expect_render(PLLM_CHAT_GEMMA,
				  "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
				  "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n");
	expect_render(PLLM_CHAT_PHI3,
				  "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n"
				  "<|user|>\nWhy?<|end|>\n<|assistant|>\n");
	expect_render(PLLM_CHAT_MISTRAL,
				  "[INST] Be brief.\n\nHi[/INST] Hello.</s>[INST] Why?[/INST]");
}

static void
test_errors(void)
{
	pllm_chat_msg bad[] = {{"robot", "x"}};
	pllm_chat_msg none[] = {{"user", NULL}};
	char       *out = (char *) 1;
	pllm_error  err;

	CHECK(pllm_chat_apply(PLLM_CHAT_CHATML, bad, 1, true, &out, NULL, &err) == PLLM_ERR_INVALID_ARG, "role");
	CHECK(out == NULL, "no output on error");
	CHECK(pllm_chat_apply(PLLM_CHAT_CHATML, none, 1, true, &out, NULL, &err) == PLLM_ERR_INVALID_ARG, "content");
	CHECK(pllm_chat_apply(PLLM_CHAT_NONE, conv, 1, true, &out, NULL, &err) == PLLM_ERR_INVALID_ARG, "template");
	CHECK(pllm_chat_apply((pllm_chat_template) 99, conv, 1, true, &out, NULL, &err) == PLLM_ERR_INVALID_ARG, "range");
}

static void
strip(const char *in, const char *want)
{
	char   buf[256];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", in);
	n = pllm_chat_strip_thinking(buf, strlen(buf));
	CHECK(strcmp(buf, want) == 0 && n == strlen(want), "[%s] -> [%s], want [%s]", in, buf, want);
}

static void
test_strip_thinking(void)
{
	strip("<think>\nhmm, 2+2\n</think>\n\nFour.", "Four.");
	strip("hmm, the user asks\n</think>Four.", "Four.");   /* R1 prompts open <think> themselves */
	strip("Four.", "Four.");
	strip("Four. <think>let me reconsider", "Four. ");
	strip("", "");
	strip("</think>", "");
}

int
main(void)
{
	RUN(test_detect);
	RUN(test_render);
	RUN(test_errors);
	RUN(test_strip_thinking);
	return UNIT_DONE();
}
