-- llm.embed: one vector per text, IMMUTABLE and PARALLEL SAFE, from an encoder
-- (tiny-bert: a real bert GGUF with random weights, mean pooling, 256
-- dimensions) or a decoder (stories260K: last-token pooling, 64 dimensions).
-- The values agree with `pg_llm embed` (bin/pg_llm) on the same text.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('emb', 'stories260K.gguf', '{"replace": true}');
SELECT llm.load_model('bert', 'tiny-bert-q8_0.gguf', '{"replace": true}');
SELECT name, arch, embedding_size, context, vocab FROM llm.models WHERE name IN ('emb', 'bert') ORDER BY name;

SELECT p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.oid = 'llm.embed(text, text, boolean)'::regprocedure;

-- the vector has the model's embedding size and, by default, unit length
SELECT array_length(e, 1) AS dim,
       (SELECT embedding_size FROM llm.models WHERE name = 'emb') AS embedding_size,
       round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 4) AS norm
FROM (SELECT llm.embed('Once upon a time', 'emb') AS e) AS t;
SELECT round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 4) <> 1 AS raw_not_unit
FROM (SELECT llm.embed('Once upon a time', 'emb', "normalize" => false) AS e) AS t;
-- the first values, as `pg_llm embed -m tiny-bert-q8_0.gguf "hello world"` prints
-- them (-0.0103263, -0.0250884, -0.0323479, 0.0802444; raw norm 15.3735)
SELECT array_length(e, 1) AS dim,
       (SELECT array_agg(round(x::numeric, 5)) FROM unnest(e[1:4]) AS x) AS first_values,
       round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 4) AS norm
FROM (SELECT llm.embed('hello world', 'bert') AS e) AS t;
SELECT (SELECT array_agg(round(x::numeric, 4)) FROM unnest(e[1:4]) AS x) AS raw_first_values,
       round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 3) AS raw_norm
FROM (SELECT llm.embed('hello world', 'bert', "normalize" => false) AS e) AS t;
-- `pg_llm embed -m stories260K.gguf "Once upon a time"`: 0.0227010, -0.0601706, -0.110585, -0.113832
SELECT (SELECT array_agg(round(x::numeric, 5)) FROM unnest(e[1:4]) AS x) AS decoder_first_values
FROM (SELECT llm.embed('Once upon a time', 'emb') AS e) AS t;
-- "normalize" is a keyword: by name it must be quoted, or pass it by position
SELECT llm.embed('hello world', 'bert', false) = llm.embed('hello world', 'bert', "normalize" => false) AS positional;
SELECT llm.embed('hello world', 'bert', normalize => false);
-- an empty text is embedded too ([CLS] [SEP]); a text beyond the context (128) is truncated
SELECT array_length(llm.embed('', 'bert'), 1) AS empty_dim,
       array_length(llm.embed(repeat('hello world ', 5000), 'bert'), 1) AS long_dim;
-- deterministic, and different texts differ
SELECT llm.embed('Once upon a time', 'emb') = llm.embed('Once upon a time', 'emb') AS same,
       llm.embed('Once upon a time', 'emb') <> llm.embed('Lily and Ben', 'emb') AS differ;
-- the default embedding model, NULL input
SET pg_llm.default_embedding_model = 'emb';
SELECT llm.embed('Once upon a time') = llm.embed('Once upon a time', 'emb') AS default_model;
RESET pg_llm.default_embedding_model;
SELECT llm.embed(NULL, 'emb') IS NULL AS null_input;
-- in a generated column
CREATE TABLE docs (id int, body text, emb real[] GENERATED ALWAYS AS (llm.embed(body, 'emb')) STORED);
INSERT INTO docs VALUES (1, 'Once upon a time'), (2, 'Lily and Ben'), (3, NULL);
SELECT id, array_length(emb, 1) AS dim FROM docs ORDER BY id;
DROP TABLE docs;
-- added to an existing table, then kept up to date by INSERT and UPDATE
CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes VALUES (1, 'hello world'), (2, 'Once upon a time'), (3, NULL);
ALTER TABLE notes ADD COLUMN emb real[] GENERATED ALWAYS AS (llm.embed(body, 'bert')) STORED;
INSERT INTO notes VALUES (4, 'hello world');
UPDATE notes SET body = 'hello world' WHERE id = 2;
SELECT id, array_length(emb, 1) AS dim, emb = llm.embed('hello world', 'bert') AS is_hello
FROM notes ORDER BY id;
-- an expression index, and the planner using it
CREATE INDEX notes_emb_first ON notes (((llm.embed(body, 'bert'))[1]));
SET enable_seqscan = off;
SELECT id FROM notes WHERE (llm.embed(body, 'bert'))[1] = (llm.embed('hello world', 'bert'))[1] ORDER BY id;
RESET enable_seqscan;
DROP TABLE notes;
-- PARALLEL SAFE: parallel workers embed too (they attach the shared model)
CREATE TABLE many AS SELECT i, 'text number ' || i AS body FROM generate_series(1, 200) AS i;
ANALYZE many;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*) FROM many WHERE array_length(llm.embed(body, 'bert'), 1) = 256;
SELECT count(*) AS embedded_in_parallel FROM many WHERE array_length(llm.embed(body, 'bert'), 1) = 256;
SELECT count(DISTINCT llm.embed(body, 'bert')) AS distinct_vectors FROM many;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE many;
-- errors: no default embedding model, unknown model
SELECT llm.embed('x');
SELECT llm.embed('x', 'no_such_model');
SELECT llm.embed('x', '');
