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
-- round trip
SELECT llm.detokenize('{403,407,261,378}', 'tok');
SELECT llm.detokenize(llm.tokenize('Lily''s mom said, "Lily, let''s go to the park."', 'tok'), 'tok');
SELECT llm.detokenize('{}', 'tok') = '' AS empty_text;
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
SELECT llm.tokenize('x', 'no_such_model');
SELECT llm.token_count('x');
