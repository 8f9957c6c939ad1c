-- DESIGN.md's error table, row by row, each provoked for real and shown whole
-- (SQLSTATE, message, DETAIL, HINT). errors.sql pins the mapping itself.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('et', 'stories260K.gguf', '{"replace": true}');

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
	IF det <> '' THEN
		RETURN NEXT 'DETAIL: ' || replace(det, current_setting('pg_llm.model_dir'), '$MODEL_DIR');
	END IF;
	IF hnt <> '' THEN RETURN NEXT 'HINT: ' || hnt; END IF;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

-- IO: missing or unreadable file -> the OS error's SQLSTATE (58P01)
SELECT pg_temp.err($$SELECT llm.load_model('x', 'missing.gguf')$$);
-- FORMAT: corrupt or truncated GGUF -> 22P03
SELECT pg_temp.err($$SELECT llm.load_model('x', 'truncated.gguf')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'not_a_model.gguf')$$);
-- UNSUPPORTED: GGUF v1, architecture, tensor type -> 0A000
SELECT pg_temp.err($$SELECT llm.load_model('x', 'gguf_v1.gguf')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'unsupported_arch.gguf')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'unsupported_type.gguf')$$);
-- NOMEM -> 53200 (not provoked here: the mapping through the test hook)
SELECT pg_temp.err($$SELECT llm._raise('out of memory', 'could not allocate 1 GB for the KV cache')$$);
-- INVALID_ARG and bad option values -> 22023
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'et', max_tokens => -1)$$);
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'et', temperature => -0.5)$$);
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'et', top_p => 1.01)$$);
SELECT pg_temp.err($$SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'et', template => 'vicuna')$$);
SELECT pg_temp.err($$SELECT llm.chat('{"messages": []}', model => 'et', template => 'chatml')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'stories260K.gguf', '{"replace": "yes"}')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'stories260K.gguf', '{"threads": 4}')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', 'stories260K.gguf', '"replace"')$$);
SELECT pg_temp.err($$SELECT llm.detokenize('{100000}', 'et')$$);
-- LIMIT: a prompt longer than the context -> 54000
SET pg_llm.context_length = 8;
SELECT pg_temp.err($$SELECT llm.generate('Once upon a time there was a little girl named Lily', model => 'et')$$);
RESET pg_llm.context_length;
-- unknown model name -> 42704
SELECT pg_temp.err($$SELECT llm.generate('x', model => 'nonexistent')$$);
SELECT pg_temp.err($$SELECT llm.embed('x', 'nonexistent')$$);
SELECT pg_temp.err($$SELECT llm.tokenize('x', 'nonexistent')$$);
SELECT pg_temp.err($$SELECT llm.unload_model('nonexistent')$$);
-- path outside pg_llm.model_dir -> 42501
SELECT pg_temp.err($$SELECT llm.load_model('x', '/etc/passwd')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', '../../../etc/passwd')$$);
-- not allowed to load (a role without the grant) -> 42501
CREATE ROLE pllm_no_grant;
SET ROLE pllm_no_grant;
SELECT pg_temp.err($$SELECT llm.load_model('x', 'stories260K.gguf')$$);
SELECT pg_temp.err($$SELECT llm.unload_model('et')$$);
RESET ROLE;
DROP ROLE pllm_no_grant;
-- CANCELLED: statement_timeout (or pg_cancel_backend) -> 57014, the session goes on
SET statement_timeout = '100ms';
SELECT pg_temp.err($$SELECT count(llm.generate('Once upon a time', model => 'et', max_tokens => 500, temperature => 1, seed => i))
                    FROM generate_series(1, 100000) AS i$$);
RESET statement_timeout;
SELECT llm.generate('Once upon a time', model => 'et', max_tokens => 4, temperature => 0) AS still_usable;
-- NULL inputs: NULL text gives NULL; NULL options take their defaults; NULL
-- name or path of llm.load_model -> 22004; llm.unload_model is STRICT
SELECT llm.generate(NULL, model => 'et') IS NULL AS gen, llm.embed(NULL, 'et') IS NULL AS emb,
       llm.tokenize(NULL, 'et') IS NULL AS tok, llm.chat(NULL, model => 'et') IS NULL AS chat;
SELECT llm.generate('Once upon a time', model => 'et', max_tokens => NULL, temperature => 0) =
       llm.generate('Once upon a time', model => 'et', max_tokens => 256, temperature => 0) AS null_max_tokens;
SELECT pg_temp.err($$SELECT llm.load_model(NULL, 'stories260K.gguf')$$);
SELECT pg_temp.err($$SELECT llm.load_model('x', NULL)$$);
SELECT llm.unload_model(NULL) IS NULL AS unload_strict;
-- llm.load_model with NULL options loads with the defaults
SELECT llm.load_model('et_null_opts', 'stories260K.gguf', NULL);
SELECT llm.unload_model('et_null_opts');
SELECT llm.unload_model('et');
