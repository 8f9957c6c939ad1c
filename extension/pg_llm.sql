-- pg_llm install script (copied to pg_llm--<version>.sql by the Makefile).
\echo Use "CREATE EXTENSION pg_llm" to load this file. \quit

CREATE FUNCTION llm.version() RETURNS text
	AS 'MODULE_PATHNAME', 'pg_llm_version'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION llm.version() IS 'pg_llm version, CPU features, kernels, BLAS and threads in use';

-- Test hook: raise the error an engine failure of the given status maps to.
CREATE FUNCTION llm._raise(status text, message text) RETURNS void
	AS 'MODULE_PATHNAME', 'pg_llm__raise'
	LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION llm._raise(text, text) FROM PUBLIC;
