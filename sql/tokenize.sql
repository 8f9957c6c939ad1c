-- llm.tokenize, llm.detokenize, llm.token_count with the model's tokenizer
-- (ids as llama2.c's reference shows for the TinyStories vocabulary).
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('tok', 'stories260K.gguf', '{"replace": true}');

-- reference_greedy.txt: "Once upon a time" -> 1 403 407 261 378, "Hello world" -> 1 346 306 414 263 304 341
SELECT llm.tokenize('Once upon a time', 'tok');
SELECT llm.tokenize('Hello world', model => 'tok');
SELECT llm.tokenize('Lily and Ben', 'tok') = '{1,317,269,368,302}' AS lily_and_ben;
SELECT llm.token_count('Once upon a time', 'tok');
SELECT llm.token_count('', 'tok') AS empty_count, llm.tokenize('', 'tok') AS empty;
-- round trip: the BOS that tokenize adds is dropped again
SELECT llm.detokenize('{403,407,261,378}', 'tok');
SELECT llm.detokenize('{1,403,407,261,378}', 'tok') AS with_bos;
SELECT llm.detokenize(llm.tokenize('Lily''s mom said, "Lily, let''s go to the park."', 'tok'), 'tok');
SELECT t, llm.detokenize(llm.tokenize(t, 'tok'), 'tok') = t AS round_trip
FROM unnest(ARRAY['Once upon a time', ' leading space', 'two  spaces', E'tab\tand\nnewline',
                  'café naïve 日本 🙂', '']) AS t;
-- other control tokens show as their text; bytes outside the vocabulary are byte tokens
SELECT llm.detokenize('{403,2}', 'tok') AS eos_shown;
SELECT llm.tokenize('日', 'tok') AS byte_tokens;
-- ids that stop inside a character never make invalid text: U+FFFD stands in
SELECT llm.detokenize('{410,233,154,168}', 'tok') AS whole, llm.detokenize('{410,233,154}', 'tok') AS cut,
       llm.detokenize('{233}', 'tok') AS lone_byte;
SELECT llm.detokenize('{}', 'tok') = '' AS empty_text;
-- long input: ~100 k tokens
SELECT llm.token_count(repeat('Once upon a time ', 25000), 'tok') AS long_count;
-- the default model, NULL input
SET pg_llm.default_model = 'tok';
SELECT llm.token_count('Once upon a time');
RESET pg_llm.default_model;
SELECT llm.tokenize(NULL, 'tok') IS NULL AS n1, llm.detokenize(NULL, 'tok') IS NULL AS n2,
       llm.token_count(NULL, 'tok') IS NULL AS n3;
-- errors
SELECT llm.detokenize('{1,512}', 'tok');
SELECT llm.detokenize('{-1}', 'tok');
SELECT llm.detokenize('{1,NULL}', 'tok');
SELECT llm.detokenize('{{1,2},{3,4}}', 'tok');
SELECT llm.tokenize('x', 'no_such_model');
SELECT llm.token_count('x');
