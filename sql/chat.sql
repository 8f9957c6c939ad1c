-- llm.chat: messages checked, the chat template detected or named, the
-- reasoning part optionally dropped. The TinyStories model has no chat
-- template, so templates are named here (its answers are not meaningful, but
-- greedy decoding makes them deterministic).
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('chat', 'stories260K.gguf', '{"replace": true}');

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.err(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text;
BEGIN
	EXECUTE q;
	RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN NEXT 'ERROR ' || st || ': ' || msg;
	IF det <> '' THEN RETURN NEXT 'DETAIL: ' || det; END IF;
	IF hnt <> '' THEN RETURN NEXT 'HINT: ' || hnt; END IF;
END $$;

-- a model without tokenizer.chat_template needs a named template (0A000)
SELECT pg_temp.err($$SELECT llm.chat('[{"role": "user", "content": "Tell me a story."}]', model => 'chat')$$);
SELECT llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'chat',
                max_tokens => 24, temperature => 0, template => 'llama2') AS llama2;
-- the prompt is the template's rendering: for ChatML (whose markers this
-- model's vocabulary lacks, so they are plain text either way) the answer is
-- what llm.generate gives for the rendered text
SELECT llm.chat('[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Once upon a time"}]',
                model => 'chat', max_tokens => 24, temperature => 0, template => 'chatml') =
       llm.generate(E'<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nOnce upon a time<|im_end|>\n<|im_start|>assistant\n',
                    model => 'chat', max_tokens => 24, temperature => 0) AS chatml_rendering;
-- every template, on a conversation with all three roles (greedy, so fixed text)
SELECT t AS template, llm.chat('[{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Once upon a time"},
                         {"role": "assistant", "content": "there was a girl."},
                         {"role": "user", "content": "Go on."}]', model => 'chat',
                max_tokens => 12, temperature => 0, template => t) AS answer
FROM unnest(ARRAY['chatml', 'llama2', 'llama3', 'deepseek3', 'gemma', 'phi3', 'mistral']) AS t;
-- stop strings and keep_thinking (no <think> in this answer: nothing is dropped)
SELECT llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'chat', template => 'llama2',
                max_tokens => 24, temperature => 0, stop => ARRAY['day']) AS stopped;
SELECT llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'chat', template => 'llama2',
                max_tokens => 24, temperature => 0, keep_thinking => false) =
       llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'chat', template => 'llama2',
                max_tokens => 24, temperature => 0) AS nothing_to_strip;
-- same seed, same answer
SELECT llm.chat('[{"role": "user", "content": "Lily"}]', model => 'chat', template => 'chatml',
                max_tokens => 16, temperature => 1, seed => 3) =
       llm.chat('[{"role": "user", "content": "Lily"}]', model => 'chat', template => 'chatml',
                max_tokens => 16, temperature => 1, seed => 3) AS reproducible;
SELECT llm.chat(NULL, model => 'chat') IS NULL AS null_messages;

-- messages and options are checked (22023)
SELECT pg_temp.try($$SELECT llm.chat('{"role": "user"}', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('[]', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('["hi"]', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user"}]', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "robot", "content": "x"}]', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": 5}]', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.err($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'jinja')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => '')$$);
SELECT pg_temp.try($$SELECT llm.chat('"just a string"', model => 'chat', template => 'chatml')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'chatml', max_tokens => -1)$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'chatml', temperature => -1)$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'chatml', top_p => 2)$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'nope', template => 'chatml')$$);
