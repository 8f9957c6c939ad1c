-- Who may load what: load/unload are revoked from PUBLIC, pg_llm.model_dir is
-- for superusers, and a granted role is still confined to the model directory.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '/tmp/pg_llm_regress\.[A-Za-z0-9]+', '$TMP', 'g');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
FROM pg_proc p WHERE p.pronamespace = 'llm'::regnamespace ORDER BY 1, 2;

CREATE ROLE pllm_user;
CREATE ROLE pllm_loader;
GRANT EXECUTE ON FUNCTION llm.load_model(text, text, jsonb), llm.unload_model(text) TO pllm_loader;

-- an ordinary role can use models but not load or unload them
SELECT llm.load_model('priv', 'stories260K.gguf');
SET ROLE pllm_user;
SELECT pg_temp.try($$SELECT llm.load_model('x', 'stories260K.gguf')$$);
SELECT pg_temp.try($$SELECT llm.unload_model('priv')$$);
SELECT pg_temp.try($$SET pg_llm.model_dir = '/'$$);
SELECT name, shared FROM llm.models WHERE name = 'priv';
RESET ROLE;

-- a role granted load_model may load from the model directory only
SET ROLE pllm_loader;
SELECT pg_temp.try($$SELECT llm.load_model('loader', 'stories260K.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '/etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '../../../../../../etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'escape.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '/proc/self/environ')$$);
SELECT pg_temp.try($$SET pg_llm.model_dir = '/etc'$$);
SELECT pg_temp.try($$SELECT llm.unload_model('loader')$$);
RESET ROLE;

SELECT llm.unload_model('priv');
DROP ROLE pllm_user;
REVOKE ALL ON FUNCTION llm.load_model(text, text, jsonb), llm.unload_model(text) FROM pllm_loader;
DROP ROLE pllm_loader;
