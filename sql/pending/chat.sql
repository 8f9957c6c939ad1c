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

-- a model without tokenizer.chat_template needs a named template (0A000)
\set VERBOSITY verbose
SELECT llm.chat('[{"role": "user", "content": "Tell me a story."}]', model => 'chat');
\set VERBOSITY default
SELECT llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'chat',
                max_tokens => 24, temperature => 0, template => 'llama2') AS llama2;
SELECT length(llm.chat('[{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Once upon a time"},
                         {"role": "assistant", "content": "there was a girl."},
                         {"role": "user", "content": "Go on."}]', model => 'chat',
                max_tokens => 16, temperature => 0, template => t)) > 0 AS answers, t AS template
FROM unnest(ARRAY['chatml', 'llama2', 'llama3', 'deepseek3', 'gemma', 'phi3', 'mistral']) AS t;
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
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'jinja')$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'chat', template => 'chatml', top_p => 2)$$);
SELECT pg_temp.try($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'nope', template => 'chatml')$$);
