#!/usr/bin/env bash
# robust.sh -- a demanding user's inputs: no backend crashes on bad input, and
# engine memory is freed on error paths (a session's resident memory stays flat
# over hundreds of failing calls: prompts beyond the context, cancelled
# generations, bad options, unknown models, huge inputs).
set -u
. "$(dirname "$0")/helpers.bash"

add_model "$STORIES"
q -c "CREATE EXTENSION IF NOT EXISTS pg_llm" 2>/dev/null
q -c "SELECT llm.load_model('rob', 'stories260K.gguf', '{\"replace\": true}')" >/dev/null ||
	{ notok "load the model for the robustness tests"; exit 0; }
crashes_before=$(grep -c 'terminated by signal\|was terminated by' "$CLUSTER_DIR/server.log" 2>/dev/null)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RSS="SELECT 'rss ' || (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]"
# One round of failing calls (each an ERROR); every one must leave nothing behind.
round() {
	cat <<'SQL'
SELECT llm.generate(repeat('Once upon a time ', 1000), model => 'rob');
SET pg_llm.context_length = 8;
SELECT llm.generate('Once upon a time there was a little girl', model => 'rob');
RESET pg_llm.context_length;
SET statement_timeout = '30ms';
SELECT count(llm.generate('Once upon a time', model => 'rob', max_tokens => 400, temperature => 1, seed => i)) FROM generate_series(1, 1000) AS i;
RESET statement_timeout;
SELECT llm.generate('x', model => 'rob', top_p => 2);
SELECT llm.generate('x', model => 'nope');
SELECT llm.chat('[{"role": "user", "content": "x"}]', model => 'rob', template => 'nope');
SELECT llm.chat('[{"role": "user", "content": "Once upon a time"}]', model => 'rob', template => 'chatml', max_tokens => 4, temperature => 0, stop => ARRAY['a', NULL]);
SELECT llm.detokenize('{1,99999}', 'rob');
SELECT llm.embed(repeat('word ', 20000), 'nope');
SELECT * FROM llm.generate_stream(repeat('y', 100000), model => 'rob');
SQL
}
{
	echo "SELECT pg_backend_pid();"
	for _ in $(seq 1 20); do round; done		# warm up: caches, sessions, catalogs
	echo "$RSS;"
	for _ in $(seq 1 200); do round; done
	echo "$RSS;"
	echo "SELECT llm.generate('Once upon a time', model => 'rob', max_tokens => 8, temperature => 0);"
} >"$tmp/rounds.sql"
t0=$(now_ms)
q -f "$tmp/rounds.sql" >"$tmp/out" 2>"$tmp/err"
echo "# 220 rounds of 10 failing calls took $(( $(now_ms) - t0 )) ms"
errors=$(grep -c '^psql:.*ERROR:' "$tmp/err")
is "every failing call raised an ERROR (220 x 10)" "$errors" "2200"
check "the cancelled generations report 57014" grep -q 'canceling statement due to statement timeout' "$tmp/err"
before=$(grep '^rss ' "$tmp/out" | sed -n 1p | cut -d' ' -f2)
after=$(grep '^rss ' "$tmp/out" | sed -n 2p | cut -d' ' -f2)
if [[ "$before" =~ ^[0-9]+$ && "$after" =~ ^[0-9]+$ ]]; then
	echo "# backend RSS: $before kB after warm-up, $after kB after 200 more rounds"
	check "backend memory is flat over 2200 failing calls (grew $((after - before)) kB < 2048 kB)" \
		test $((after - before)) -lt 2048
else
	notok "backend memory is flat over failing calls" "$(head -c 300 "$tmp/out")"
fi
is "the session still generates after all that" "$(tail -n 1 "$tmp/out")" ", there was a little girl"

# odd inputs that must not crash anything (errors are fine)
{
	echo "SELECT llm.generate('', model => 'rob', max_tokens => 1, temperature => 0) IS NOT NULL;"
	echo "SELECT llm.generate(E'\\\\x01\\\\x02', model => 'rob', max_tokens => 2, temperature => 0) IS NOT NULL;"
	echo "SELECT llm.generate('Once', model => 'rob', max_tokens => 2147483647, temperature => 100, top_k => 2147483647, top_p => 1e-30, min_p => 0, repeat_penalty => 100, seed => -9223372036854775808) IS NOT NULL;"
	echo "SELECT llm.tokenize(repeat('日本語', 300000), 'rob') IS NOT NULL;"
	echo "SELECT llm.detokenize(array_fill(233, ARRAY[100000]), 'rob') IS NOT NULL;"
	echo "SELECT llm.detokenize('[5:6]={403,407}'::int[], 'rob') IS NOT NULL;"
	echo "SELECT llm.embed(repeat('x', 1000000), 'rob') IS NOT NULL;"
	echo "SELECT llm.embed('', 'rob') IS NOT NULL;"
	echo "SELECT llm.chat('[{\"role\": \"user\", \"content\": \"\"}]', model => 'rob', template => 'llama3', max_tokens => 2) IS NOT NULL;"
	echo "SELECT llm.chat(jsonb_build_array(jsonb_build_object('role', 'user', 'content', repeat('a', 100000))), model => 'rob', template => 'gemma', max_tokens => 2) IS NOT NULL;"
	echo "SELECT llm.generate('x', model => repeat('m', 10000)) IS NOT NULL;"
	echo "SELECT llm.load_model(repeat('m', 10000), 'stories260K.gguf');"
	echo "SELECT llm.load_model('z', repeat('a/', 5000));"
	echo "SELECT llm.unload_model('');"
	echo "SELECT 'alive';"
} >"$tmp/odd.sql"
q -f "$tmp/odd.sql" >"$tmp/odd.out" 2>"$tmp/odd.err"
is "odd inputs: the session survives them all" "$(tail -n 1 "$tmp/odd.out")" "alive"
echo "# odd inputs: $(grep -c 'ERROR:' "$tmp/odd.err") raised an ERROR (expected: over-long prompt, name and path checks)"
crashes_after=$(grep -c 'terminated by signal\|was terminated by' "$CLUSTER_DIR/server.log" 2>/dev/null)
is "no backend crashed (server log)" "$crashes_after" "$crashes_before"
exit 0
