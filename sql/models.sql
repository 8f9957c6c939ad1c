-- Loading models into shared memory: llm.load_model, llm.unload_model, the
-- llm.models view, options, and every error of the loading path.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
-- the test data directory is this session's model directory
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;

-- errors as "SQLSTATE: message", with the temporary directory masked
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '/tmp/pg_llm_regress\.[A-Za-z0-9]+', '$TMP', 'g');
END $$;

-- a relative path is taken relative to pg_llm.model_dir
SELECT llm.load_model('stories', 'stories260K.gguf');
SELECT name, regexp_replace(path, '^.*/', '') AS file, arch, parameters, tensor_types,
       context, vocab, embedding_size, bytes, shared, backends, calls, tokens
FROM llm.models WHERE name LIKE 'stories%';

-- names are unique; replace swaps the model
SELECT pg_temp.try($$SELECT llm.load_model('stories', 'stories260K.gguf')$$);
SELECT llm.load_model('stories', 'stories260K.gguf', '{"replace": true}');
SELECT count(*) AS models FROM llm.models WHERE name LIKE 'stories%';

-- options are checked
SELECT pg_temp.try($$SELECT llm.load_model('x', 'stories260K.gguf', '{"replace": 1}')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'stories260K.gguf', '{"shared": false}')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'stories260K.gguf', '[1, 2]')$$);
SELECT pg_temp.try($$SELECT llm.load_model('', 'stories260K.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model(repeat('x', 64), 'stories260K.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model(NULL, 'stories260K.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', NULL)$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '')$$);

-- files that are not usable models (DESIGN.md's error table)
SELECT pg_temp.try($$SELECT llm.load_model('x', 'missing.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'truncated.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'not_a_model.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'unsupported_arch.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'gguf_v1.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '.')$$);
-- the full message: SQLSTATE, engine text as detail, a hint
\set VERBOSITY verbose
SELECT llm.load_model('x', 'truncated.gguf');
SELECT llm.load_model('x', 'unsupported_arch.gguf');
\set VERBOSITY default

-- confinement to pg_llm.model_dir: absolute paths, "..", symlinks leading out
SELECT pg_temp.try($$SELECT llm.load_model('x', '/etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '../../etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'sub/../../etc/passwd')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', '/nonexistent/dir/model.gguf')$$);
SELECT pg_temp.try($$SELECT llm.load_model('x', 'escape.gguf')$$);
-- an absolute path inside the directory is fine, and so is ".." that stays inside
SELECT llm.load_model('stories2', :'abs_srcdir' || '/data/stories260K.gguf');
SELECT llm.load_model('stories3', '../data/./stories260K.gguf');
SELECT name, shared, backends FROM llm.models WHERE name LIKE 'stories%' ORDER BY name;

-- unloading
SELECT llm.unload_model('stories2');
SELECT llm.unload_model('stories3');
SELECT pg_temp.try($$SELECT llm.unload_model('stories2')$$);
SELECT llm.unload_model(NULL) IS NULL AS strict_null;
SELECT name FROM llm.models WHERE name LIKE 'stories%' ORDER BY name;

-- without pg_llm.model_dir nothing can be loaded
SET pg_llm.model_dir = '';
SELECT pg_temp.try($$SELECT llm.load_model('x', 'stories260K.gguf')$$);
RESET pg_llm.model_dir;
