#!/usr/bin/env bash
# demo.sh -- `make demo`: start a throwaway cluster with pg_llm preloaded, load
# the bundled 260K-parameter TinyStories model and run the README's example
# queries (generate, tokenize, embed, a batch and an enrich job, the models
# view), then stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/cluster.sh

cluster_start >/dev/null
demo_model=test/data/models/stories260K.gguf
[ -f "$demo_model" ] || demo_model=test/data/regress/stories260K.gguf
cluster_add_model "$demo_model"

run() {
	echo
	echo "pg_llm=# $1"
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -c "$1"
}

run "CREATE EXTENSION pg_llm;"
run "SELECT llm.version();"
run "SELECT llm.load_model('stories', 'stories260K.gguf');"
run "ALTER DATABASE postgres SET pg_llm.default_model = 'stories';   -- each query below is a new session"
run "SELECT llm.generate('Once upon a time', max_tokens => 48, temperature => 0);"
run "SELECT llm.generate('Lily and Ben', max_tokens => 32, temperature => 0.8, seed => 42);"
run "SELECT string_agg(piece, '|') FROM llm.generate_stream('Once upon a time', model => 'stories', max_tokens => 12, temperature => 0) AS piece;"
run "SELECT llm.tokenize('Once upon a time', 'stories');"
run "SELECT llm.detokenize(llm.tokenize('Once upon a time', 'stories'), 'stories');"
run "SELECT llm.token_count('Once upon a time there was a little girl named Lily.', 'stories');"
run "SELECT array_length(e, 1) AS dimension, e[1:4] AS first_values FROM (SELECT llm.embed('Once upon a time', 'stories') AS e) AS t;"
run "CREATE TABLE stories (id int PRIMARY KEY, opening text, emb real[] GENERATED ALWAYS AS (llm.embed(opening, 'stories')) STORED);"
run "INSERT INTO stories VALUES (1, 'Once upon a time'), (2, 'Lily and Ben'), (3, 'The little dog');"
run "SELECT id, opening, llm.generate(opening, max_tokens => 16, temperature => 0) AS continuation, array_length(emb, 1) AS emb_dim FROM stories ORDER BY id;"
run "SELECT llm.generate_batch(ARRAY['Once upon a time', 'Lily and Ben', 'The little dog'], max_tokens => 12, temperature => 0);"
run "ALTER TABLE stories ADD COLUMN continuation text;"
run "CALL llm.enrich('stories', 'opening', 'continuation', prompt => '{} one day', batch_size => 2, options => '{\"max_tokens\": 12, \"temperature\": 0}');"
run "SELECT id, opening, continuation FROM stories ORDER BY id;"
run "SELECT job_id, source, output_column, task, rows_done, rows_total, rate, state FROM llm.jobs;"
run "SELECT name, arch, parameters, tensor_types, context, vocab, embedding_size, bytes, shared, backends, calls, tokens FROM llm.models;"
cluster_stop
echo
echo "demo finished; the throwaway cluster has been removed"
