-- Batches: llm.generate_batch equals llm.generate per prompt (greedy and
-- seeded), llm.embed_batch equals llm.embed per input, the prompt-prefix cache
-- changes speed only, CALL llm.enrich fills a column in committed batches and
-- shows its progress in llm.jobs, and a parallel plan with llm.embed gives the
-- serial plan's results.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('gen', 'stories260K.gguf', '{"replace": true}');
SELECT llm.load_model('bert', 'tiny-bert-q8_0.gguf', '{"replace": true}');

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

SELECT p.proname, p.provolatile, p.proparallel, p.proretset
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'llm' AND p.proname IN ('generate', 'generate_batch', 'embed', 'embed_batch', 'enrich')
ORDER BY p.proname;

-- ---- llm.generate_batch ------------------------------------------------------
CREATE TEMP TABLE prompts (i int, prompt text);
INSERT INTO prompts VALUES (1, 'Once upon a time'), (2, 'Lily and Ben'), (3, NULL), (4, ''),
	(5, 'The little dog ran to the park and'), (6, 'Once upon a time'), (7, 'Tom had a big red ball.');
-- greedy: element i is llm.generate of prompt i (NULL stays NULL)
SELECT b.out IS NOT DISTINCT FROM llm.generate(p.prompt, 'gen', max_tokens => 24, temperature => 0) AS same,
       p.i, b.out
FROM prompts p,
     LATERAL (SELECT (llm.generate_batch((SELECT array_agg(prompt ORDER BY i) FROM prompts), 'gen',
                                         max_tokens => 24, temperature => 0))[p.i] AS out) b
ORDER BY p.i;
-- one call for all of them, compared as arrays
SELECT llm.generate_batch(array_agg(prompt ORDER BY i), 'gen', max_tokens => 24, temperature => 0) =
       array_agg(llm.generate(prompt, 'gen', max_tokens => 24, temperature => 0) ORDER BY i) AS batch_equals_single
FROM prompts;
-- seeded sampling and stop strings: the same as separate calls with that seed
SELECT llm.generate_batch(array_agg(prompt ORDER BY i), 'gen', max_tokens => 24, temperature => 1, seed => 42,
                          stop => ARRAY['.']) =
       array_agg(llm.generate(prompt, 'gen', max_tokens => 24, temperature => 1, seed => 42, stop => ARRAY['.'])
                 ORDER BY i) AS seeded_equals_single
FROM prompts;
-- bounds are kept; empty and NULL arrays
SELECT llm.generate_batch('[0:1]={"Once upon a time","Lily and Ben"}', 'gen', max_tokens => 4, temperature => 0) AS zero_based;
SELECT llm.generate_batch('{}', 'gen') AS empty, llm.generate_batch(NULL, 'gen') IS NULL AS null_array,
       llm.generate_batch('{NULL,NULL}', 'gen') AS all_null;
-- errors: options are checked as for llm.generate, even for an empty array
SELECT pg_temp.err($$SELECT llm.generate_batch('{}', 'gen', top_p => 2)$$);
SELECT pg_temp.err($$SELECT llm.generate_batch('{}', 'no_such_model')$$);
SELECT pg_temp.err($$SELECT llm.generate_batch('{{a},{b}}', 'gen')$$);
SELECT pg_temp.err($$SELECT llm.generate_batch(ARRAY['a', repeat('Once upon a time ', 600)], 'gen')$$);
SELECT pg_temp.err($$SELECT llm.generate_batch(ARRAY['a'], 'bert')$$);

-- ---- the prompt-prefix cache -------------------------------------------------
SHOW pg_llm.prefix_cache_mb;
CREATE TEMP TABLE shared_prefix AS
SELECT i, repeat('Once upon a time there was a little girl named Lily. ', 8) || 'Story ' || i || ':' AS prompt
FROM generate_series(1, 12) AS i;
SET pg_llm.prefix_cache_mb = 0;
CREATE TEMP TABLE without_cache AS
SELECT i, llm.generate(prompt, 'gen', max_tokens => 12, temperature => 0) AS out FROM shared_prefix;
SELECT count(*) AS cache_rows_when_off FROM llm.prefix_cache_stats() WHERE model = 'gen';
SET pg_llm.prefix_cache_mb = '8MB';
CREATE TEMP TABLE with_cache AS
SELECT i, llm.generate(prompt, 'gen', max_tokens => 12, temperature => 0) AS out FROM shared_prefix;
SELECT count(*) AS rows, count(*) FILTER (WHERE w.out = c.out) AS identical
FROM without_cache w JOIN with_cache c USING (i);
-- the 11 prompts after the first reuse its prefix (at least the 8 repeated sentences)
SELECT max_bytes, hits >= 11 AS reused, tokens_reused >= 11 * 90 AS many_tokens_reused, bytes <= max_bytes AS bounded
FROM llm.prefix_cache_stats() WHERE model = 'gen';
-- a tiny cache stays within its bound by evicting
SET pg_llm.prefix_cache_mb = 1;
SELECT count(DISTINCT llm.generate(i || repeat(' Tom ran and ran.', 40), 'gen', max_tokens => 2, temperature => 0)) > 0 AS ran
FROM generate_series(1, 12) AS i;
SELECT max_bytes, bytes <= max_bytes AS bounded, evictions > 0 AS evicted FROM llm.prefix_cache_stats() WHERE model = 'gen';
RESET pg_llm.prefix_cache_mb;

-- ---- llm.embed_batch ---------------------------------------------------------
SELECT e.ord, e.embedding IS NULL AS is_null, array_length(e.embedding, 1) AS dim,
       e.embedding IS NOT DISTINCT FROM llm.embed(x.input, 'gen') AS same_as_embed
FROM llm.embed_batch(ARRAY['Once upon a time', NULL, '', 'Lily and Ben', 'Once upon a time'], 'gen') AS e,
     LATERAL (SELECT (ARRAY['Once upon a time', NULL, '', 'Lily and Ben', 'Once upon a time'])[e.ord] AS input) AS x
ORDER BY e.ord;
-- 70 inputs (two engine calls: 64 + 6): every vector equals llm.embed's, raw or normalised
SELECT count(*) AS rows,
       count(*) FILTER (WHERE e.embedding = llm.embed('text number ' || e.ord, 'gen')) AS same_normalized
FROM llm.embed_batch(ARRAY(SELECT 'text number ' || i FROM generate_series(1, 70) AS i), 'gen') AS e;
SELECT count(*) FILTER (WHERE e.embedding = llm.embed('text number ' || e.ord, 'gen', false)) AS same_raw
FROM llm.embed_batch(ARRAY(SELECT 'text number ' || i FROM generate_series(1, 70) AS i), 'gen', false) AS e;
-- the bert model: Q8_0 vectors of a batch agree with single ones to about 1e-5
SELECT count(*) AS rows,
       max((SELECT max(abs(a - b)) FROM unnest(e.embedding, llm.embed('text number ' || e.ord, 'bert')) AS u(a, b))) < 1e-2
       AS close
FROM llm.embed_batch(ARRAY(SELECT 'text number ' || i FROM generate_series(1, 20) AS i), 'bert') AS e;
SELECT count(*) AS no_rows FROM llm.embed_batch(NULL, 'gen');
SELECT count(*) AS no_rows FROM llm.embed_batch('{}', 'gen');
SELECT pg_temp.err($$SELECT * FROM llm.embed_batch('{}', 'no_such_model')$$);
SELECT pg_temp.err($$SELECT * FROM llm.embed_batch('{{a},{b}}', 'gen')$$);

-- ---- CALL llm.enrich ---------------------------------------------------------
CREATE TABLE tickets (id int PRIMARY KEY, body text, summary text, emb real[]);
INSERT INTO tickets SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'Tom and the ball number ' || i END
FROM generate_series(1, 45) AS i;
SET client_min_messages = warning;		-- the NOTICEs carry job ids and rates
CALL llm.enrich('tickets', 'body', 'summary', prompt => 'Once upon a time, {}', model => 'gen',
                batch_size => 8, options => '{"max_tokens": 10, "temperature": 0}');
CALL llm.enrich('tickets', 'body', 'emb', task => 'embed', model => 'gen', batch_size => 16);
RESET client_min_messages;
SELECT count(*) AS rows, count(summary) AS summaries, count(emb) AS embeddings,
       count(*) FILTER (WHERE body IS NULL AND summary IS NULL AND emb IS NULL) AS null_inputs_left_null,
       count(*) FILTER (WHERE summary = llm.generate('Once upon a time, ' || body, 'gen', max_tokens => 10, temperature => 0))
       AS summaries_equal_generate,
       count(*) FILTER (WHERE emb = llm.embed(body, 'gen')) AS embeddings_equal_embed
FROM tickets;
SELECT source, input_column, output_column, task, model, rows_done, rows_total, state, error,
       rate > 0 AS has_rate, eta IS NULL AS no_eta, updated >= started AS times
FROM llm.jobs ORDER BY job_id;
-- a second call finds nothing left to do
SET client_min_messages = warning;
CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', options => '{"max_tokens": 10, "temperature": 0}');
RESET client_min_messages;
SELECT rows_done, rows_total, state FROM llm.jobs ORDER BY job_id DESC LIMIT 1;
-- rows cleared again are filled again, and only they
UPDATE tickets SET summary = NULL WHERE id IN (3, 17);
UPDATE tickets SET summary = 'kept' WHERE id = 4;
SET client_min_messages = warning;
CALL llm.enrich('tickets', 'body', 'summary', prompt => 'Once upon a time, {}', model => 'gen',
                options => '{"max_tokens": 10, "temperature": 0}');
RESET client_min_messages;
SELECT id, summary = llm.generate('Once upon a time, ' || body, 'gen', max_tokens => 10, temperature => 0) AS refilled
FROM tickets WHERE id IN (3, 4, 17) ORDER BY id;
SELECT rows_done, rows_total, state FROM llm.jobs ORDER BY job_id DESC LIMIT 1;

-- quoted names, a composite primary key whose first column is the input, a varchar output
CREATE TABLE "Odd Table" ("the text" text, "n""o" int, "Out" varchar, PRIMARY KEY ("the text", "n""o"));
INSERT INTO "Odd Table" SELECT 'Lily ' || (i % 3), i, NULL FROM generate_series(1, 7) AS i;
SET client_min_messages = warning;
CALL llm.enrich('"Odd Table"', 'the text', 'Out', model => 'gen', batch_size => 2,
                options => '{"max_tokens": 3, "temperature": 0, "stop": ["."]}');
RESET client_min_messages;
SELECT "the text", "n""o", "Out" = llm.generate("the text", 'gen', max_tokens => 3, temperature => 0, stop => ARRAY['.']) AS same
FROM "Odd Table" ORDER BY 1, 2;
SELECT source, input_column, output_column, rows_done, batches, state FROM llm.jobs ORDER BY job_id DESC LIMIT 1;

-- errors: checked before anything runs
CREATE TABLE no_pk (body text, out text);
SELECT pg_temp.err($$CALL llm.enrich('no_pk', 'body', 'out', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', task => 'classify', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', options => '{"max_token": 5}')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'emb', task => 'embed', model => 'gen', options => '{"temperature": 0}')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', options => '{"top_p": 2}')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', options => '{"max_tokens": "many"}')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', options => '[1]')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'emb', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', task => 'embed', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'nope', 'summary', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'nope', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'no_such_model')$$);
SELECT pg_temp.err($$CALL llm.enrich('tickets', 'body', 'summary', model => 'gen', batch_size => 0)$$);
SELECT pg_temp.err($$CALL llm.enrich('pg_class', 'relname', 'relname', model => 'gen')$$);
SELECT pg_temp.err($$CALL llm.enrich('no_such_table', 'a', 'b')$$);
-- inside a transaction block it cannot commit its batches
\set VERBOSITY terse
BEGIN;
CALL llm.enrich('tickets', 'body', 'summary', model => 'gen');
ROLLBACK;
\set VERBOSITY default
SELECT count(*) AS advisory_locks_left FROM pg_locks WHERE locktype = 'advisory';
DROP TABLE tickets, "Odd Table", no_pk;

-- ---- parallel query ----------------------------------------------------------
-- llm.embed is PARALLEL SAFE: workers attach the shared model and embed their
-- part of the table; the results equal the serial plan's.
CREATE TABLE par AS SELECT i, 'text number ' || i AS body FROM generate_series(1, 60) AS i;
ANALYZE par;
ALTER TABLE par SET (parallel_workers = 2);
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_result AS SELECT i, llm.embed(body, 'bert') AS e FROM par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT i, llm.embed(body, 'bert') FROM par;
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
		IF line ~ 'Workers Launched' THEN RETURN trim(line); END IF;
	END LOOP;
	RETURN 'no Gather';
END $$;
SELECT pg_temp.workers_launched($$SELECT i, llm.embed(body, 'bert') FROM par$$);
CREATE TEMP TABLE parallel_result AS SELECT i, llm.embed(body, 'bert') AS e FROM par;
SELECT count(*) AS rows, count(*) FILTER (WHERE s.e = p.e) AS equal
FROM serial_result s JOIN parallel_result p USING (i);
SELECT count(*) AS rows, count(*) FILTER (WHERE s.e = x.e) AS equal
FROM serial_result s JOIN (SELECT i, llm.embed(body, 'bert') AS e FROM par) x USING (i);
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE par;
