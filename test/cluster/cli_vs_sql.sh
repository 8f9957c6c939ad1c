#!/usr/bin/env bash
# cli_vs_sql.sh -- the standalone CLI and SQL run the same engine: for the same
# model and settings, bin/pg_llm's output equals llm.generate's (greedy and
# seeded sampling, with stop strings), and the same holds for tokenize and embed.
set -u
. "$(dirname "$0")/helpers.bash"

CLI=$REPO/bin/pg_llm
[ -x "$CLI" ] || { notok "bin/pg_llm is built"; exit 0; }
add_model "$STORIES"
q -c "CREATE EXTENSION IF NOT EXISTS pg_llm" 2>/dev/null
q -c "SELECT llm.load_model('cli', 'stories260K.gguf', '{\"replace\": true}')" >/dev/null ||
	{ notok "load the model for the CLI comparison"; exit 0; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compare DESC SQL CLI-ARGS...: the text of llm.generate(...) vs `pg_llm generate`
compare() {
	local desc=$1 sql=$2
	shift 2
	# psql prints the value then a newline; the CLI ends its text with one too
	q -c "$sql" >"$tmp/sql" 2>&1
	"$CLI" generate -m "$STORIES" "$@" >"$tmp/cli" 2>"$tmp/cli.err"
	if [ -s "$tmp/cli" ] && cmp -s "$tmp/sql" "$tmp/cli"; then
		ok "$desc"
	else
		notok "$desc" "sql [$(head -c 200 "$tmp/sql")] cli [$(head -c 200 "$tmp/cli")] $(head -c 200 "$tmp/cli.err")"
	fi
}

compare "greedy, 64 tokens: CLI = SQL" \
	"SELECT llm.generate('Once upon a time', model => 'cli', max_tokens => 64, temperature => 0)" \
	-p "Once upon a time" -n 64 --temp 0
compare "greedy, 256 tokens (llama2.c's reference length): CLI = SQL" \
	"SELECT llm.generate('Once upon a time', model => 'cli', max_tokens => 256, temperature => 0)" \
	-p "Once upon a time" -n 256 --temp 0
compare "sampled with a seed and every option: CLI = SQL" \
	"SELECT llm.generate('Lily and Ben', model => 'cli', max_tokens => 48, temperature => 0.9, top_k => 20, top_p => 0.9, min_p => 0.02, repeat_penalty => 1.1, seed => 1234)" \
	-p "Lily and Ben" -n 48 --temp 0.9 --top-k 20 --top-p 0.9 --min-p 0.02 --repeat-penalty 1.1 --seed 1234
compare "a stop string: CLI = SQL" \
	"SELECT llm.generate('Once upon a time', model => 'cli', max_tokens => 64, temperature => 0, stop => ARRAY['park'])" \
	-p "Once upon a time" -n 64 --temp 0 --stop park

# the reference text of llama2.c (greedy from BOS) is the SQL text after the prompt
ref=$(sed -n '/^## TEXT/,/^## END TEXT/p' "$REPO/test/data/models/reference_greedy.txt" | sed '1d;$d')
sqltext=$(q -c "SELECT 'Once upon a time' || llm.generate('Once upon a time', model => 'cli', max_tokens => 252, temperature => 0)")
is "SQL greedy 256 tokens (with the prompt's 4) = llama2.c's reference text" "$sqltext" "$ref"

# tokenize: CLI ids = SQL ids
cli_ids=$("$CLI" tokenize -m "$STORIES" "Lily's mom said, \"Let's go to the park.\"" 2>/dev/null | tr -s ' \n' ' ' | sed 's/ $//')
sql_ids=$(q -c "SELECT array_to_string(llm.tokenize('Lily''s mom said, \"Let''s go to the park.\"', 'cli'), ' ')")
is "tokenize: CLI ids = SQL ids" "$sql_ids" "$cli_ids"

# embed: CLI vector = SQL vector (through float4's text form: to 1e-6)
"$CLI" embed -m "$STORIES" "Once upon a time" >"$tmp/cli_vec" 2>/dev/null
q -c "SELECT array_to_json(llm.embed('Once upon a time', 'cli'))" >"$tmp/sql_vec"
# JSON arrays of numbers -> one value per line (plain shell tools: no python needed)
json_values() { tr -d '[] \n' <"$1" | tr ',' '\n'; }
read -r na nb maxdiff < <(paste <(json_values "$tmp/cli_vec") <(json_values "$tmp/sql_vec") |
	awk -F'\t' '{ if ($1 != "") na++; if ($2 != "") nb++; d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d }
		END { printf "%d %d %g\n", na, nb, (na == nb && na > 0) ? m : 1 }')
echo "# embed: CLI $na values, SQL $nb values, largest difference $maxdiff"
check "embed: CLI vector = SQL vector (64 values, each within 1e-6)" \
	awk -v a="$na" -v b="$nb" -v m="$maxdiff" 'BEGIN { exit !(a == 64 && b == 64 && m + 0 < 1e-6) }'
exit 0
