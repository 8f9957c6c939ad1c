#!/usr/bin/env bash
# run_all.sh -- the whole `make test`: C unit tests, the same under ASan+UBSan,
# pg_regress and cluster tests on one throwaway cluster. Ends with the line
# "N passed, N failed" summed over every suite; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
. test/lib/cluster.sh

export PLLM_COUNTS
PLLM_COUNTS=$(mktemp)
LOG=$(mktemp)
CLUSTER_CLEANUP=("$PLLM_COUNTS" "$LOG")
trap 'rm -f "${CLUSTER_CLEANUP[@]}"' EXIT

# Run a suite in the background and wait for it: bash defers its INT/TERM traps
# while a foreground child that handles SIGINT itself (psql sends a cancel and
# carries on) is running, so Ctrl-C would not stop the cluster until the end.
# `wait` is interrupted at once, so the trap stops and removes the cluster.
step() {
	"$@" >"$LOG" 2>&1 &
	wait $!
}

# Count a script's "ok - " / "not ok - " lines, echo them with a prefix.
count_lines() {   # prefix rc
	local p f
	sed "s|^|$1|" "$LOG"
	p=$(grep -c '^ok - ' "$LOG")
	f=$(grep -c '^not ok - ' "$LOG")
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "$p $f" >>"$PLLM_COUNTS"
}

echo "== unit tests"
test/run_unit.sh build/test/test_*
echo "== unit tests under ASan+UBSan"
PLLM_SUITE="unit under ASan+UBSan" ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1 test/run_unit.sh build/asan/test/test_*

echo "== CLI tests"
step test/cli/cli_tests.sh
count_lines "" $?

echo "== cluster: pg_regress and cluster tests"
if cluster_start; then
	step test/run_regress.sh
	cat "$LOG"
	for t in test/cluster/*.sh; do
		[ -e "$t" ] || continue
		step bash "$t"
		count_lines "[$(basename "$t")] " $?
	done
	cluster_stop
else
	echo "not ok - could not start the test cluster"
	echo "0 1" >>"$PLLM_COUNTS"
fi

read -r pass fail < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$PLLM_COUNTS")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
