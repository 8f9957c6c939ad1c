-- llm.embed: one vector per text, IMMUTABLE and PARALLEL SAFE.
CREATE EXTENSION IF NOT EXISTS pg_llm;
\getenv abs_srcdir PG_ABS_SRCDIR
SELECT set_config('pg_llm.model_dir', :'abs_srcdir' || '/data', false) IS NOT NULL AS model_dir_set;
SELECT llm.load_model('emb', 'stories260K.gguf', '{"replace": true}');

SELECT p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.oid = 'llm.embed(text, text, boolean)'::regprocedure;

-- the vector has the model's embedding size and, by default, unit length
SELECT array_length(e, 1) AS dim,
       (SELECT embedding_size FROM llm.models WHERE name = 'emb') AS embedding_size,
       round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 4) AS norm
FROM (SELECT llm.embed('Once upon a time', 'emb') AS e) AS t;
SELECT round(sqrt((SELECT sum(x * x) FROM unnest(e) AS x))::numeric, 4) <> 1 AS raw_not_unit
FROM (SELECT llm.embed('Once upon a time', 'emb', "normalize" => false) AS e) AS t;
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
-- errors: no default embedding model, unknown model
SELECT llm.embed('x');
SELECT llm.embed('x', 'no_such_model');
