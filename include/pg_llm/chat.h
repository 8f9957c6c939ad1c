/*
 * chat.h -- chat templates: turning a list of (role, content) messages into the
 * prompt text a chat model was trained on. The template is detected from the
 * model's tokenizer.chat_template metadata (a Jinja text we only pattern-match,
 * never execute) or chosen by name. Also: dropping a reasoning model's
 * <think>...</think> part from its answer.
 */
#ifndef PG_LLM_CHAT_H
#define PG_LLM_CHAT_H

#include "pg_llm/pllm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pllm_chat_template
{
	PLLM_CHAT_NONE = 0,       /* not detected */
	PLLM_CHAT_CHATML,         /* <|im_start|>role ... <|im_end|> (Qwen, many others) */
	PLLM_CHAT_LLAMA2,         /* [INST] <<SYS>> ... <</SYS>> ... [/INST] */
	PLLM_CHAT_LLAMA3,         /* <|start_header_id|>role<|end_header_id|> ... <|eot_id|> */
	PLLM_CHAT_DEEPSEEK3,      /* <｜User｜> ... <｜Assistant｜> (DeepSeek-V3, R1 and its distills) */
	PLLM_CHAT_GEMMA,          /* <start_of_turn>user ... <end_of_turn> */
	PLLM_CHAT_PHI3,           /* <|user|> ... <|end|> */
	PLLM_CHAT_MISTRAL,        /* [INST] ... [/INST] ... </s> (Mistral v3 layout) */
	PLLM_CHAT_COUNT
} pllm_chat_template;

typedef struct pllm_chat_msg
{
	const char *role;         /* "system", "user" or "assistant" */
	const char *content;
} pllm_chat_msg;

/* Template from the text of tokenizer.chat_template; PLLM_CHAT_NONE if unknown. */
pllm_chat_template pllm_chat_detect(const char *tmpl, size_t len);
/* By name ("chatml", "llama2", "llama3", "deepseek3", "gemma", "phi3", "mistral"); NONE if unknown. */
pllm_chat_template pllm_chat_by_name(const char *name);
const char        *pllm_chat_name(pllm_chat_template t);

/*
 * Render msgs[0..n) with template t, ending with the opening of the assistant's
 * turn when add_assistant. *out is malloc'd and NUL-terminated (free()).
 * Special-token text appears literally: tokenize the result with special-token
 * parsing on. PLLM_ERR_INVALID_ARG for an unknown role or template.
 */
pllm_status pllm_chat_apply(pllm_chat_template t, const pllm_chat_msg *msgs, size_t n,
							bool add_assistant, char **out, size_t *out_len, pllm_error *err);

/*
 * Remove a reasoning part from text[0..len) in place: everything up to and
 * including the first "</think>" (whether or not "<think>" opened it), or, when
 * "<think>" is never closed, everything from it on; then leading whitespace.
 * text must have room for len + 1 bytes: the result is NUL-terminated.
 * Returns the new length.
 */
size_t pllm_chat_strip_thinking(char *text, size_t len);

#ifdef __cplusplus
}
#endif
#endif
