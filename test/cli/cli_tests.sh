#!/usr/bin/env bash
# cli_tests.sh -- bin/pg_llm as scripts use it: exact output forms, reference
# outputs (llama2.c's greedy text, llama.cpp's tokenizer vectors and logits),
# and exit codes on bad input. Prints "ok - ..." / "not ok - ..." lines.
set -u
cd "$(dirname "$0")/../.."
PG_LLM=bin/pg_llm
D=test/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { if [ "$1" -eq 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }

# 1. stories260K: greedy continuation of "Once upon a time" is the rest of the
#    256-token text llama2.c documents.
sed -n '/^## TEXT/,/^## END TEXT/p' $D/models/reference_greedy.txt | sed '1d;$d' >"$tmp/ref_text"
printf '%s' "$(cat "$tmp/ref_text")" >"$tmp/ref_trimmed"          # no trailing newline
tail -c +17 "$tmp/ref_trimmed" >"$tmp/expected"                   # drop "Once upon a time"
$PG_LLM generate -m $D/models/stories260K.gguf -p "Once upon a time" -n 252 --temp 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
printf '%s' "$(cat "$tmp/out")" >"$tmp/out_trimmed"
cmp -s "$tmp/expected" "$tmp/out_trimmed"
ok $? "generate: stories260K greedy text equals llama2.c's (rc $rc)"
[ "$(head -c 1 "$tmp/out")" = "," ]
ok $? "generate: the prompt itself is not repeated"

# 2. tokenize: llama.cpp's vectors through the CLI, one string at a time from stdin
check_vectors() {   # model inp out label
	local model=$1 inp=$2 out=$3 label=$4 i=0 bad=0 line
	awk -v dir="$tmp/strs" 'BEGIN { RS = "\n__ggml_vocab_test__\n"; n = 0 }
		{ f = sprintf("%s.%03d", dir, n++); printf "%s", $0 > f; close(f) }' "$inp"
	while IFS= read -r line; do
		got=$($PG_LLM tokenize -m "$model" --no-special - <"$tmp/strs.$(printf %03d $i)")
		[ " $got" = "$line" ] || [ "$got" = "$line" ] || { bad=$((bad + 1)); echo "#   $label string $i: got [$got] want [$line]"; }
		i=$((i + 1))
	done <"$out"
	rm -f "$tmp"/strs.*
	[ "$bad" -eq 0 ] && [ "$i" -gt 40 ]
	ok $? "tokenize: $label vectors via the CLI ($i strings)"
}
V=$D/vocab/llama.cpp
check_vectors $V/ggml-vocab-llama-spm.gguf $V/ggml-vocab-llama-spm.gguf.inp $V/ggml-vocab-llama-spm.gguf.out llama-spm
check_vectors $D/vocab/hf/qwen3/tokenizer.json $V/ggml-vocab-qwen2.gguf.inp $V/ggml-vocab-qwen2.gguf.out qwen2

# 3. tokenize / detokenize forms
[ "$($PG_LLM tokenize -m $D/models/stories260K.gguf "Once upon a time")" = "1 403 407 261 378" ]
ok $? "tokenize: ids on one line separated by single spaces, BOS added"
[ "$($PG_LLM tokenize -m $D/models/stories260K.gguf --no-special "Once upon a time")" = "403 407 261 378" ]
ok $? "tokenize --no-special adds no BOS"
[ "$($PG_LLM detokenize -m $D/models/stories260K.gguf 1 403 407 261 378)" = "Once upon a time" ]
ok $? "detokenize inverts tokenize"
[ "$($PG_LLM tokenize -m $D/vocab/hf/qwen3/tokenizer.json --parse-special "<|im_start|>user")" = "151644 872" ]
ok $? "tokenize --parse-special turns special-token text into its id"

# 4. eval: logits of every position, float32 LE, equal to llama.cpp's within 1e-4
ids=$(sed -n 2p $D/fixtures/tiny-llama/inputs.txt)
$PG_LLM eval -m $D/models/tiny-llama-f32.gguf --ids "$ids" --logits-out "$tmp/logits.bin" 2>/dev/null
paste <(od -An -v -tf4 -w4 "$tmp/logits.bin") <(od -An -v -tf4 -w4 $D/fixtures/tiny-llama/f32/s1.logits.f32) |
	awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; n++ } END { printf "#   %d logits, max abs diff %g\n", n, m; exit !(n == 7 * 512 && m <= 1e-4) }'
ok $? "eval: tiny-llama f32 logits match llama.cpp within 1e-4"

# 5. embed: one JSON array per line, in input order
n=$($PG_LLM embed -m $D/fixtures/tiny-bert/tiny-bert-f32.gguf "first text" "second" | grep -c '^\[.*\]$')
[ "$n" = 2 ]
ok $? "embed: one JSON array per input"

# 6. info and errors
$PG_LLM info $D/models/stories260K.gguf | grep -q "llama"
ok $? "info: names the architecture"
$PG_LLM --version | grep -q "^pg_llm [0-9]"
ok $? "--version prints the version"
$PG_LLM generate -p x >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && [ -s "$tmp/err" ]
ok $? "generate without -m fails with a message (rc $rc)"
$PG_LLM info /nonexistent.gguf >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -q "nonexistent" "$tmp/err"
ok $? "a missing file fails with a message naming it (rc $rc)"
head -c 1000 $D/models/stories260K.gguf >"$tmp/trunc.gguf"
$PG_LLM generate -m "$tmp/trunc.gguf" -p x >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 0 ] && grep -qiE "truncat|corrupt|past the end" "$tmp/err"
ok $? "a truncated model fails with a message (rc $rc)"
$PG_LLM generate -m $D/models/stories260K.gguf -p x --temp abc >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ]
ok $? "a bad option value exits 2"
