-- The one mapping from engine failures to SQLSTATEs (DESIGN.md "Error mapping").
CREATE EXTENSION IF NOT EXISTS pg_llm;

CREATE FUNCTION pg_temp.sqlstate_of(status text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM llm._raise(status, 'engine text');
	RETURN 'no error';
EXCEPTION
	WHEN query_canceled THEN	-- not covered by OTHERS
		RETURN SQLSTATE;
	WHEN OTHERS THEN
		RETURN SQLSTATE;
END $$;

SELECT status, pg_temp.sqlstate_of(status) AS sqlstate
FROM unnest(ARRAY['io', 'format', 'unsupported', 'out of memory', 'invalid argument',
                  'limit exceeded', 'cancelled', 'internal']) AS status;

-- message, engine text as detail, and a hint
\set VERBOSITY default
SELECT llm._raise('format', 'tensor "blk.0.attn_q.weight": data runs past the end of the file');
SELECT llm._raise('limit exceeded', 'prompt of 600 tokens exceeds the context of 512');
SELECT llm._raise('io', 'could not open "/nonexistent.gguf"');
SELECT llm._raise('no such status', 'x');
-- the test hook is not for everyone
SELECT has_function_privilege('public', 'llm._raise(text, text)', 'EXECUTE') AS public_can_raise;
