-- pg_llm.* settings: defaults, ranges, privileges, reserved prefix.
CREATE EXTENSION IF NOT EXISTS pg_llm;

SELECT name, setting, context, vartype, min_val, max_val
FROM pg_settings WHERE name LIKE 'pg_llm.%' AND name <> 'pg_llm.model_dir'
ORDER BY name;

SET pg_llm.threads = 2;
SHOW pg_llm.threads;
SET pg_llm.threads = -1;
SET pg_llm.max_tokens = 0;
SET pg_llm.context_length = 128;
SHOW pg_llm.context_length;
RESET pg_llm.context_length;
SET pg_llm.default_model = 'stories';
SHOW pg_llm.default_model;
-- the prefix is reserved: misspelled settings are errors, not silently accepted
SET pg_llm.thread = 4;
-- preload_models only at server start
SET pg_llm.preload_models = 'a=/tmp/a.gguf';

-- model_dir and max_tokens are for superusers only
CREATE ROLE pllm_guc_user;
SET ROLE pllm_guc_user;
SET pg_llm.model_dir = '/';
SET pg_llm.max_tokens = 100000;
SET pg_llm.threads = 1;
RESET ROLE;
DROP ROLE pllm_guc_user;
