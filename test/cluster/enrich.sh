#!/usr/bin/env bash
# enrich.sh -- CALL llm.enrich on 10,000 rows (embed task, tiny bert): a second
# session sees the progress in llm.jobs while it runs; the backend is killed
# midway (pg_terminate_backend), the job shows as interrupted, and a second
# CALL finishes it: every row filled exactly once (a trigger counts committed
# fills), with llm.embed's vector (checked on every 50th row),
# rows with a NULL input left NULL. Also the prompt-prefix cache figure: 100
# rows sharing a ~200-token prefix with pg_llm.prefix_cache_mb = 0 and 64
# (identical outputs asserted, the speed-up only printed).
set -u
. "$(dirname "$0")/helpers.bash"

BERT=$REPO/test/data/fixtures/tiny-bert/tiny-bert-f32.gguf
add_model "$BERT"
add_model "$STORIES"
q -c "CREATE EXTENSION IF NOT EXISTS pg_llm" 2>/dev/null
q -c "SELECT llm.load_model('enrich_bert', 'tiny-bert-f32.gguf', '{\"replace\": true}')" >/dev/null &&
q -c "SELECT llm.load_model('enrich_gen', 'stories260K.gguf', '{\"replace\": true}')" >/dev/null ||
	{ notok "load the models for the enrich tests"; exit 0; }

# 10,000 rows; every 100th input is NULL. fills counts the UPDATEs that set emb
# and committed (a rolled-back batch does not count).
q <<'SQL' >/dev/null 2>&1
DROP TABLE IF EXISTS enrich_docs;
CREATE TABLE enrich_docs (id int PRIMARY KEY, body text, emb real[], fills int NOT NULL DEFAULT 0);
INSERT INTO enrich_docs (id, body)
SELECT i, CASE WHEN i % 100 = 0 THEN NULL ELSE 'document ' || i || ' about ' || md5(i::text) END
FROM generate_series(1, 10000) AS i;
CREATE FUNCTION enrich_count_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.emb IS NULL AND NEW.emb IS NOT NULL THEN NEW.fills := OLD.fills + 1; END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER enrich_count BEFORE UPDATE ON enrich_docs FOR EACH ROW EXECUTE FUNCTION enrich_count_fill();
SQL

CALL_SQL="CALL llm.enrich('enrich_docs', 'body', 'emb', task => 'embed', model => 'enrich_bert', batch_size => 100)"
t0=$(now_ms)
log=$(mktemp)
CLUSTER_CLEANUP+=("$log")
q -c "$CALL_SQL" >"$log" 2>&1 &
bg=$!

# watch from a second session until the job has done some but not all rows
seen=""
for _ in $(seq 1 400); do
	seen=$(q -F ' ' -c "SELECT pid, rows_done, rows_total, state FROM llm.jobs
	                     WHERE source = 'enrich_docs' ORDER BY job_id DESC LIMIT 1")
	set -- $seen
	if [ $# -eq 4 ] && [ "$4" = running ] && [ "$2" -ge 1000 ]; then break; fi
	sleep 0.05
done
set -- $seen
if [ $# -eq 4 ] && [ "$2" -gt 0 ] && [ "$2" -lt "$3" ]; then
	ok "a second session sees the job running with 0 < rows_done ($2) < rows_total ($3)"
else
	notok "a second session sees the job running with 0 < rows_done < rows_total" "saw [$seen]"
fi
is "rows_total is the rows with an input and no output" "${3:-}" "9900"
pid=${1:-0}
q -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$bg"
echo "# first call killed after $(( $(now_ms) - t0 )) ms"
check "the CALL was terminated" grep -q "terminating connection due to administrator command" "$log"

# the job shows as interrupted; what was committed is kept
for _ in $(seq 1 100); do
	state=$(q -c "SELECT state FROM llm.jobs WHERE source = 'enrich_docs' ORDER BY job_id DESC LIMIT 1")
	[ "$state" = interrupted ] && break
	sleep 0.05
done
is "llm.jobs shows the killed job as interrupted" "$state" "interrupted"
read -r filled done_ < <(q -F ' ' -c "SELECT (SELECT count(emb) FROM enrich_docs), rows_done FROM llm.jobs
                                       WHERE source = 'enrich_docs' ORDER BY job_id DESC LIMIT 1")
echo "# after the kill: $filled rows filled, the job recorded $done_"
check "the committed batches are kept (filled = rows_done recorded, between 0 and 9900)" \
	test "${filled:-0}" -eq "${done_:--1}" -a "${filled:-0}" -gt 0 -a "${filled:-0}" -lt 9900

# a second CALL finishes the job
t1=$(now_ms)
out=$(q -c "$CALL_SQL" 2>&1)
echo "# second call: $(( $(now_ms) - t1 )) ms"
check "the second CALL ends with a done NOTICE" grep -q "NOTICE:  llm.enrich job [0-9]*: done, $(( 9900 - filled )) rows filled" <<<"$out"
check "the second CALL reports progress NOTICEs" grep -q "NOTICE:  llm.enrich job [0-9]*: [0-9]* of $(( 9900 - filled )) rows" <<<"$out"
res=$(q -F ' ' -c "SELECT count(emb), count(*) FILTER (WHERE fills = 1), max(fills),
                          count(*) FILTER (WHERE body IS NULL AND emb IS NULL)
                   FROM enrich_docs")
is "every row with an input filled exactly once; NULL inputs stay NULL" "$res" "9900 9900 1 100"
same=$(q -c "SELECT count(*) FROM enrich_docs WHERE id % 50 = 1 AND emb = llm.embed(body, 'enrich_bert')")
is "the vectors equal llm.embed's of the inputs (every 50th row)" "$same" "200"
jobs=$(q -F ' ' -c "SELECT state, rows_done, rows_total FROM llm.jobs WHERE source = 'enrich_docs' ORDER BY job_id")
is "llm.jobs: the interrupted job, then the finished one" "$(echo $jobs)" "interrupted $done_ 9900 done $(( 9900 - filled )) $(( 9900 - filled ))"
rate=$(q -c "SELECT rate FROM llm.jobs WHERE source = 'enrich_docs' ORDER BY job_id DESC LIMIT 1")
echo "# enrich rate: $rate rows/s (embed, tiny bert f32, batches of 100)"
q -c "DROP TABLE enrich_docs; DROP FUNCTION enrich_count_fill()" >/dev/null

# ---- the prompt-prefix cache: 100 rows sharing a ~200-token prefix ---------
q <<'SQL' >/dev/null 2>&1
DROP TABLE IF EXISTS prefix_rows;
CREATE TABLE prefix_rows AS
SELECT i, repeat('Once upon a time there was a little girl named Lily. ', 14) || 'Story ' || i || ':' AS prompt
FROM generate_series(1, 100) AS i;
SQL
ntok=$(q -c "SELECT min(llm.token_count(prompt, 'enrich_gen')) FROM prefix_rows")
run_prefix() {   # cache_mb -> prints ms and md5 of the outputs
	local t
	t=$(now_ms)
	h=$(q -c "SET pg_llm.prefix_cache_mb = $1" \
	      -c "SELECT md5(string_agg(llm.generate(prompt, 'enrich_gen', max_tokens => 8, temperature => 0), '|' ORDER BY i))
	          FROM prefix_rows")
	echo "$(( $(now_ms) - t )) $h"
}
read -r ms_off h_off < <(run_prefix 0)
read -r ms_on h_on < <(run_prefix 64)
is "llm.generate gives the same 100 outputs with and without the prefix cache" "$h_on" "$h_off"
echo "# prefix cache: 100 prompts of >= $ntok tokens sharing a prefix, 8 tokens each:" \
     "$ms_off ms without, $ms_on ms with (x$(awk -v a="$ms_off" -v b="$ms_on" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }'))"
q -c "DROP TABLE prefix_rows" >/dev/null
exit 0
