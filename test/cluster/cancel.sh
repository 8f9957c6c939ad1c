#!/usr/bin/env bash
# cancel.sh -- a cancel request or statement_timeout stops a long generation
# within 100 ms and leaves the backend usable (the engine polls the interrupt
# flags between layers and tokens).
set -u
. "$(dirname "$0")/helpers.bash"

add_model "$STORIES"
q -c "CREATE EXTENSION IF NOT EXISTS pg_llm" 2>/dev/null
q -c "SELECT llm.load_model('cancel', 'stories260K.gguf', '{\"replace\": true}')" >/dev/null ||
	{ notok "load the model for the cancel tests"; exit 0; }

# Generation that runs for minutes: one long call per row, sampled so it
# rarely stops early.
LONG="SELECT count(llm.generate('Once upon a time', model => 'cancel', max_tokens => 2000,
       temperature => 1.5, top_k => 0, top_p => 1, min_p => 0, seed => i))
      FROM generate_series(1, 1000000) AS i"

# A single call is long enough to be cancelled inside the engine?
t0=$(now_ms)
q -c "SELECT length(llm.generate('Once upon a time', model => 'cancel', max_tokens => 2000, temperature => 1.5, top_k => 0, top_p => 1, min_p => 0, seed => 1))" >/dev/null
echo "# one 2000-token call takes $(( $(now_ms) - t0 )) ms (psql start included)"

# --- statement_timeout -------------------------------------------------------
out=$(q -c "SET statement_timeout = '500ms'" \
        -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
        -c "$LONG" \
        -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
        -c "SELECT llm.generate('Once upon a time', model => 'cancel', max_tokens => 8, temperature => 0)" 2>&1)
start=$(echo "$out" | sed -n 1p | cut -d. -f1)
end=$(echo "$out" | sed -n 3p | cut -d. -f1)
isnum() { [[ "$1" =~ ^[0-9]+$ ]]; }
check "statement_timeout cancels the generation (57014 message)" \
	grep -q "canceling statement due to statement timeout" <<<"$out"
if isnum "$start" && isnum "$end"; then
	late=$(( end - start - 500 ))
	echo "# statement ended $late ms after the 500 ms timeout"
	check "statement_timeout stops generation within 100 ms (late by $late ms)" test "$late" -ge 0 -a "$late" -lt 100
else
	notok "statement_timeout stops generation within 100 ms" "$out"
fi
want=$(q -c "SELECT llm.generate('Once upon a time', model => 'cancel', max_tokens => 8, temperature => 0)")
is "the backend generates again after the timeout" "$(echo "$out" | sed -n 4p)" "${want:-(no text)}"

# --- pg_cancel_backend -------------------------------------------------------
tmp=$(mktemp)
q -c "SELECT pg_backend_pid()" -c "$LONG" \
  -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
  -c "SELECT llm.generate('Once upon a time', model => 'cancel', max_tokens => 8, temperature => 0)" >"$tmp" 2>&1 &
bg=$!
for _ in $(seq 1 100); do
	pid=$(sed -n 1p "$tmp")
	[ -n "$pid" ] && break
	sleep 0.05
done
sleep 1
# the clock is read just before the cancel is sent (left-to-right target list)
sent=$(q -F ' ' -c "SELECT extract(epoch FROM clock_timestamp()) * 1000, pg_cancel_backend($pid)" | cut -d. -f1)
wait "$bg"
out=$(cat "$tmp")
rm -f "$tmp"
check "pg_cancel_backend cancels the generation" grep -q "canceling statement due to user request" <<<"$out"
ended=$(echo "$out" | grep -E '^[0-9]+(\.[0-9]+)?$' | sed -n 2p | cut -d. -f1)
if isnum "$sent" && isnum "$ended"; then
	late=$(( ended - sent ))
	echo "# the cancelled statement ended $late ms after the cancel request"
	check "cancel stops generation within 100 ms ($late ms)" test "$late" -ge 0 -a "$late" -lt 100
else
	notok "cancel stops generation within 100 ms" "$out"
fi
is "the backend generates again after the cancel" "$(echo "$out" | tail -n 1)" "${want:-(no text)}"
exit 0
