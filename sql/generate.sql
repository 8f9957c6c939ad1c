-- llm.generate and llm.generate_stream on the 260K-parameter TinyStories model:
-- greedy output equals llama2.c's reference, seeds reproduce, options are
-- checked, limits hold, errors carry their SQLSTATE.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('gen', 'stories260K.gguf', '{"replace": true}');

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- the whole error: SQLSTATE and message, DETAIL, HINT (no source locations)
CREATE FUNCTION pg_temp.err(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	st text; msg text; det text; hnt text;
BEGIN
	EXECUTE q;
	RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
	RETURN NEXT 'ERROR ' || st || ': ' || msg;
	IF det <> '' THEN RETURN NEXT 'DETAIL: ' || det; END IF;
	IF hnt <> '' THEN RETURN NEXT 'HINT: ' || hnt; END IF;
END $$;

-- greedy: llama2.c's documented continuation (reference_greedy.txt), 64 tokens
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0) AS greedy;
SELECT count(*) AS pieces FROM llm.generate_stream('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0);
SELECT position('Once upon a time' || llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0)
                IN split_part(split_part(pg_read_file(:'abs_srcdir' || '/data/reference_greedy.txt'),
                                         E'## TEXT (256 generated tokens, no EOS/BOS hit)\n', 2),
                              E'\n## END TEXT', 1)) = 1 AS matches_llama2c_reference;
-- positional arguments and the default model
SET pg_llm.default_model = 'gen';
SELECT llm.generate('Lily and Ben', NULL, 24, 0) AS default_model;
RESET pg_llm.default_model;

-- streaming: one row per piece, together the same text
SELECT count(*) > 10 AS many_pieces,
       string_agg(piece, '') = llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 0) AS same_text
FROM llm.generate_stream('Once upon a time', model => 'gen', max_tokens => 32, temperature => 0) AS piece;
SELECT piece FROM llm.generate_stream('Hello world', model => 'gen', max_tokens => 6, temperature => 0) AS piece;

-- sampling: a seed gives the same text every time
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, seed => 42) AS seed42;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, seed => 42) =
       llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, seed => 42) AS reproducible;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, seed => 43) AS seed43;
-- without a seed, sampling differs between calls (32 tokens at temperature 1.5)
SELECT count(DISTINCT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1.5)) > 1
       AS unseeded_varies FROM generate_series(1, 4);
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, top_k => 5,
                    top_p => 0.9, min_p => 0.1, repeat_penalty => 1.3, seed => 7) AS all_options;

-- stop strings end the text before them (the first one that appears)
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0,
                    stop => ARRAY['Lily']) AS stopped;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0,
                    stop => ARRAY['park', '.']) AS stopped_at_period;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 16, temperature => 0,
                    stop => ARRAY['never appears']) AS not_stopped;
SELECT string_agg(piece, '|') AS stream_stopped
FROM llm.generate_stream('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0,
                         stop => ARRAY['girl']) AS piece;
-- pg_llm.max_tokens is a hard cap
SET pg_llm.max_tokens = 4;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0) AS capped_text,
       llm.generate('Once upon a time', model => 'gen', max_tokens => 64, temperature => 0) =
       llm.generate('Once upon a time', model => 'gen', max_tokens => 4, temperature => 0) AS capped;
SELECT count(*) AS capped_pieces
FROM llm.generate_stream('Once upon a time', model => 'gen', max_tokens => 1000, temperature => 0);
RESET pg_llm.max_tokens;
-- a huge max_tokens is fine: generation ends when the context is full
-- (the model's 2048 tokens: 5 prompt tokens + 2043 generated, one piece each)
SET pg_llm.max_tokens = 1000000;
SELECT count(*) AS fills_context
FROM llm.generate_stream('Once upon a time', model => 'gen', max_tokens => 2147483647, temperature => 0);
RESET pg_llm.max_tokens;

-- NULL prompt: NULL answer; NULL options: their defaults
SELECT llm.generate(NULL, model => 'gen') IS NULL AS null_prompt;
SELECT count(*) AS null_prompt_rows FROM llm.generate_stream(NULL, model => 'gen');
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 8, temperature => 0, top_k => NULL,
                    top_p => NULL, min_p => NULL, repeat_penalty => NULL, stop => NULL) AS null_options;

-- bad option values: 22023
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', max_tokens => 0)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', max_tokens => -1)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', temperature => -0.001)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', temperature => 101)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', temperature => -1)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', temperature => 'NaN')$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', top_k => -1)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', top_p => 0)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', top_p => 1.5)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', top_p => 'NaN')$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', min_p => 2)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', repeat_penalty => 0)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', stop => ARRAY['a', NULL])$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', stop => ARRAY[''])$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', stop => ARRAY['1','2','3','4','5','6','7','8','9'])$$);
SELECT pg_temp.try($$SELECT * FROM llm.generate_stream('x', model => 'gen', max_tokens => -5)$$);
SELECT pg_temp.try($$SELECT llm.generate('x', model => 'gen', stop => ARRAY[['a'], ['b']])$$);
-- the full message of a bad option
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'gen', top_p => 2)$$);

-- unknown model, no default: 42704
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'no_such_model')$$);
SELECT pg_temp.err($$SELECT llm.generate('x')$$);
SELECT pg_temp.err($$SELECT llm.generate('x', model => '')$$);
SELECT pg_temp.err($$SELECT * FROM llm.generate_stream('x', model => 'no_such_model')$$);

-- empty prompt: the model starts from BOS alone
SELECT llm.generate('', model => 'gen', max_tokens => 12, temperature => 0) AS empty_prompt;

-- a prompt longer than the context: 54000
SET pg_llm.context_length = 16;
SELECT pg_temp.err($$SELECT llm.generate(repeat('Once upon a time ', 20), model => 'gen')$$);
-- generation stops when the context is full
SELECT length(llm.generate('Once upon a time', model => 'gen', max_tokens => 100, temperature => 0)) < 100 AS stops_at_context;
RESET pg_llm.context_length;
-- very long prompts (1 MB) against the model's own context of 2048
SELECT pg_temp.err($$SELECT llm.generate(repeat('Once upon a time ', 60000), model => 'gen')$$);
SELECT pg_temp.err($$SELECT * FROM llm.generate_stream(repeat('x', 1000000), model => 'gen')$$);
-- the same again with the model's own context
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 16, temperature => 0) AS after_reset;

-- statement_timeout cancels a long generation (57014) and the session goes on
SET statement_timeout = '200ms';
SELECT pg_temp.err($$SELECT count(llm.generate('Once upon a time', model => 'gen', max_tokens => 500, temperature => 1, seed => i))
                    FROM generate_series(1, 100000) AS i$$);
RESET statement_timeout;
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 8, temperature => 0) AS after_cancel;

-- usage counters
SELECT calls > 10 AS counted_calls, tokens > 200 AS counted_tokens, backends >= 1 AS attached
FROM llm.models WHERE name = 'gen';

-- the same seed gives the same text in another session (the expected text above)
\c
SELECT llm.generate('Once upon a time', model => 'gen', max_tokens => 32, temperature => 1, seed => 42) AS seed42_new_session;
