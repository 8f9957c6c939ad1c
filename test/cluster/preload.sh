#!/usr/bin/env bash
# preload.sh -- a second cluster with pg_llm.preload_models: the postmaster maps
# the model before forking, backends share it (Pss), it cannot be unloaded, a
# model in use by another backend cannot be unloaded either, and after a backend
# is killed with SIGKILL (the postmaster restarts all backends) both the
# preloaded model and a model loaded at run time are available again.
set -u
. "$(dirname "$0")/helpers.bash"

files=$(mktemp -d /tmp/pg_llm_preload.XXXXXX)
cp "$STORIES" "$files/stories260K.gguf"
chmod 755 "$files"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$files"
trap 'rm -rf "$files"' EXIT

(
cluster_start "pg_llm.preload_models = 'pre=$files/stories260K.gguf, bad=$files/missing.gguf'" ||
	{ notok "start a cluster with pg_llm.preload_models"; exit 0; }
trap 'cluster_stop; rm -rf "$files"' EXIT
add_model "$STORIES"
q -c "CREATE EXTENSION pg_llm"

greedy() { echo "SELECT llm.generate('Once upon a time', model => '$1', max_tokens => 32, temperature => 0)"; }
GREEDY=$(greedy pre)
DSM_GREEDY=$(greedy dsm)
is "the preloaded model is registered at start" \
	"$(q -c "SELECT name || ' ' || arch || ' ' || shared FROM llm.models WHERE name = 'pre'")" "pre llama true"
check "a preload entry whose file is missing is logged, not fatal" \
	grep -q 'could not open model file "'"$files"'/missing.gguf"' "$CLUSTER_DIR/server.log"
before=$(q -c "$GREEDY")
check "the preloaded model generates" test -n "$before"
# (load_model returns void, which psql -t prints as an empty line: load first)
check "a model can be loaded at run time beside the preloaded one" \
	q -c "SELECT llm.load_model('dsm', 'stories260K.gguf')"
is "it generates what the run-time loaded copy does" "${before:-(no text)}" "$(q -c "$DSM_GREEDY")"
check "unloading a preloaded model is refused" \
	grep -q 'cannot unload model "pre" because it was preloaded' <<<"$(q -c "SELECT llm.unload_model('pre')" 2>&1)"

# 8 backends on the preloaded model: its file mapping is shared
N=8
tmp=$(mktemp -d)
for i in $(seq 1 $N); do
	q -c "SELECT pg_backend_pid()" -c "$GREEDY" -c "SELECT length(($DSM_GREEDY)) > 0" \
	  -c "SELECT pg_sleep(60)" >"$tmp/$i" 2>&1 &
done
for _ in $(seq 1 300); do
	n=0
	for i in $(seq 1 $N); do [ "$(sed -n 3p "$tmp/$i")" = t ] && n=$((n + 1)); done
	[ "$n" -eq $N ] && break
	sleep 0.1
done
is "$N backends generated with the preloaded model" "$n" "$N"
file_bytes=$(stat -c %s "$files/stories260K.gguf")
file_kb=$(( (file_bytes + 4095) / 4096 * 4 ))
total=0 mapped=0 touched=0 rss_list=""
for i in $(seq 1 $N); do
	read -r kb m rss < <(pss_kb "$(sed -n 1p "$tmp/$i")" "$files/stories260K.gguf" "$file_kb")
	total=$((total + kb)); [ "$m" -eq 1 ] && mapped=$((mapped + 1))
	# the weights (all but the GGUF header and vocabulary) are read by generating
	[ "$rss" -ge $((file_kb * 3 / 4)) ] && touched=$((touched + 1))
	rss_list="$rss_list $rss"
done
is "every backend has the postmaster's mapping of the file" "$mapped" "$N"
echo "# Rss of the preloaded file per backend (kB):$rss_list"
is "every backend has touched >= 3/4 of the file (Rss), so Pss measures real use" "$touched" "$N"
limit=$(( file_bytes * 3 / 2 / 1024 ))
echo "# Pss of the preloaded file over $N backends: ${total} kB; file: $((file_bytes / 1024)) kB; limit ${limit} kB"
check "sum of Pss of the preloaded file over $N backends (${total} kB) < 1.5 x model size (${limit} kB)" \
	test "$total" -gt 0 -a "$total" -lt "$limit"

# another backend uses 'dsm': unloading it must fail with a clear error
out=$(q -c "SELECT llm.unload_model('dsm')" 2>&1)
check "unloading a model other backends use is refused (55006)" \
	grep -q 'model "dsm" is in use by [0-9]* other backend' <<<"$out"

# SIGKILL one backend: the postmaster restarts every backend
victim=$(sed -n 1p "$tmp/1")
kill -9 "$victim"
wait 2>/dev/null
rm -rf "$tmp"
for _ in $(seq 1 100); do
	"$PGBIN/pg_isready" -q && q -c "SELECT 1" >/dev/null 2>&1 && break
	sleep 0.1
done
check "the server accepts connections after the crash restart" q -c "SELECT 1"
is "after the restart both models are listed" \
	"$(q -c "SELECT string_agg(name, ',' ORDER BY name) FROM llm.models")" "dsm,pre"
is "the preloaded model generates the same text after the restart" "$(q -c "$GREEDY")" "${before:-(no text before the restart)}"
is "the run-time loaded model is reloaded on first use and generates the same text" \
	"$(q -c "$DSM_GREEDY")" "${before:-(no text before the restart)}"
check "the reload is logged" grep -q 'reloaded model "dsm"' "$CLUSTER_DIR/server.log"
is "llm.models shows the reloaded model's details" \
	"$(q -c "SELECT arch || ' ' || vocab FROM llm.models WHERE name = 'dsm'")" "llama 512"
check "a reloaded model can be unloaded" q -c "SELECT llm.unload_model('dsm')"
exit 0
)
exit 0
