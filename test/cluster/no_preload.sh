#!/usr/bin/env bash
# no_preload.sh -- without shared_preload_libraries there is no registry: a
# model is mapped by the session that loads it, with a NOTICE saying how to
# share it, and other sessions do not see it.
set -u
. "$(dirname "$0")/helpers.bash"

(
cluster_start "shared_preload_libraries = ''" || { notok "start a cluster without preloading"; exit 0; }
add_model "$STORIES"
q -c "CREATE EXTENSION pg_llm"
out=$(q -c "SELECT llm.load_model('own', 'stories260K.gguf')" \
        -c "SELECT name || ' ' || shared FROM llm.models" \
        -c "SELECT length(llm.generate('Once upon a time', model => 'own', max_tokens => 16, temperature => 0)) > 0" 2>&1)
check "loading says the model is private and how to share it" \
	grep -q "NOTICE:  model \"own\" is mapped by this session only" <<<"$out"
check "the NOTICE's hint names shared_preload_libraries" grep -q "HINT:  Set shared_preload_libraries = 'pg_llm'" <<<"$out"
check "llm.models shows it as not shared" grep -qx "own false" <<<"$out"
check "the session generates with it" grep -qx "t" <<<"$out"
check "another session does not see it (42704)" \
	grep -q 'model "own" does not exist' <<<"$(q -c "SELECT llm.generate('x', model => 'own')" 2>&1)"
check "the same model name can be loaded again in another session" \
	q -c "SELECT llm.load_model('own', 'stories260K.gguf')" -c "SELECT llm.unload_model('own')"
exit 0
)
exit 0
