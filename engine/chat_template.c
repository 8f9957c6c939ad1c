/*
 * chat_template.c -- the chat layouts of the common model families, detected
 * by looking for their marker strings in tokenizer.chat_template (the layouts
 * follow what llama.cpp's built-in templates produce for the same messages).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_llm/chat.h"

static const char *const template_names[PLLM_CHAT_COUNT] = {
	[PLLM_CHAT_NONE] = "none",
	[PLLM_CHAT_CHATML] = "chatml",
	[PLLM_CHAT_LLAMA2] = "llama2",
	[PLLM_CHAT_LLAMA3] = "llama3",
	[PLLM_CHAT_DEEPSEEK3] = "deepseek3",
	[PLLM_CHAT_GEMMA] = "gemma",
	[PLLM_CHAT_PHI3] = "phi3",
	[PLLM_CHAT_MISTRAL] = "mistral",
};

/* memmem on a (pointer, length) template text with a C-string needle */
static bool
has(const char *t, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0 || n > len)
		return false;
	for (size_t i = 0; i + n <= len; i++)
		if (t[i] == needle[0] && memcmp(t + i, needle, n) == 0)
			return true;
	return false;
}

pllm_chat_template
pllm_chat_detect(const char *t, size_t len)
{
	if (t == NULL || len == 0)
		return PLLM_CHAT_NONE;
	if (has(t, len, "<|im_start|>"))
		return PLLM_CHAT_CHATML;
	if (has(t, len, "<|start_header_id|>") && has(t, len, "<|end_header_id|>"))
		return PLLM_CHAT_LLAMA3;
	/* fullwidth vertical bars: U+FF5C */
	if (has(t, len, "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>") || has(t, len, "<\xef\xbd\x9c" "User\xef\xbd\x9c>"))
		return PLLM_CHAT_DEEPSEEK3;
	if (has(t, len, "<start_of_turn>"))
		return PLLM_CHAT_GEMMA;
	if (has(t, len, "<|assistant|>") && has(t, len, "<|end|>"))
		return PLLM_CHAT_PHI3;
	if (has(t, len, "[INST]"))
		return has(t, len, "<<SYS>>") ? PLLM_CHAT_LLAMA2 : PLLM_CHAT_MISTRAL;
	return PLLM_CHAT_NONE;
}

pllm_chat_template
pllm_chat_by_name(const char *name)
{
	if (name == NULL)
		return PLLM_CHAT_NONE;
	for (int t = PLLM_CHAT_NONE + 1; t < PLLM_CHAT_COUNT; t++)
		if (strcmp(name, template_names[t]) == 0)
			return (pllm_chat_template) t;
	/* a few spellings people use */
	if (strcmp(name, "deepseek-r1") == 0 || strcmp(name, "deepseek") == 0)
		return PLLM_CHAT_DEEPSEEK3;
	if (strcmp(name, "phi-3") == 0)
		return PLLM_CHAT_PHI3;
	return PLLM_CHAT_NONE;
}

const char *
pllm_chat_name(pllm_chat_template t)
{
	if ((unsigned) t >= PLLM_CHAT_COUNT)
		return "none";
	return template_names[t];
}

/* ---- a growable output buffer ----------------------------------------------- */

typedef struct chat_buf
{
	char  *data;
	size_t len;
	size_t cap;
	bool   oom;
} chat_buf;

static void
put_n(chat_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t cap = b->cap ? b->cap : 256;
		char  *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
put(chat_buf *b, const char *s)
{
	put_n(b, s, strlen(s));
}

/* content with leading and trailing ASCII whitespace removed */
static void
put_trimmed(chat_buf *b, const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	put_n(b, s, n);
}

typedef enum
{
	ROLE_SYSTEM,
	ROLE_USER,
	ROLE_ASSISTANT,
	ROLE_BAD
} chat_role;

static chat_role
role_of(const char *r)
{
	if (r == NULL)
		return ROLE_BAD;
	if (strcmp(r, "system") == 0)
		return ROLE_SYSTEM;
	if (strcmp(r, "user") == 0)
		return ROLE_USER;
	if (strcmp(r, "assistant") == 0)
		return ROLE_ASSISTANT;
	return ROLE_BAD;
}

/* ---- the layouts ------------------------------------------------------------- */

static void
render_chatml(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++)
	{
		put(b, "<|im_start|>");
		put(b, m[i].role);
		put(b, "\n");
		put(b, m[i].content);
		put(b, "<|im_end|>\n");
	}
	if (add)
		put(b, "<|im_start|>assistant\n");
}

/* [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST]answer</s>[INST] ... */
static void
render_llama2(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	bool inside = true;

	put(b, "[INST] ");
	for (size_t i = 0; i < n; i++)
	{
		chat_role r = role_of(m[i].role);

		if (!inside)
		{
			put(b, "[INST] ");
			inside = true;
		}
		if (r == ROLE_SYSTEM)
		{
			put(b, "<<SYS>>\n");
			put(b, m[i].content);
			put(b, "\n<</SYS>>\n\n");
		}
		else if (r == ROLE_USER)
		{
			put(b, m[i].content);
			put(b, " [/INST]");
		}
		else
		{
			put(b, m[i].content);
			put(b, "</s>");
			inside = false;
		}
	}
	(void) add;		/* the assistant's turn is open after [/INST] */
}

static void
render_llama3(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++)
	{
		put(b, "<|start_header_id|>");
		put(b, m[i].role);
		put(b, "<|end_header_id|>\n\n");
		put_trimmed(b, m[i].content);
		put(b, "<|eot_id|>");
	}
	if (add)
		put(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

#define DS_USER "<\xef\xbd\x9cUser\xef\xbd\x9c>"
#define DS_ASSISTANT "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>"
/* <｜end▁of▁sentence｜>: U+FF5C, U+2581 */
#define DS_EOS "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"

static void
render_deepseek3(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++)
	{
		chat_role r = role_of(m[i].role);

		if (r == ROLE_SYSTEM)
		{
			put(b, m[i].content);
			put(b, "\n\n");
		}
		else if (r == ROLE_USER)
		{
			put(b, DS_USER);
			put(b, m[i].content);
		}
		else
		{
			put(b, DS_ASSISTANT);
			put(b, m[i].content);
			put(b, DS_EOS);
		}
	}
	if (add)
		put(b, DS_ASSISTANT);
}

/* Gemma has no system turn: the system text opens the next user turn. */
static void
render_gemma(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	const char *system = NULL;

	for (size_t i = 0; i < n; i++)
	{
		chat_role r = role_of(m[i].role);

		if (r == ROLE_SYSTEM)
		{
			system = m[i].content;
			continue;
		}
		put(b, "<start_of_turn>");
		put(b, r == ROLE_ASSISTANT ? "model" : "user");
		put(b, "\n");
		if (system != NULL && r == ROLE_USER)
		{
			put_trimmed(b, system);
			put(b, "\n\n");
			system = NULL;
		}
		put_trimmed(b, m[i].content);
		put(b, "<end_of_turn>\n");
	}
	if (add)
		put(b, "<start_of_turn>model\n");
}

static void
render_phi3(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	for (size_t i = 0; i < n; i++)
	{
		put(b, "<|");
		put(b, m[i].role);
		put(b, "|>\n");
		put(b, m[i].content);
		put(b, "<|end|>\n");
	}
	if (add)
		put(b, "<|assistant|>\n");
}

/* [INST] sys\n\nuser[/INST] answer</s>[INST] ... */
static void
render_mistral(chat_buf *b, const pllm_chat_msg *m, size_t n, bool add)
{
	bool inside = false;

	for (size_t i = 0; i < n; i++)
	{
		chat_role r = role_of(m[i].role);

		if (!inside)
		{
			put(b, "[INST] ");
			inside = true;
		}
		if (r == ROLE_SYSTEM)
		{
			put(b, m[i].content);
			put(b, "\n\n");
		}
		else if (r == ROLE_USER)
		{
			put(b, m[i].content);
			put(b, "[/INST]");
		}
		else
		{
			put(b, " ");
			put_trimmed(b, m[i].content);
			put(b, "</s>");
			inside = false;
		}
	}
	(void) add;
}

typedef void (*render_fn)(chat_buf *, const pllm_chat_msg *, size_t, bool);

static const render_fn renderers[PLLM_CHAT_COUNT] = {
	[PLLM_CHAT_CHATML] = render_chatml,
	[PLLM_CHAT_LLAMA2] = render_llama2,
	[PLLM_CHAT_LLAMA3] = render_llama3,
	[PLLM_CHAT_DEEPSEEK3] = render_deepseek3,
	[PLLM_CHAT_GEMMA] = render_gemma,
	[PLLM_CHAT_PHI3] = render_phi3,
	[PLLM_CHAT_MISTRAL] = render_mistral,
};

pllm_status
pllm_chat_apply(pllm_chat_template t, const pllm_chat_msg *msgs, size_t n,
				bool add_assistant, char **out, size_t *out_len, pllm_error *err)
{
	chat_buf b = {0};

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if ((unsigned) t >= PLLM_CHAT_COUNT || renderers[t] == NULL)
		return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "no chat template selected");
	for (size_t i = 0; i < n; i++)
	{
		if (role_of(msgs[i].role) == ROLE_BAD)
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG,
								  "message %zu: role must be \"system\", \"user\" or \"assistant\"", i + 1);
		if (msgs[i].content == NULL)
			return pllm_error_set(err, PLLM_ERR_INVALID_ARG, "message %zu has no content", i + 1);
	}
	put(&b, "");
	renderers[t](&b, msgs, n, add_assistant);
	if (b.oom)
	{
		free(b.data);
		return pllm_error_set(err, PLLM_ERR_NOMEM, "out of memory rendering a chat prompt");
	}
	*out = b.data;
	if (out_len)
		*out_len = b.len;
	return PLLM_OK;
}

size_t
pllm_chat_strip_thinking(char *text, size_t len)
{
	static const char open_tag[] = "<think>";
	static const char close_tag[] = "</think>";
	size_t start = len;
	size_t from = 0;

	for (size_t i = 0; i + sizeof(close_tag) - 1 <= len; i++)
		if (memcmp(text + i, close_tag, sizeof(close_tag) - 1) == 0)
		{
			start = 0;
			from = i + sizeof(close_tag) - 1;
			break;
		}
	if (start == len)
	{
		/* no closing tag: drop an unterminated reasoning part, if any */
		for (size_t i = 0; i + sizeof(open_tag) - 1 <= len; i++)
			if (memcmp(text + i, open_tag, sizeof(open_tag) - 1) == 0)
			{
				len = i;
				break;
			}
		from = 0;
	}
	while (from < len && (text[from] == ' ' || text[from] == '\n' || text[from] == '\t' || text[from] == '\r'))
		from++;
	memmove(text, text + from, len - from);
	len -= from;
	text[len] = '\0';
	return len;
}
