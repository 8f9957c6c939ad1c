-- pg_llm install script (copied to pg_llm--<version>.sql by the Makefile).
\echo Use "CREATE EXTENSION pg_llm" to load this file. \quit

-- Everyone may use the functions; loading and unloading are revoked below.
GRANT USAGE ON SCHEMA llm TO PUBLIC;

CREATE FUNCTION llm.version() RETURNS text
	AS 'MODULE_PATHNAME', 'pg_llm_version'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION llm.version() IS 'pg_llm version, CPU features, kernels, BLAS and threads in use';

-- Test hook: raise the error an engine failure of the given status maps to.
CREATE FUNCTION llm._raise(status text, message text) RETURNS void
	AS 'MODULE_PATHNAME', 'pg_llm__raise'
	LANGUAGE C STRICT;
REVOKE ALL ON FUNCTION llm._raise(text, text) FROM PUBLIC;

-- ---- models ----------------------------------------------------------------

-- Load a GGUF file (inside pg_llm.model_dir) into shared memory under a name.
CREATE FUNCTION llm.load_model(name text, path text, options jsonb DEFAULT '{}')
	RETURNS void
	AS 'MODULE_PATHNAME', 'pg_llm_load_model'
	LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION llm.load_model(text, text, jsonb) IS
	'load a GGUF model file from pg_llm.model_dir into shared memory under a name';
REVOKE ALL ON FUNCTION llm.load_model(text, text, jsonb) FROM PUBLIC;

CREATE FUNCTION llm.unload_model(name text) RETURNS void
	AS 'MODULE_PATHNAME', 'pg_llm_unload_model'
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION llm.unload_model(text) IS
	'free a model loaded with llm.load_model once no other session uses it';
REVOKE ALL ON FUNCTION llm.unload_model(text) FROM PUBLIC;

CREATE FUNCTION llm._models(
	OUT name text, OUT path text, OUT arch text, OUT parameters bigint,
	OUT tensor_types jsonb, OUT context integer, OUT vocab integer,
	OUT embedding_size integer, OUT bytes bigint, OUT shared boolean,
	OUT backends integer, OUT calls bigint, OUT tokens bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pg_llm_models'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE VIEW llm.models AS SELECT * FROM llm._models();
GRANT SELECT ON llm.models TO PUBLIC;
COMMENT ON VIEW llm.models IS
	'loaded models: architecture, size, sharing, attached sessions and usage counters';

-- ---- generation ------------------------------------------------------------

CREATE FUNCTION llm.generate(prompt text, model text DEFAULT NULL,
	max_tokens integer DEFAULT 256, temperature real DEFAULT 0.8,
	top_k integer DEFAULT 40, top_p real DEFAULT 0.95, min_p real DEFAULT 0.05,
	repeat_penalty real DEFAULT 1.0, seed bigint DEFAULT NULL, stop text[] DEFAULT NULL)
	RETURNS text
	AS 'MODULE_PATHNAME', 'pg_llm_generate'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.generate(text, text, integer, real, integer, real, real, real, bigint, text[]) IS
	'continue a prompt with a language model';

CREATE FUNCTION llm.generate_stream(prompt text, model text DEFAULT NULL,
	max_tokens integer DEFAULT 256, temperature real DEFAULT 0.8,
	top_k integer DEFAULT 40, top_p real DEFAULT 0.95, min_p real DEFAULT 0.05,
	repeat_penalty real DEFAULT 1.0, seed bigint DEFAULT NULL, stop text[] DEFAULT NULL)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'pg_llm_generate_stream'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED ROWS 256;
COMMENT ON FUNCTION llm.generate_stream(text, text, integer, real, integer, real, real, real, bigint, text[]) IS
	'like llm.generate, one row per generated text piece';

CREATE FUNCTION llm.chat(messages jsonb, model text DEFAULT NULL,
	max_tokens integer DEFAULT 256, temperature real DEFAULT 0.8,
	top_k integer DEFAULT 40, top_p real DEFAULT 0.95, min_p real DEFAULT 0.05,
	repeat_penalty real DEFAULT 1.0, seed bigint DEFAULT NULL, stop text[] DEFAULT NULL,
	template text DEFAULT NULL, keep_thinking boolean DEFAULT true)
	RETURNS text
	AS 'MODULE_PATHNAME', 'pg_llm_chat'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.chat(jsonb, text, integer, real, integer, real, real, real, bigint, text[], text, boolean) IS
	'answer a conversation ([{"role": ..., "content": ...}]) with the model''s chat template';

-- ---- tokens ----------------------------------------------------------------

CREATE FUNCTION llm.tokenize(input text, model text DEFAULT NULL) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'pg_llm_tokenize'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.tokenize(text, text) IS 'token ids of a text (with the model''s BOS etc.)';

CREATE FUNCTION llm.detokenize(tokens integer[], model text DEFAULT NULL) RETURNS text
	AS 'MODULE_PATHNAME', 'pg_llm_detokenize'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.detokenize(integer[], text) IS 'text of a sequence of token ids';

CREATE FUNCTION llm.token_count(input text, model text DEFAULT NULL) RETURNS integer
	AS 'MODULE_PATHNAME', 'pg_llm_token_count'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.token_count(text, text) IS 'number of tokens of a text (with the model''s BOS etc.)';

-- ---- embeddings ------------------------------------------------------------

-- NORMALIZE is an SQL keyword: name the argument in double quotes ("normalize" => false).
CREATE FUNCTION llm.embed(input text, model text DEFAULT NULL, "normalize" boolean DEFAULT true)
	RETURNS real[]
	AS 'MODULE_PATHNAME', 'pg_llm_embed'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION llm.embed(text, text, boolean) IS
	'sentence embedding of a text (cast to pgvector''s vector with ::vector)';
