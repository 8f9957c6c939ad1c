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

-- ---- batches ---------------------------------------------------------------

-- PARALLEL RESTRICTED like llm.generate: generation keeps a session and a prefix
-- cache per backend, which a short-lived parallel worker would build and throw
-- away for every query; its parallelism is pg_llm.threads and batching.
CREATE FUNCTION llm.generate_batch(prompts text[], model text DEFAULT NULL,
	max_tokens integer DEFAULT 256, temperature real DEFAULT 0.8,
	top_k integer DEFAULT 40, top_p real DEFAULT 0.95, min_p real DEFAULT 0.05,
	repeat_penalty real DEFAULT 1.0, seed bigint DEFAULT NULL, stop text[] DEFAULT NULL)
	RETURNS text[]
	AS 'MODULE_PATHNAME', 'pg_llm_generate_batch'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.generate_batch(text[], text, integer, real, integer, real, real, real, bigint, text[]) IS
	'continue many prompts at once (decoded together); element i of the result is llm.generate of prompt i';

CREATE FUNCTION llm.embed_batch(inputs text[], model text DEFAULT NULL, "normalize" boolean DEFAULT true,
	OUT ord integer, OUT embedding real[])
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pg_llm_embed_batch'
	LANGUAGE C STABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION llm.embed_batch(text[], text, boolean) IS
	'embeddings of many texts: one row (ord, embedding) per array element, ord counting from 1';

CREATE FUNCTION llm.prefix_cache_stats(
	OUT model text, OUT max_bytes bigint, OUT bytes bigint, OUT tokens bigint,
	OUT entries bigint, OUT lookups bigint, OUT hits bigint, OUT tokens_reused bigint,
	OUT tokens_stored bigint, OUT evictions bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'pg_llm_prefix_cache_stats'
	LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION llm.prefix_cache_stats() IS
	'this session''s prompt-prefix caches (pg_llm.prefix_cache_mb), one row per model';

-- ---- llm.enrich and its jobs -------------------------------------------------

-- One row per llm.enrich call, updated and committed with each batch. Everyone
-- can see every job; rows belong to the role that started them.
CREATE TABLE llm._jobs (
	job_id        bigserial PRIMARY KEY,
	username      name NOT NULL DEFAULT current_user,
	pid           integer NOT NULL DEFAULT pg_backend_pid(),
	relid         oid NOT NULL,
	source        text NOT NULL,
	input_column  text NOT NULL,
	output_column text NOT NULL,
	task          text NOT NULL,
	model         text,
	batch_size    integer NOT NULL,
	rows_done     bigint NOT NULL DEFAULT 0,
	rows_total    bigint NOT NULL,
	batches       bigint NOT NULL DEFAULT 0,
	started       timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated       timestamptz NOT NULL DEFAULT clock_timestamp(),
	state         text NOT NULL DEFAULT 'running'
	              CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
	error         text
);
ALTER TABLE llm._jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY jobs_read ON llm._jobs FOR SELECT USING (true);
CREATE POLICY jobs_insert ON llm._jobs FOR INSERT WITH CHECK (username = current_user);
CREATE POLICY jobs_update ON llm._jobs FOR UPDATE USING (username = current_user);
GRANT SELECT, INSERT, UPDATE ON llm._jobs TO PUBLIC;
GRANT USAGE ON SEQUENCE llm._jobs_job_id_seq TO PUBLIC;

-- A running job holds the session advisory lock (1886153837, job_id): a job
-- still marked running whose lock nobody holds was interrupted (its backend
-- ended, e.g. pg_terminate_backend or a crash).
CREATE VIEW llm.jobs AS
SELECT j.job_id, j.source, j.input_column, j.output_column, j.task, j.model,
       j.rows_done, j.rows_total, j.batches, j.started, j.updated,
       r.rate, CASE WHEN s.state = 'running' AND r.rate > 0
                    THEN make_interval(secs => round((greatest(j.rows_total - j.rows_done, 0) / r.rate)::numeric, 1))
               END AS eta,
       s.state, j.error, j.username, j.pid
FROM llm._jobs j,
     LATERAL (SELECT round((j.rows_done / nullif(extract(epoch FROM j.updated - j.started), 0))::numeric, 1)
                     AS rate) r,
     LATERAL (SELECT CASE WHEN j.state = 'running' AND NOT EXISTS (
                              SELECT 1 FROM pg_catalog.pg_locks l
                              WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                                AND l.classid = 1886153837
                                AND l.objid = (j.job_id & 2147483647)::integer::oid
                                AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                                                  WHERE d.datname = current_database()))
                          THEN 'interrupted' ELSE j.state END AS state) s;
GRANT SELECT ON llm.jobs TO PUBLIC;
COMMENT ON VIEW llm.jobs IS
	'llm.enrich jobs: progress (rows done / total), rate in rows/s, ETA and state';

-- Fill output_column from input_column for every row where it IS NULL, batch by
-- batch, committing after each batch: an interrupted job loses at most one
-- batch, and calling it again carries on. Runs with the caller's rights.
CREATE PROCEDURE llm.enrich(source regclass, input_column text, output_column text,
	task text DEFAULT 'generate', prompt text DEFAULT '{}', model text DEFAULT NULL,
	batch_size integer DEFAULT 32, options jsonb DEFAULT '{}')
	LANGUAGE plpgsql SECURITY INVOKER
AS $enrich$
DECLARE
	job_lock  constant integer := 1886153837;	-- 'pllm': (job_lock, job_id) while a job runs
	target_lock constant integer := 1886153838;	-- (target_lock, hash) while a column is filled
	notice_every constant integer := 10;		-- batches between progress NOTICEs
	gen_keys  constant text[] := ARRAY['max_tokens', 'temperature', 'top_k', 'top_p', 'min_p',
	                                   'repeat_penalty', 'seed', 'stop'];
	emb_keys  constant text[] := ARRAY['normalize'];
	relkind   "char";
	in_type   oid;
	out_type  oid;
	out_gen   "char";
	pk_cols   text[];
	pk_types  text[];
	key       text;
	o_max_tokens integer; o_temperature real; o_top_k integer; o_top_p real; o_min_p real;
	o_repeat real; o_seed bigint; o_stop text[]; o_normalize boolean;
	pk_list   text;
	pk_match  text;
	pk_last   text;
	pk_after  text;
	sql_pick  text;
	sql_first text;
	sql_next  text;
	target_key integer;
	job       bigint;
	total     bigint;
	done      bigint := 0;
	n_batches bigint := 0;
	picked    bigint;
	filled    bigint;
	last_key  text[];
	t0        timestamptz;
	err_state text; err_msg text; err_detail text; err_hint text;
BEGIN
	-- ---- arguments
	IF source IS NULL OR input_column IS NULL OR output_column IS NULL THEN
		RAISE EXCEPTION 'source, input_column and output_column must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	task := coalesce(task, 'generate');
	IF task NOT IN ('generate', 'embed') THEN
		RAISE EXCEPTION 'unknown task "%"', task
			USING ERRCODE = 'invalid_parameter_value', HINT = 'The tasks are ''generate'' and ''embed''.';
	END IF;
	IF batch_size IS NULL OR batch_size < 1 THEN
		RAISE EXCEPTION 'batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	prompt := coalesce(prompt, '{}');
	options := coalesce(options, '{}');
	IF jsonb_typeof(options) <> 'object' THEN
		RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR key IN SELECT jsonb_object_keys(options) LOOP
		IF NOT key = ANY (CASE task WHEN 'generate' THEN gen_keys ELSE emb_keys END) THEN
			RAISE EXCEPTION 'unknown option "%" for task "%"', key, task
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = format('The options of task %L are %s.', task,
				                    array_to_string(CASE task WHEN 'generate' THEN gen_keys ELSE emb_keys END, ', '));
		END IF;
	END LOOP;
	BEGIN
		o_max_tokens := (options ->> 'max_tokens')::integer;
		o_temperature := (options ->> 'temperature')::real;
		o_top_k := (options ->> 'top_k')::integer;
		o_top_p := (options ->> 'top_p')::real;
		o_min_p := (options ->> 'min_p')::real;
		o_repeat := (options ->> 'repeat_penalty')::real;
		o_seed := (options ->> 'seed')::bigint;
		o_normalize := (options ->> 'normalize')::boolean;
		IF jsonb_typeof(options -> 'stop') = 'array' THEN
			o_stop := ARRAY(SELECT jsonb_array_elements_text(options -> 'stop'));
		ELSIF jsonb_typeof(options -> 'stop') NOT IN ('null') THEN
			RAISE EXCEPTION 'option "stop" must be an array of strings';
		END IF;
	EXCEPTION WHEN OTHERS THEN
		RAISE EXCEPTION 'invalid options: %', SQLERRM USING ERRCODE = 'invalid_parameter_value';
	END;

	-- ---- the table, its columns and its primary key
	SELECT c.relkind INTO relkind FROM pg_catalog.pg_class c WHERE c.oid = source;
	IF relkind IS NULL OR relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION '"%" is not a table', source USING ERRCODE = 'wrong_object_type';
	END IF;
	SELECT a.atttypid INTO in_type FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = source AND a.attname = input_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF in_type IS NULL THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', input_column, source
			USING ERRCODE = 'undefined_column';
	END IF;
	SELECT a.atttypid, a.attgenerated INTO out_type, out_gen FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = source AND a.attname = output_column AND a.attnum > 0 AND NOT a.attisdropped;
	IF out_type IS NULL THEN
		RAISE EXCEPTION 'column "%" of relation "%" does not exist', output_column, source
			USING ERRCODE = 'undefined_column';
	END IF;
	IF out_gen <> '' THEN
		RAISE EXCEPTION 'column "%" of relation "%" is a generated column', output_column, source
			USING ERRCODE = 'wrong_object_type';
	END IF;
	IF task = 'generate' AND out_type NOT IN ('text'::regtype, 'varchar'::regtype) THEN
		RAISE EXCEPTION 'column "%" is of type %, but task "generate" writes text',
			output_column, format_type(out_type, NULL)
			USING ERRCODE = 'datatype_mismatch', HINT = 'Use a column of type text.';
	END IF;
	IF task = 'embed' AND out_type <> 'real[]'::regtype
	   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid = out_type AND t.typname = 'vector') THEN
		RAISE EXCEPTION 'column "%" is of type %, but task "embed" writes real[]',
			output_column, format_type(out_type, NULL)
			USING ERRCODE = 'datatype_mismatch', HINT = 'Use a column of type real[] (or pgvector''s vector).';
	END IF;
	SELECT array_agg(a.attname::text ORDER BY k.ord), array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord)
	INTO pk_cols, pk_types
	FROM pg_catalog.pg_index i
	CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
	JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
	WHERE i.indrelid = source AND i.indisprimary;
	IF pk_cols IS NULL THEN
		RAISE EXCEPTION 'table "%" has no primary key', source
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = 'llm.enrich addresses rows by their primary key.',
			      HINT = 'Add one with ALTER TABLE ... ADD PRIMARY KEY.';
	END IF;

	-- ---- options and model checked once before anything is written
	IF task = 'generate' THEN
		PERFORM llm.generate_batch('{}'::text[], model, o_max_tokens, o_temperature, o_top_k, o_top_p,
		                           o_min_p, o_repeat, o_seed, o_stop);
	ELSE
		PERFORM llm.embed_batch('{}'::text[], model, o_normalize);
	END IF;

	-- ---- the batch statement: rows to fill in key order, after the last key done
	SELECT string_agg(format('%I', c), ', '),
	       string_agg(format('t.%I = b.%I', c, c), ' AND '),
	       string_agg(format('b.%I::text', c), ', '),
	       string_agg(format('($1[%s])::%s', i, pk_types[i]), ', ')
	INTO pk_list, pk_match, pk_last, pk_after
	FROM unnest(pk_cols) WITH ORDINALITY AS u(c, i);
	sql_pick := format('SELECT %s, %I AS _pllm_in FROM %s WHERE %I IS NULL AND %I IS NOT NULL',
	                   pk_list, input_column, source, output_column, input_column);
	FOR i IN 1..2 LOOP
		sql_next := format($q$
			WITH b AS MATERIALIZED (
				SELECT %1$s, row_number() OVER (ORDER BY %1$s) AS _pllm_ord,
				       replace($2, '{}', _pllm_in::text) AS _pllm_in
				FROM (%2$s %3$s ORDER BY %1$s LIMIT %4$s FOR UPDATE) s
			), r AS MATERIALIZED (%5$s
			), u AS (
				UPDATE %6$s t SET %7$I = r._pllm_val FROM b JOIN r USING (_pllm_ord)
				WHERE %8$s RETURNING 1
			)
			SELECT (SELECT count(*) FROM b), (SELECT count(*) FROM u),
			       (SELECT ARRAY[%9$s] FROM b ORDER BY _pllm_ord DESC LIMIT 1)$q$,
			pk_list, sql_pick,
			CASE i WHEN 1 THEN '' ELSE format('AND (%s) > (%s)', pk_list, pk_after) END,
			batch_size,
			CASE task
			WHEN 'generate' THEN
				'SELECT g._pllm_ord, g._pllm_val
				 FROM unnest(llm.generate_batch((SELECT array_agg(_pllm_in ORDER BY _pllm_ord) FROM b),
				             $3, $4, $5, $6, $7, $8, $9, $10, $11)) WITH ORDINALITY AS g(_pllm_val, _pllm_ord)'
			ELSE
				'SELECT e.ord AS _pllm_ord, e.embedding AS _pllm_val
				 FROM llm.embed_batch((SELECT array_agg(_pllm_in ORDER BY _pllm_ord) FROM b), $3, $12) e'
			END,
			source, output_column, pk_match, pk_last);
		IF i = 1 THEN
			sql_first := sql_next;
		END IF;
	END LOOP;

	-- ---- a first COMMIT: inside a transaction block this fails (2D000) before any lock is taken
	COMMIT;

	-- ---- one job at a time per column; locks left by an earlier failure of this session go
	target_key := hashtext(source::oid::text || '.' || output_column);
	FOR job IN SELECT j.job_id FROM llm._jobs j WHERE j.pid = pg_backend_pid() AND j.state = 'running' LOOP
		UPDATE llm._jobs SET state = 'interrupted', updated = clock_timestamp() WHERE job_id = job;
	END LOOP;
	WHILE EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
	              WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 2
	                AND (l.classid = job_lock OR (l.classid = target_lock AND l.objid = target_key::oid))) LOOP
		PERFORM pg_advisory_unlock(l.classid::integer, l.objid::integer)
		FROM pg_catalog.pg_locks l
		WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 2
		  AND (l.classid = job_lock OR (l.classid = target_lock AND l.objid = target_key::oid));
	END LOOP;
	IF NOT pg_try_advisory_lock(target_lock, target_key) THEN
		RAISE EXCEPTION 'another llm.enrich is filling column "%" of "%"', output_column, source
			USING ERRCODE = 'lock_not_available', HINT = 'See llm.jobs; wait for it to end.';
	END IF;

	EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL AND %I IS NOT NULL',
	               source, output_column, input_column) INTO total;
	job := nextval('llm._jobs_job_id_seq');
	PERFORM pg_advisory_lock(job_lock, (job & 2147483647)::integer);
	INSERT INTO llm._jobs (job_id, relid, source, input_column, output_column, task, model, batch_size, rows_total)
	VALUES (job, source, source::text, input_column, output_column, task,
	        coalesce(model, nullif(current_setting(CASE task WHEN 'generate' THEN 'pg_llm.default_model'
	                                                ELSE 'pg_llm.default_embedding_model' END), '')),
	        batch_size, total);
	COMMIT;
	t0 := clock_timestamp();

	-- ---- the batches, each in its own transaction
	LOOP
		BEGIN
			EXECUTE CASE WHEN last_key IS NULL THEN sql_first ELSE sql_next END
			INTO picked, filled, last_key
			USING last_key, prompt, model, o_max_tokens, o_temperature, o_top_k, o_top_p, o_min_p,
			      o_repeat, o_seed, o_stop, o_normalize;
		EXCEPTION WHEN OTHERS OR query_canceled THEN
			GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT,
				err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
		END;
		IF err_state IS NOT NULL THEN
			UPDATE llm._jobs SET state = CASE WHEN err_state = '57014' THEN 'interrupted' ELSE 'failed' END,
			       error = err_msg, updated = clock_timestamp()
			WHERE job_id = job;
			COMMIT;
			PERFORM pg_advisory_unlock(job_lock, (job & 2147483647)::integer);
			PERFORM pg_advisory_unlock(target_lock, target_key);
			RAISE EXCEPTION USING ERRCODE = err_state, MESSAGE = err_msg,
				DETAIL = coalesce(err_detail, ''), HINT = coalesce(err_hint, '');
		END IF;
		EXIT WHEN picked = 0;
		done := done + filled;
		n_batches := n_batches + 1;
		UPDATE llm._jobs SET rows_done = done, rows_total = greatest(rows_total, done),
		       batches = n_batches, updated = clock_timestamp()
		WHERE job_id = job;
		COMMIT;
		IF n_batches % notice_every = 0 THEN
			RAISE NOTICE 'llm.enrich job %: % of % rows, % rows/s', job, done, greatest(total, done),
				round((done / greatest(extract(epoch FROM clock_timestamp() - t0), 0.001))::numeric, 1);
		END IF;
	END LOOP;

	UPDATE llm._jobs SET state = 'done', rows_total = rows_done, updated = clock_timestamp()
	WHERE job_id = job;
	COMMIT;
	PERFORM pg_advisory_unlock(job_lock, (job & 2147483647)::integer);
	PERFORM pg_advisory_unlock(target_lock, target_key);
	RAISE NOTICE 'llm.enrich job %: done, % rows filled', job, done;
END
$enrich$;
COMMENT ON PROCEDURE llm.enrich(regclass, text, text, text, text, text, integer, jsonb) IS
	'fill a column from another with llm.generate or llm.embed in committed batches; resumable, progress in llm.jobs';
