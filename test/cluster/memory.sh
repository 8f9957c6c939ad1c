#!/usr/bin/env bash
# memory.sh -- the sharing promise (DESIGN.md "Shared memory"): 8 backends that
# all ran llm.generate on one model loaded with llm.load_model together hold
# less than 1.5 x the model file in resident memory, counting Pss of the
# model's mapping (its DSM segment) in each backend.
set -u
. "$(dirname "$0")/helpers.bash"
N=8

add_model "$STORIES"
q -c "CREATE EXTENSION IF NOT EXISTS pg_llm" 2>/dev/null
q -c "SELECT llm.load_model('mem', 'stories260K.gguf', '{\"replace\": true}')" >/dev/null ||
	{ notok "load the model for the memory test"; exit 0; }

file_bytes=$(stat -c %s "$STORIES")
seg_kb=$(( (file_bytes + 4095) / 4096 * 4 ))
tmp=$(mktemp -d)
pids=()
for i in $(seq 1 $N); do
	q -c "SELECT pg_backend_pid()" \
	  -c "SELECT length(llm.generate('Once upon a time', model => 'mem', max_tokens => 64, temperature => 0)) > 0" \
	  -c "SELECT pg_sleep(60)" >"$tmp/$i" 2>&1 &
	pids+=($!)
done
# wait until every session has generated
for _ in $(seq 1 300); do
	done_n=0
	for i in $(seq 1 $N); do
		[ "$(sed -n 2p "$tmp/$i")" = t ] && done_n=$((done_n + 1))
	done
	[ "$done_n" -eq $N ] && break
	sleep 0.1
done
is "$N backends generated with the shared model" "$done_n" "$N"

total=0 mapped=0 touched=0 rss_list=""
for i in $(seq 1 $N); do
	pid=$(sed -n 1p "$tmp/$i")
	read -r kb n rss < <(pss_kb "$pid" '/dev/shm/PostgreSQL\.' "$seg_kb")
	total=$((total + kb))
	[ "$n" -eq 1 ] && mapped=$((mapped + 1))
	# generating reads every weight: most of the segment is resident in each
	[ "$rss" -ge $((seg_kb * 3 / 4)) ] && touched=$((touched + 1))
	rss_list="$rss_list $rss"
done
is "every backend maps the model's shared segment (one mapping of its size)" "$mapped" "$N"
echo "# Rss of the segment per backend (kB):$rss_list"
is "every backend has touched >= 3/4 of the segment (Rss), so Pss measures real use" "$touched" "$N"
limit=$(( file_bytes * 3 / 2 / 1024 ))
echo "# Pss of the model over $N backends: ${total} kB; file: $((file_bytes / 1024)) kB; limit ${limit} kB"
check "sum of Pss over $N backends (${total} kB) < 1.5 x model size (${limit} kB)" test "$total" -gt 0 -a "$total" -lt "$limit"
attached=$(q -c "SELECT backends FROM llm.models WHERE name = 'mem'")
check "llm.models counts the attached backends ($attached)" [ "$attached" -ge "$N" ]

kill "${pids[@]}" 2>/dev/null
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
wait 2>/dev/null
rm -rf "$tmp"
exit 0
