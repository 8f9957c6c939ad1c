#!/usr/bin/env bash
# bench.sh -- `make bench`: generate random-weight models with real shapes
# (cached in build/bench/models), then print bandwidth, sgemm peak and per-model
# prefill/decode tokens/s and embeddings/s. Figures only; nothing is asserted.
# BENCH_MODELS="qwen2-0.5b:q8_0 ..." picks a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/bench/gen_model build/bench/bench build/bench/bench_batch
dir=build/bench/models
mkdir -p "$dir"
models=${BENCH_MODELS:-"qwen2-0.5b:f32 qwen2-0.5b:q8_0 qwen2-0.5b:q4_0 qwen2-0.5b:q4_k smollm2-135m:q8_0 minilm-l6:f32 minilm-l6:q8_0"}
files=()
for spec in $models; do
	shape=${spec%%:*} type=${spec##*:}
	f="$dir/$shape-$type.gguf"
	[ -f "$f" ] || { echo "generating $f"; build/bench/gen_model "$shape" "$type" "$f"; }
	files+=("$f")
done
echo "== pg_llm bench ($(nproc) cores; $(bin/pg_llm --version 2>/dev/null || echo 'bin/pg_llm not built'))"
build/bench/bench "${files[@]}"
# Issue 7's batch figures: 16 prompts batched vs sequential, and 100 rows sharing a
# 200-token prefix with and without the prefix cache (about 13 minutes; BENCH_BATCH=0 skips).
if [ "${BENCH_BATCH:-1}" != 0 ]; then
	f="$dir/qwen2-0.5b-q4_k.gguf"
	[ -f "$f" ] || build/bench/gen_model qwen2-0.5b q4_k "$f"
	build/bench/bench_batch "$f"
fi
